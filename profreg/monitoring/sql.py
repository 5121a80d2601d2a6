"""Small dialect-neutral SQL helpers (SQLite and PostgreSQL) for the reports."""
from __future__ import annotations

from datetime import date

from sqlalchemy import String, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class year_month(FunctionElement):  # noqa: N801
    """``year_month(date_col)`` → 'YYYY-MM' text."""

    type = String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month)
def _ym_pg(element, compiler, **kw):
    return f"to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _ym_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(list(element.clauses)[0], **kw)})"


def minus_years(d: date, years: int) -> date:
    """Same calendar day ``years`` earlier (29 February → 28 February)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)

AGE_GROUPS = ("<30", "30-39", "40-49", "50-59", "60+")


def age_group_case(birth_col, on: date):
    """CASE expression: the age group (AGE_GROUPS) of a birth date on ``on``."""
    return case(
        (birth_col > minus_years(on, 30), literal("<30")),
        (birth_col > minus_years(on, 40), literal("30-39")),
        (birth_col > minus_years(on, 50), literal("40-49")),
        (birth_col > minus_years(on, 60), literal("50-59")),
        else_=literal("60+"),
    )
