"""The signed-in user's own notifications: list and mark as read (resource ``notification``)."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..admin.base import ProtectedBaseView
from ..extensions import db
from .models import (
    CERT_EXPIRING,
    EXPORT_READY,
    IMPORT_DONE,
    REPORT_DUE,
    TRANSFER_OPENED,
    WORKER_BLOCKED,
    WORKER_UNBLOCKED,
)
from .services import import_of, mark_read, notice_text, report_of, unread_count, user_notifications

PAGE_SIZE = 50


def notice_url(notice) -> str | None:
    """The page of the record a notice concerns: the certificate, the worker's card, the transfers to
    close, the region's monthly report, the finished export."""
    if notice.kind == CERT_EXPIRING and notice.certificate_id:
        return url_for("certificates.details_view", id=notice.certificate_id)
    if notice.kind in (WORKER_BLOCKED, WORKER_UNBLOCKED, CERT_EXPIRING) and notice.worker_id:
        return url_for("workers.details_view", id=notice.worker_id)
    if notice.kind == TRANSFER_OPENED:
        return url_for("transfers.index", show="open")
    if notice.kind == REPORT_DUE:
        about = report_of(notice)
        return url_for("monitoring.index", period=about[0], scope=f"region:{about[1]}") if about else None
    if notice.kind == EXPORT_READY and notice.export_id:
        return url_for("exports.download", export_id=notice.export_id)
    if notice.kind == IMPORT_DONE:
        run = import_of(notice)
        if run is not None and run.report_path:
            return url_for("imports.report", run_id=run.id)
        return url_for("imports.index", id=run.id) if run is not None else None
    return None


class NotificationsView(ProtectedBaseView):
    resource = "notification"

    @expose("/")
    def index(self):
        try:
            page = max(int(request.args.get("page", 1)), 1)
        except ValueError:
            page = 1
        unread_only = request.args.get("unread") == "1"
        rows = db.session.execute(user_notifications(current_user, unread_only)
                                  .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).scalars().all()
        items = [(n, notice_text(n.notice), notice_url(n.notice)) for n in rows[:PAGE_SIZE]]
        return self.render("notifications/list.html", items=items, page=page, has_next=len(rows) > PAGE_SIZE,
                           unread_only=unread_only, unread=unread_count(current_user))

    @expose("/read", methods=("POST",))
    def read(self):
        if not access.can(current_user, "notification", access.EDIT):
            abort(403)
        if request.form.get("all") == "1":
            ids = None
        else:
            try:
                ids = [int(request.form["id"])]
            except (KeyError, ValueError):
                abort(400)
        mark_read(current_user, ids)  # only the user's own rows are ever touched; the request commits
        return redirect(url_for(".index"))


def register_views(admin):
    admin.add_view(NotificationsView(name=_l("Notifications"), endpoint="notifications", url="/admin/notifications"))



