"""The user's own background exports (``admin/exporting.py``): progress and download."""
from __future__ import annotations

from pathlib import Path

from flask import abort, request, send_file
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..jobs.models import DONE, FAILED, RUNNING, ExportFile
from .base import ProtectedBaseView
from .exporting import SUFFIX, keep_hours
from .formatting import request_memo

STATE_LABELS = {"queued": _l("waiting"), RUNNING: _l("in progress"), DONE: _l("ready"), FAILED: _l("failed")}


class ExportsView(ProtectedBaseView):
    """The signed-in user's own background exports: progress (the page refreshes itself while one
    runs), the download of a finished file until it expires. Nobody sees another user's exports."""

    def is_visible(self):
        # in the menu once the user has an export kept here (one indexed probe per page, memoised)
        return request_memo("has_exports", lambda: current_user.is_authenticated and db.session.execute(
            self._mine().where(ExportFile.expires_at >= clock.utcnow_naive()).limit(1)).first() is not None)

    def _mine(self):
        return select(ExportFile).where(ExportFile.user_id == current_user.id)

    @expose("/")
    def index(self):
        now = clock.utcnow_naive()
        rows = db.session.execute(self._mine().where(ExportFile.expires_at >= now)
                                  .order_by(ExportFile.created_at.desc(), ExportFile.id.desc()).limit(50)).scalars().all()
        running = any(e.state in ("queued", RUNNING) for e in rows)
        return self.render("exports/list.html", rows=rows, running=running, highlight=request.args.get("id", type=int),
                           state_labels={k: str(v) for k, v in STATE_LABELS.items()}, keep_hours=keep_hours())

    @expose("/download/<int:export_id>/")
    def download(self, export_id: int):
        export = db.session.execute(self._mine().where(ExportFile.id == export_id)).scalar()
        if export is None or export.state != DONE or not export.path or export.expires_at < clock.utcnow_naive() \
                or not Path(export.path).exists():
            abort(404)
        name = f"{export.title} {export.created_at:%Y-%m-%d %H%M}{SUFFIX[export.export_type]}"
        return send_file(export.path, as_attachment=True, download_name=name, max_age=0)


def register_views(admin) -> None:
    admin.add_view(ExportsView(name=_l("My exports"), endpoint="exports", url="/admin/exports"))



__all__ = ["ExportsView", "register_views"]
