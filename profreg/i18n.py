"""Locale helpers shared by models and views (the locale selector itself lives here too)."""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale


def current_lang() -> str:
    """'kk', 'ru' or 'en' for the current request (default locale outside requests)."""
    try:
        loc = get_locale()
    except Exception:  # outside an app context
        loc = None
    lang = loc.language if loc is not None else "ru"
    return lang if lang in ("kk", "ru", "en") else "ru"


def select_locale() -> str:
    """?lang= → the user's saved preference → Accept-Language → configured default."""
    langs = current_app.config.get("LANGUAGES", ("kk", "ru", "en"))
    if has_request_context():
        asked = request.args.get("lang")
        if asked in langs:
            session["lang"] = asked
            from flask_login import current_user

            if getattr(current_user, "is_authenticated", False) and getattr(current_user, "locale", None) != asked:
                from .extensions import db

                current_user.locale = asked
                db.session.commit()
            return asked
        from flask_login import current_user

        saved = getattr(current_user, "locale", None) if getattr(current_user, "is_authenticated", False) else None
        if saved in langs:
            return saved
        if session.get("lang") in langs:
            return session["lang"]
        best = request.accept_languages.best_match(langs)
        if best:
            return best
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
