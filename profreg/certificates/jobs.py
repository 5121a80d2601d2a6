"""RQ entry points of the certificate life-cycle (tiny: open the app context, call services).

* ``sweep_job(today=None)``: the daily sweep (unblock, block, warn, digest, then mail delivery),
  recorded in ``job_run``; an exception marks the run failed and is re-raised so RQ retries it.
* ``trigger_sweep()``: what ``rq cron`` enqueues; it enqueues ``sweep_job`` with ``Retry``.
* ``deliver_mail()``: sends due outbox rows (retries failed mails with back-off).
"""
from __future__ import annotations

import contextlib
from datetime import date

from rq import Queue, get_current_job

from .. import clock
from ..extensions import db
from ..jobs.models import FAILED, FINISHED, RUNNING, JobRun
from ..jobs.queue import enqueue, retry_policy
from ..jobs.runtime import job_context
from ..notifications.mail import deliver_pending
from ..uow import unit_of_work
from . import services


def _rq_job_id() -> str | None:
    try:

        job = get_current_job()
    except Exception:  # noqa: BLE001 - not inside an RQ worker
        return None
    return job.id if job is not None else None


def run_sweep(today: date | None = None, deliver: bool = True, rq_job_id: str | None = None) -> dict:
    """The sweep inside an app context; commits after each step. Returns the counts."""

    frozen = clock.frozen(today) if today is not None and clock.today() != today else contextlib.nullcontext()
    with frozen:
        today = clock.today()
        # Units of work: the run record, then each sweep step (a crash loses one step at most; the
        # steps are idempotent), then the run's outcome.
        with unit_of_work():
            run = JobRun(kind="sweep", run_date=today, state=RUNNING, rq_job_id=rq_job_id or _rq_job_id(),
                         started_at=clock.utcnow_naive())
            db.session.add(run)
            db.session.flush()
            run_id = run.id
        try:
            counts = services.sweep(today, each_step=unit_of_work)
            mail = deliver_pending() if deliver else {"sent": 0, "failed": 0}
        except Exception as exc:
            with unit_of_work():
                run = db.session.get(JobRun, run_id)
                run.state = FAILED
                run.failures = (run.failures or 0) + 1
                run.error = f"{type(exc).__name__}: {exc}"[:4000]
                run.finished_at = clock.utcnow_naive()
            raise
        with unit_of_work():
            run = db.session.get(JobRun, run_id)
            result = counts.as_dict()
            result.update(mails_sent=mail["sent"], mails_failed=mail["failed"], run_id=run_id)
            for k in ("warned", "blocked", "unblocked", "notifications", "mails_queued", "mails_sent"):
                setattr(run, k, result[k])
            run.failures = mail["failed"]
            run.state = FINISHED
            run.finished_at = clock.utcnow_naive()
        return result


def sweep_job(today: str | None = None) -> dict:
    """RQ entry point of the daily sweep; ``today`` as YYYY-MM-DD (None: today in Almaty)."""
    day = date.fromisoformat(today) if today else None
    with job_context():
        return run_sweep(day)


def trigger_sweep() -> str:
    """Enqueued by ``rq cron``: enqueue the sweep itself with Retry (cron jobs cannot carry one)."""

    with job_context():
        current = get_current_job()
        if current is None:
            return enqueue(sweep_job).id
        q = Queue(current.origin, connection=current.connection)
        return q.enqueue(sweep_job, retry=retry_policy(), job_timeout=3600, failure_ttl=30 * 24 * 3600).id


def deliver_mail() -> dict:
    """Send due mails of the outbox; a run that attempted something is recorded in job_run."""

    with job_context():
        out = deliver_pending()
        if out["sent"] or out["failed"]:
            now = clock.utcnow_naive()
            with unit_of_work():
                db.session.add(JobRun(kind="mail", run_date=clock.today(), state=FINISHED, started_at=now,
                                      finished_at=now, mails_sent=out["sent"], failures=out["failed"],
                                      rq_job_id=_rq_job_id()))
        return out
