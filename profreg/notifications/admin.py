"""The signed-in user's own notifications: list and mark as read (resource ``notification``)."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..admin.base import ProtectedBaseView
from ..extensions import db
from .services import mark_read, notice_text, unread_count, user_notifications

PAGE_SIZE = 50


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
        items = [(n, notice_text(n.notice)) for n in rows[:PAGE_SIZE]]
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



