"""Kazakhstan's working-day calendar and rule 8's entry deadline (docs/architecture.md "Vocabulary").

Rule 8 gives personnel services *three working days* from employment to enter a worker:

* ``entry_deadline(hired_on)``: the last day (Asia/Almaty) on which an entry for a hire on ``hired_on``
  is on time = the 3rd working day after the hire date (the hire day itself does not count), the whole
  of that day included;
* an entry is **late** when ``entered_at`` (stored as naive UTC) is at or after 00:00 Almaty of the day
  after the deadline (``entry_cutoff_utc``): ``entered_late`` in Python, ``late_entry_clause`` in SQL.
  The dashboard, the monthly report, the data-currency figures and the worklist all use these.

Working days: Monday to Friday, except public holidays (and their observed weekday when a holiday
falls on a weekend) known to the ``holidays`` package; ``WorkingDayOverride`` rows win over the
package, so the ministry can enter transfer decrees for years the package does not cover.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import holidays
from flask import current_app
from sqlalchemy import Date, DateTime, Select, and_, column, exists, false, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from ..clock import day_start_utc
from ..extensions import db
from ..workers.models import Employment
from .models import WorkingDayOverride

ENTRY_WORKING_DAYS = 3


class WorkingCalendar:
    """Working-day arithmetic over holidays KZ plus overrides (loaded once per instance)."""

    def __init__(self, overrides: dict[date, bool] | None = None):
        self._hol = holidays.country_holidays("KZ")
        self.overrides = dict(overrides or {})
        self._memo: dict[date, bool] = {}  # a year of deadlines asks about the same days again and again

    @classmethod
    def load(cls) -> WorkingCalendar:
        """Calendar with the overrides stored in the database."""

        rows = db.session.execute(select(WorkingDayOverride.day, WorkingDayOverride.is_working)).all()
        return cls({d: bool(w) for d, w in rows})

    def is_working_day(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        known = self._memo.get(d)
        if known is None:
            known = self._memo[d] = self._hol.is_working_day(d)
        return known

    def holiday_name(self, d: date) -> str | None:
        return self._hol.get(d)

    def on_or_after(self, d: date) -> date:
        """``d`` when it is a working day, else the next working day."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def nth_working_day(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself not counted), n >= 1."""
        if n < 1:
            raise ValueError("n must be >= 1")
        d, left = start, n
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d


def due_day(literal: date, calendar: WorkingCalendar | None = None) -> date:
    """The deadline of a report, forecast or request whose rule names ``literal`` (e.g. the 10th of the
    month): by the general rule on time limits, a deadline that falls on a non-working day moves to the
    next working day. ``DEADLINES_MOVE_TO_WORKING_DAY = False`` keeps the literal date (a ministry
    decision). The one place every deadline of the register is computed (the 3-working-day entry rule
    counts working days itself, so its deadline is always a working day)."""
    if not current_app.config.get("DEADLINES_MOVE_TO_WORKING_DAY", True):
        return literal
    return (calendar or WorkingCalendar.load()).on_or_after(literal)


def entry_deadline(hired_on: date, calendar: WorkingCalendar | None = None) -> date:
    """Last local day on which an entry for a hire on ``hired_on`` is on time (rule 8)."""
    return (calendar or WorkingCalendar.load()).nth_working_day(hired_on, ENTRY_WORKING_DAYS)


def working_days_overdue(hired_on: date, today: date, calendar: WorkingCalendar | None = None) -> int:
    """How many working days an entry for a hire on ``hired_on`` is overdue on ``today``: the working days
    after ``entry_deadline(hired_on)`` up to ``today`` (0 while the deadline has not passed). The
    reconciliation's "contract not entered" items show it."""
    cal = calendar or WorkingCalendar.load()
    d, n = entry_deadline(hired_on, cal), 0
    while d < today:
        d += timedelta(days=1)
        if cal.is_working_day(d):
            n += 1
    return n


def entry_cutoff_utc(hired_on: date, calendar: WorkingCalendar | None = None) -> datetime:
    """Naive UTC instant from which an entry for ``hired_on`` is late (local midnight after the deadline)."""
    return day_start_utc(entry_deadline(hired_on, calendar) + timedelta(days=1))


def entered_late(hired_on: date, entered_at: datetime, calendar: WorkingCalendar | None = None) -> bool:
    """Whether an entry made at ``entered_at`` (naive UTC) missed the deadline for a hire on ``hired_on``."""
    return entered_at >= entry_cutoff_utc(hired_on, calendar)


def entry_cutoffs(hire_dates: Iterable[date], calendar: WorkingCalendar | None = None):
    """Table ``(hire_date, cutoff)``: for each hire date the naive-UTC instant from which an entry is late.

    PostgreSQL: ``unnest`` of two array parameters (one cached statement, however many dates: a year of
    literal rows cost 60 ms of compiling per query). Elsewhere (SQLite has no ``VALUES ... AS t(cols)``):
    a UNION ALL of literal rows."""
    cal = calendar or WorkingCalendar.load()
    dates = sorted(set(hire_dates))
    cutoffs = [entry_cutoff_utc(hd, cal) for hd in dates]
    if db.session.get_bind().dialect.name == "postgresql":

        return (func.unnest(literal(dates, ARRAY(Date)), literal(cutoffs, ARRAY(DateTime)))
                .table_valued(column("hire_date", Date), column("cutoff", DateTime))
                .render_derived(name="entry_cutoff"))
    parts = [select(literal(hd, Date).label("hire_date"), literal(cut, DateTime).label("cutoff"))
             for hd, cut in zip(dates, cutoffs, strict=True)]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("entry_cutoff")


def late_entry_clause(hire_dates: Iterable[date] | Select, model=None, calendar: WorkingCalendar | None = None):
    """SQL on an employment entity (``Employment`` or an alias): the episode was entered late.

    ``hire_dates`` are the hire dates the query can meet: an iterable of dates, or a SELECT of them
    (run here, once). Episodes hired on another date never count as late, so pass every date the
    query's episodes may have. An ``EXISTS`` over the cutoffs: PostgreSQL runs it as a hash semi-join."""
    model = Employment if model is None else model
    if isinstance(hire_dates, Select):
        hire_dates = db.session.execute(hire_dates).scalars().all()
    dates = {d for d in hire_dates if d is not None}
    if not dates:
        return false()
    cut = entry_cutoffs(dates, calendar)
    return exists().where(and_(cut.c.hire_date == model.hire_date, model.entered_at >= cut.c.cutoff))


def days(first: date, last: date) -> list[date]:
    """Every calendar day from ``first`` to ``last`` (for ``late_entry_clause`` over a range of hires)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
