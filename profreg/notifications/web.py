"""Template global for the navbar: the signed-in user's unread notification count."""
from __future__ import annotations

from flask_login import current_user

from .. import access
from .services import unread_count


def register(app):
    def unread_notification_count() -> int:
        try:
            return unread_count(current_user)
        except Exception:  # noqa: BLE001 - the navbar must never break a page
            return 0

    def may_read_notifications() -> bool:  # a service account (integration) has no notifications page
        return access.can(current_user, "notification", access.LIST)

    app.jinja_env.globals["unread_notification_count"] = unread_notification_count
    app.jinja_env.globals["may_read_notifications"] = may_read_notifications
