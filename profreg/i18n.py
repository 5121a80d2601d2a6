"""Locale helpers shared by models and views (the locale selector itself lives here too)."""
from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from flask import current_app, g, has_request_context, request, request_started, session
from flask_babel import format_date, format_time, get_locale, refresh
from flask_login import current_user


def _fresh_locale(sender, **extra) -> None:
    """Every request selects its locale afresh. Flask-Babel caches the locale on ``g``; a request
    served inside an app context that is already pushed (the test client, the CLI) shares that ``g``
    and would otherwise keep the previous request's language."""
    refresh()


request_started.connect(_fresh_locale)


def current_lang() -> str:
    """'kk', 'ru' or 'en' for the current request (default locale outside requests)."""
    try:
        loc = get_locale()
    except Exception:  # outside an app context
        loc = None
    lang = loc.language if loc is not None else "ru"
    return lang if lang in ("kk", "ru", "en") else "ru"


def select_locale() -> str:
    """?lang= → the language chosen on the sign-in page (for that session) → the user's saved
    preference → Accept-Language → configured default."""
    langs = current_app.config.get("LANGUAGES", ("kk", "ru", "en"))
    if has_request_context() and g.get("profreg_api"):
        # the API (profreg/api): Accept-Language only, no session, no saved preference
        return request.accept_languages.best_match(langs) or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
    if has_request_context():
        asked = request.args.get("lang")
        if asked in langs:
            session["lang"] = asked
            g.profreg_lang_asked = asked  # remembered for the user by ``remember_language``
            return asked

        signed_in = getattr(current_user, "is_authenticated", False)
        if signed_in and session.get("lang_pinned") and session.get("lang") in langs:
            return session["lang"]  # chosen on the sign-in page (auth.web._keep_login_language)
        saved = getattr(current_user, "locale", None) if signed_in else None
        if saved in langs:
            return saved
        if session.get("lang") in langs:
            return session["lang"]
        best = request.accept_languages.best_match(langs)
        if best:
            return best
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")


def remember_language(response):
    """After a request that asked for a language (``?lang=`` on a GET: the switcher's links), save it
    as the signed-in user's choice; the request's unit of work commits it with the rest."""

    asked = g.pop("profreg_lang_asked", None)
    if asked and request.method == "GET" and response.status_code < 400 \
            and getattr(current_user, "is_authenticated", False) and getattr(current_user, "locale", None) != asked:
        current_user.locale = asked
    return response


# --- locale-aware display of dates and numbers (Flask-Admin lists and details, templates) ----------

def fmt_date(value) -> str:
    """A date (or the date part of a datetime, in the user's time zone) in the current locale:
    kk "2026 ж. 22 нау.", ru "22 мар. 2026 г.", en "Mar 22, 2026"."""

    if value is None:
        return ""
    if isinstance(value, datetime):  # Flask-Babel moves it to the user's time zone first
        return format_date(value, "medium")
    # A plain date: Babel's own formatting, remembered per locale and date (a list page formats one
    # date per row; Flask-Babel looks the locale and pattern up again for each).
    return _medium_date(str(get_locale() or "ru"), value)


@functools.lru_cache(maxsize=65536)
def _medium_date(locale: str, value) -> str:
    return babel_format_date(value, "medium", locale=locale)


def fmt_datetime(value) -> str:
    """A timestamp (naive values are UTC, shown in Asia/Almaty) as medium date + short time."""

    if value is None:
        return ""
    return f"{format_date(value, 'medium')}, {format_time(value, 'short')}"


def fmt_decimal(value) -> str:
    """A number with the locale's separators ("1 234,5" in kk/ru, "1,234.5" in en); the stored
    scale is kept, so an FTE of 0.50 shows as 0,50."""

    if value is None:
        return ""
    return format_decimal(value, locale=get_locale() or "ru", decimal_quantization=False)


def fmt_number(value) -> str:
    """An integer or decimal with the locale's grouping: "12 345" (kk, ru), "12,345" (en); other
    values (text, None) pass through unchanged."""

    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return str(value)
    return fmt_decimal(value)


def lang_url(code: str) -> str:
    """The current page in language ``code``: same path and query (filters, page, ``next``), new ``lang``."""

    if not has_request_context():
        return f"?lang={code}"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
    return f"{request.path}?{urlencode(args)}"


#: Jinja filters for templates: ``{{ d|fmt_date }}``, ``{{ ts|fmt_datetime }}``, ``{{ n|fmt_number }}``,
#: ``{{ code|lang_url }}`` (the language switcher's links).
jinja_filters = {"fmt_date": fmt_date, "fmt_datetime": fmt_datetime, "fmt_number": fmt_number,
                 "lang_url": lang_url}
