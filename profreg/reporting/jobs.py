"""RQ entry point of the reporting reminders (tiny: open the app context, call the service, commit).

``reminders_job(today=None)``: what ``rq cron`` enqueues every morning (``profreg.jobs.cron``); the
reminders of the day, each sent once however often it runs; the run is recorded in ``job_run``.
"""
from __future__ import annotations

import contextlib
from datetime import date

from .. import clock
from ..extensions import db
from ..jobs.models import FINISHED, JobRun
from ..jobs.runtime import job_context
from ..uow import unit_of_work
from . import services


def reminders_job(today: str | None = None) -> dict:
    """Send the reminders due on ``today`` (YYYY-MM-DD; None: today in Almaty). Returns the counts."""
    with job_context():
        day = date.fromisoformat(today) if today else None
        frozen = clock.frozen(day) if day is not None and clock.today() != day else contextlib.nullcontext()
        with frozen:
            started = clock.utcnow_naive()
            with unit_of_work():
                counts = services.send_reminders(clock.today())
                db.session.add(JobRun(kind="reminders", run_date=clock.today(), state=FINISHED, started_at=started,
                                      finished_at=clock.utcnow_naive(), notifications=counts["notifications"],
                                      mails_queued=counts["mails_queued"]))
            return counts
