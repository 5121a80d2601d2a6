"""Locale helpers shared by models and views (the locale selector itself lives here too)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from flask import current_app, g, has_request_context, request, request_started, session
from flask_babel import get_locale, gettext, refresh, to_user_timezone
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


# --- how values are shown: ONE set of functions for pages, reports, charts and exports ---------------
# (docs/formats.md). Dates are dd.mm.yyyy in every language (kk, ru and en alike: the register is
# Kazakhstan's, and one format everywhere is what its readers asked for); moments are dd.mm.yyyy HH:MM
# in the user's time zone (Asia/Almaty, BABEL_DEFAULT_TIMEZONE; stored values are naive UTC); months and
# quarters are worded by the locale ("ноябрь 2026 г.", "2026 ж. қараша", "November 2026"; "I квартал
# 2027 г.", "2027 ж. I тоқсан", "Q1 2027"); numbers carry the locale's separators ("1 234,5" in kk and
# ru, "1,234.5" in en). Templates use them as Jinja filters, Python code imports them from here.

DATE_FORMAT = "%d.%m.%Y"
DATETIME_FORMAT = "%d.%m.%Y %H:%M"
_ZONE = ZoneInfo("Asia/Almaty")
ROMAN = ("I", "II", "III", "IV")


def _lang() -> str:
    try:
        loc = get_locale()
    except Exception:  # outside an app context
        loc = None
    return str(loc) if loc is not None else "ru"


def local_time(value: datetime) -> datetime:
    """A stored moment (naive = UTC) in the user's time zone (Asia/Almaty unless configured)."""
    try:
        return to_user_timezone(value)
    except RuntimeError:  # outside an app context
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(_ZONE)


def fmt_date(value) -> str:
    """A date as dd.mm.yyyy (a datetime: its day in the user's time zone); '' for None. Text that is
    an ISO date (a snapshot's) is shown the same way; other text passes through."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return local_time(value).strftime(DATE_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, str):
        try:
            return (datetime.fromisoformat(value) if "T" in value or " " in value
                    else date.fromisoformat(value)).strftime(DATE_FORMAT)
        except ValueError:
            return value
    return str(value)


def fmt_datetime(value) -> str:
    """A moment as dd.mm.yyyy HH:MM in the user's time zone; a plain date as dd.mm.yyyy."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return local_time(value).strftime(DATETIME_FORMAT)
    return fmt_date(value)


def fmt_decimal(value) -> str:
    """A number with the locale's separators ("1 234,5" in kk/ru, "1,234.5" in en); the stored
    scale is kept, so an FTE of 0.50 shows as 0,50."""

    if value is None:
        return ""
    return format_decimal(value, locale=_lang(), decimal_quantization=False)


def fmt_number(value) -> str:
    """An integer or decimal with the locale's grouping: "12 345" (kk, ru), "12,345" (en); other
    values (text, None) pass through unchanged."""

    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return str(value)
    return fmt_decimal(value)


def fmt_percent(value, digits: int = 1) -> str:
    """A share given in percent (97.5) as the locale writes it: "97,5 %" (kk, ru), "97.5%" (en)."""
    if value is None:
        return ""
    locale = Locale.parse(_lang())
    pattern = locale.percent_formats[None].pattern  # "#,##0 %" (ru, kk), "#,##0%" (en)
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return format_percent(Decimal(str(value)) / 100, pattern, locale=locale)


def fmt_month(value) -> str:
    """A month ("2026-11", or a date in it) as the locale says it: "ноябрь 2026 г." (ru),
    "2026 ж. қараша" (kk), "November 2026" (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
        if not m:
            return value
        value = date(int(m.group(1)), int(m.group(2)), 1)
    return format_skeleton("yMMMM", value, locale=_lang())


#: CLDR skeleton of a quarter per language: the short "Q1 2027" in English, the full name elsewhere
_QUARTER_SKELETON = {"en": "yQ"}


def fmt_quarter(year: int, quarter: int) -> str:
    """A quarter as the locale says it, from Babel's CLDR data: "2027 ж. I тоқсан" (kk), "Q1 2027" (en),
    "I квартал 2027 г." (ru: CLDR writes "1-й квартал"; the Russian official style numbers quarters in
    Roman numerals, as the Kazakh data does, though with the Cyrillic letter "І": the number is always
    the Latin Roman numeral)."""
    lang = _lang()
    locale = Locale.parse(lang)
    text = format_skeleton(_QUARTER_SKELETON.get(locale.language, "yQQQQ"), date(year, 3 * quarter - 2, 1),
                           locale=locale)
    name = locale.quarters["format"]["wide"][quarter]
    roman = re.sub(r"^\S+", ROMAN[quarter - 1], name)  # the name's first word is its number (kk: Cyrillic "І")
    return text.replace(name, roman) if locale.language != "en" else text


def fmt_period(value) -> str:
    """A reporting or planning period in words: "2027Q1" → a quarter, "2026-11" → a month, "2027" →
    the year; anything else unchanged."""
    if value is None or value == "":
        return ""
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})Q([1-4])", text)
    if m:
        return fmt_quarter(int(m.group(1)), int(m.group(2)))
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return fmt_month(text)
    if re.fullmatch(r"\d{4}", text):
        return gettext("%(year)s (year)", year=text)
    return text


def lang_url(code: str) -> str:
    """The current page in language ``code``: same path and query (filters, page, ``next``), new ``lang``."""

    if not has_request_context():
        return f"?lang={code}"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
    return f"{request.path}?{urlencode(args)}"


#: Jinja filters for templates: ``{{ d|fmt_date }}``, ``{{ ts|fmt_datetime }}``, ``{{ n|fmt_number }}``,
#: ``{{ p|fmt_percent }}``, ``{{ '2026-11'|fmt_month }}``, ``{{ '2027Q1'|fmt_period }}``,
#: ``{{ code|lang_url }}`` (the language switcher's links).
jinja_filters = {"fmt_date": fmt_date, "fmt_datetime": fmt_datetime, "fmt_number": fmt_number,
                 "fmt_percent": fmt_percent, "fmt_month": fmt_month, "fmt_period": fmt_period,
                 "lang_url": lang_url}
