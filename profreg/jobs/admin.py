"""Job history for ministry and admin (resource ``job_history``): last sweep, counts, failures."""
from __future__ import annotations

from flask import request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..admin.base import ProtectedBaseView
from ..extensions import db
from .models import FAILED, FINISHED, RUNNING, JobRun

STATE_LABELS = {RUNNING: _l("running"), FINISHED: _l("finished"), FAILED: _l("failed")}
KIND_LABELS = {"sweep": _l("Certificate sweep"), "mail": _l("Mail delivery"), "reminders": _l("Reporting reminders")}


class JobHistoryView(ProtectedBaseView):
    resource = "job_history"

    @expose("/")
    def index(self):
        try:
            limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
        except ValueError:
            limit = 100
        runs = db.session.execute(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
                                  .limit(limit)).scalars().all()
        last = db.session.execute(select(JobRun).where(JobRun.kind == "sweep")
                                  .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).scalar()
        return self.render("jobs/history.html", runs=runs, last=last,
                           state_labels={k: str(v) for k, v in STATE_LABELS.items()},
                           kind_labels={k: str(v) for k, v in KIND_LABELS.items()})


def register_views(admin):
    admin.add_view(JobHistoryView(name=_l("Job history"), endpoint="job_history", url="/admin/jobs",
                                  category=_l("System")))
