"""The one injectable clock: a test stands on a day or on a moment, and releases it."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from profreg import clock


def test_a_test_stands_on_a_moment_and_today_follows_it():
    clock.set_now(datetime(2026, 11, 25, 20, 30, tzinfo=UTC))  # 01:30 on the 26th in Almaty
    assert clock.utcnow_naive() == datetime(2026, 11, 25, 20, 30)
    assert clock.today() == date(2026, 11, 26)
    clock.set_now(datetime(2026, 11, 25, 20, 30) + timedelta(hours=1))  # naive means UTC
    assert clock.now() == datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
    with clock.frozen(date(2026, 1, 5)):
        assert clock.today() == date(2026, 1, 5) and clock.utcnow_naive() == datetime(2026, 1, 5, 7, 0)
    assert clock.utcnow_naive() == datetime(2026, 11, 25, 21, 30)  # the moment comes back
    with clock.frozen_at(datetime(2026, 3, 1, 9, 0, tzinfo=clock.TZ)) as moment:
        assert moment == datetime(2026, 3, 1, 4, 0, tzinfo=UTC) and clock.today() == date(2026, 3, 1)
    clock.set_today(None)  # releases the day and the moment
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
