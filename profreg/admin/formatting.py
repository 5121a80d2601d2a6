"""How the panel shows values: dates and numbers in the reader's language (Babel), IINs masked for
associations, blocked workers flagged, and a per-request memo for answers asked once per row.
Presentation only: nothing here decides who sees what (``profreg/access.py``)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model.typefmt import DETAIL_FORMATTERS
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import access
from ..i18n import fmt_date, fmt_datetime, fmt_decimal


def request_memo(key, make):
    """``make()`` once per request: a list page asks the same question (may this user see IINs?
    which views may they open? how is "Active" said in their language?) for every row and menu
    item. Outside a request it is simply ``make()``."""
    if not has_request_context():
        return make()
    memo = g.setdefault("profreg_memo", {})
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _mask_iins() -> bool:
    return request_memo("mask_iin", lambda: access.mask_for(current_user))


def status_labels() -> tuple[str, str]:
    """(blocked, active) in the current language (one language per request)."""
    return request_memo("status_labels", lambda: (_("Blocked"), _("Active")))


def sex_label(sex: str | None) -> str:
    male, female = request_memo("sex_labels", lambda: (_("Male"), _("Female")))
    return male if sex == "M" else female


def iin_formatter(view, context, model, name):
    """IIN cell (``iin`` or ``worker.iin``): masked to the last 4 digits for associations."""
    obj = model.worker if name.startswith("worker.") else model
    iin = getattr(obj, "iin", None)
    return access.mask_iin(iin) if _mask_iins() else (iin or "")


def blocked_badge(view, context, model, name):
    """Status cell: a red badge for blocked workers (rule 14.5), plain text otherwise."""
    worker = model.worker if name.startswith("worker.") else model
    blocked, active = status_labels()
    if worker is not None and worker.status == "blocked":
        return Markup('<span class="badge badge-blocked">{}</span>').format(blocked)
    return active


def blocked_export(view, context, model, name):
    worker = model.worker if name.startswith("worker.") else model
    blocked, active = status_labels()
    return blocked if worker is not None and worker.status == "blocked" else active


def _bool_fmt(view, value, name):
    # Flask-Admin's own check icon carries an English "true"/"false" title; say it in the locale.
    icon = "fa-check-circle" if value else "fa-minus-circle"
    label = _("Yes") if value else _("No")
    return Markup('<span class="fa {}" title="{}"></span><span class="sr-only">{}</span>').format(icon, label, label)


# datetime before date: the first isinstance match wins.
_BY_TYPE = {datetime: lambda v, value, n: fmt_datetime(value),
            date: lambda v, value, n: fmt_date(value),
            Decimal: lambda v, value, n: fmt_decimal(value),
            float: lambda v, value, n: fmt_decimal(value)}
#: ``column_type_formatters`` for every model view (exports keep ISO dates: they are data).
type_formatters: dict = {**_BY_TYPE, **DEFAULT_FORMATTERS, bool: _bool_fmt}
#: ``column_type_formatters_detail`` for every model view.
type_formatters_detail: dict = {**_BY_TYPE, **DETAIL_FORMATTERS, bool: _bool_fmt}
