"""Kazakhstan's working-day calendar: the ``holidays`` KZ calendar plus the ministry's overrides.

Rule 8 gives personnel services *three working days* from employment to enter a worker. We define:

* the hire date itself does not count; the deadline is the 3rd working day after the hire date
  (``entry_deadline(hire) = nth_working_day(hire, 3)``), the whole of that day (Asia/Almaty) included;
* an entry is *on time* when ``entered_at`` (stored as naive UTC) falls on or before the deadline's
  local date, and *late* otherwise.

Working days: Monday to Friday, except public holidays (and their observed weekday when a holiday
falls on a weekend) known to the ``holidays`` package; ``WorkingDayOverride`` rows win over the
package, so the ministry can enter transfer decrees for years the package does not cover.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
from sqlalchemy import select

from .. import clock
from ..extensions import db

ENTRY_WORKING_DAYS = 3


class WorkingCalendar:
    """Working-day arithmetic over holidays KZ plus overrides (loaded once per instance)."""

    def __init__(self, overrides: dict[date, bool] | None = None):
        self._hol = holidays.country_holidays("KZ")
        self.overrides = dict(overrides or {})

    @classmethod
    def load(cls) -> WorkingCalendar:
        """Calendar with the overrides stored in the database."""
        from .models import WorkingDayOverride

        rows = db.session.execute(select(WorkingDayOverride.day, WorkingDayOverride.is_working)).all()
        return cls({d: bool(w) for d, w in rows})

    def is_working_day(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        return self._hol.is_working_day(d)

    def holiday_name(self, d: date) -> str | None:
        return self._hol.get(d)

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

    def entry_deadline(self, hire_date: date) -> date:
        """Last local day on which an entry for ``hire_date`` is on time."""
        return self.nth_working_day(hire_date, ENTRY_WORKING_DAYS)

    def entry_cutoff_utc(self, hire_date: date) -> datetime:
        """Naive UTC instant from which an entry is late (local midnight after the deadline)."""
        return local_midnight_utc(self.entry_deadline(hire_date) + timedelta(days=1))

    def is_late(self, hire_date: date, entered_at: datetime) -> bool:
        """Whether an entry made at ``entered_at`` (naive UTC) missed the 3-working-day deadline."""
        return entered_at >= self.entry_cutoff_utc(hire_date)


def local_midnight_utc(d: date) -> datetime:
    """Naive UTC instant of 00:00 Asia/Almaty on ``d`` (the database keeps naive UTC)."""
    return datetime.combine(d, time(0, 0), clock.TZ).astimezone(UTC).replace(tzinfo=None)


def local_date(ts: datetime) -> date:
    """Asia/Almaty date of a naive-UTC timestamp."""
    return ts.replace(tzinfo=UTC).astimezone(clock.TZ).date()


def is_late(hire_date: date, entered_at: datetime, calendar: WorkingCalendar | None = None) -> bool:
    """Entered after the 3rd working day following hire (see the module docstring)."""
    return (calendar or WorkingCalendar.load()).is_late(hire_date, entered_at)
