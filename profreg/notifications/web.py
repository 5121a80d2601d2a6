"""Template global for the navbar: the signed-in user's unread notification count."""
from __future__ import annotations


def register(app):
    from flask_login import current_user

    def unread_notification_count() -> int:
        from .services import unread_count

        try:
            return unread_count(current_user)
        except Exception:  # noqa: BLE001 - the navbar must never break a page
            return 0

    app.jinja_env.globals["unread_notification_count"] = unread_notification_count
