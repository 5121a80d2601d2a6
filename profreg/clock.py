"""The one injectable clock. Nothing in profreg calls ``date.today()`` or ``datetime.now()`` directly.

Tests (and ``profreg sweep --today``) stand on any date with ``frozen(date)`` or ``set_today(date)``
(the moment is then noon of that day in Almaty), or on any moment with ``frozen_at(datetime)`` or
``set_now(datetime)`` (today is then that moment's date in Almaty); ``set_today(None)`` releases
both. Production reads the system clock in Asia/Almaty.
"""
from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Almaty")
_today: date | None = None
_now: datetime | None = None  # aware (UTC) when the clock stands on a moment


def now() -> datetime:
    """Current moment, timezone-aware (UTC). When the clock is frozen on a day: noon of that day in
    Almaty; on a moment: that moment."""
    if _now is not None:
        return _now
    if _today is not None:
        return datetime.combine(_today, time(12, 0), TZ).astimezone(UTC)
    return datetime.now(UTC)


def utcnow_naive() -> datetime:
    """Naive UTC timestamp for database columns (SQLite has no time zones)."""
    return now().replace(tzinfo=None)


def today() -> date:
    """Today's date in Kazakhstan (Asia/Almaty), or the frozen date (the frozen moment's date)."""
    if _today is not None:
        return _today
    if _now is not None:
        return _now.astimezone(TZ).date()
    return datetime.now(TZ).date()


def day_start_utc(d: date) -> datetime:
    """00:00 Asia/Almaty of ``d`` as a naive UTC timestamp (database columns are naive UTC)."""
    return datetime.combine(d, time(0, 0), TZ).astimezone(UTC).replace(tzinfo=None)


def local_date(ts: datetime) -> date:
    """The Asia/Almaty date of a naive-UTC timestamp."""
    return ts.replace(tzinfo=UTC).astimezone(TZ).date()


def set_today(value: date | None) -> None:
    """Freeze the clock on the day ``value`` (None releases the clock, day and moment alike)."""
    global _today, _now
    _today, _now = value, None


def set_now(value: datetime | None) -> None:
    """Freeze the clock on the moment ``value`` (aware, or naive meaning UTC); None releases it."""
    global _today, _now
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    _today, _now = None, (value.astimezone(UTC) if value is not None else None)


@contextlib.contextmanager
def _restoring():
    previous = (_today, _now)
    try:
        yield
    finally:
        _set(*previous)


def _set(day: date | None, moment: datetime | None) -> None:
    global _today, _now
    _today, _now = day, moment


@contextlib.contextmanager
def frozen(value: date):
    """``with clock.frozen(date(2026, 3, 1)): ...``"""
    with _restoring():
        set_today(value)
        yield value


@contextlib.contextmanager
def frozen_at(value: datetime):
    """``with clock.frozen_at(datetime(2026, 3, 1, 9, 30, tzinfo=clock.TZ)): ...``"""
    with _restoring():
        set_now(value)
        yield now()
