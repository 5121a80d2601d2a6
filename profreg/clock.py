"""The one injectable clock. Nothing in profreg calls ``date.today()`` directly.

Tests (and ``profreg sweep --today``) stand on any date with ``frozen(date)``
or ``set_today(date)``; production reads the system clock in Asia/Almaty.
"""
from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Almaty")
_today: date | None = None


def now() -> datetime:
    """Current moment, timezone-aware (UTC). When the clock is frozen: noon of that day in Almaty."""
    if _today is not None:
        return datetime.combine(_today, time(12, 0), TZ).astimezone(UTC)
    return datetime.now(UTC)


def utcnow_naive() -> datetime:
    """Naive UTC timestamp for database columns (SQLite has no time zones)."""
    return now().replace(tzinfo=None)


def today() -> date:
    """Today's date in Kazakhstan (Asia/Almaty), or the frozen date."""
    if _today is not None:
        return _today
    return datetime.now(TZ).date()


def day_start_utc(d: date) -> datetime:
    """00:00 Asia/Almaty of ``d`` as a naive UTC timestamp (database columns are naive UTC)."""
    return datetime.combine(d, time(0, 0), TZ).astimezone(UTC).replace(tzinfo=None)


def local_date(ts: datetime) -> date:
    """The Asia/Almaty date of a naive-UTC timestamp."""
    return ts.replace(tzinfo=UTC).astimezone(TZ).date()


def set_today(value: date | None) -> None:
    """Freeze the clock on ``value`` (None releases it)."""
    global _today
    _today = value


@contextlib.contextmanager
def frozen(value: date):
    """``with clock.frozen(date(2026, 3, 1)): ...``"""
    previous = _today
    set_today(value)
    try:
        yield value
    finally:
        set_today(previous)
