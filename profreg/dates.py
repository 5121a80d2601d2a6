"""Date arithmetic shared by the domains: calendar months in Python, day offsets in SQL.

``days_between`` and ``days_after`` compile to the native date arithmetic of PostgreSQL and to
julianday()/date() on SQLite, so the same query runs on both.
"""
from __future__ import annotations

import calendar
import re
from datetime import date

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def add_months(d: date, months: int) -> date:
    """``d`` shifted by ``months`` calendar months (negative goes back); the day is clamped to the
    last day of the target month (31 Dec + 2 months = 28 or 29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


class days_between(FunctionElement):
    """``a - b`` in whole days, for DATE columns or literals, on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_pg(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"(CAST({compiler.process(a, **kw)} AS DATE) - CAST({compiler.process(b, **kw)} AS DATE))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"CAST(julianday({compiler.process(a, **kw)}) - julianday({compiler.process(b, **kw)}) AS INTEGER)"


class days_after(FunctionElement):
    """``date + n days`` as a DATE (``n`` an integer expression), on SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True


@compiles(days_after)
def _days_after_pg(element, compiler, **kw):
    d, n = list(element.clauses)
    return f"(CAST({compiler.process(d, **kw)} AS DATE) + CAST({compiler.process(n, **kw)} AS INTEGER))"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element, compiler, **kw):
    d, n = list(element.clauses)
    return f"date({compiler.process(d, **kw)}, CAST({compiler.process(n, **kw)} AS TEXT) || ' days')"


# --- typed dates: one parser for every date a person types (panel forms, filters, CLI) -------------

#: the format a date is typed and shown in, in every language of the panel (docs/formats.md)
DISPLAY_FORMAT = "%d.%m.%Y"
_DOTTED = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str | None) -> date | None:
    """A date typed by a person: ``dd.mm.yyyy`` (also ``d.m.yyyy``, as Excel writes it, and
    ``dd/mm/yyyy``) or ISO ``yyyy-mm-dd``. Empty text is ``None``; anything else (a two-digit year,
    31.02.2026, words) raises ``ValueError``."""
    if text is None or not str(text).strip():
        return None
    text = str(text)
    m = _DOTTED.match(text)
    if m:
        day, month, year = (int(g) for g in m.groups())
    else:
        m = _ISO.match(text)
        if not m:
            raise ValueError(text)
        year, month, day = (int(g) for g in m.groups())
    if year < 1000:
        raise ValueError(text)
    return date(year, month, day)  # ValueError for a day the month does not have


def show_date(value: date | None) -> str:
    """``dd.mm.yyyy`` (empty for None): how a date is typed back into a form."""
    return value.strftime(DISPLAY_FORMAT) if value is not None else ""
