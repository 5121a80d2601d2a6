"""The ministry's overrides of the working-day calendar (transferred days off, working weekend days)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class WorkingDayOverride(db.Model):
    """A day whose working status differs from the ``holidays`` KZ calendar.

    The ministry enters the government's transfer decrees here (the package has none for 2026 and
    later): a weekday made a day off (``is_working`` false) and the weekend day worked in exchange
    (``is_working`` true).
    """

    __resource__, __scope__ = "calendar", "national"  # profreg/access.py
    __tablename__ = "working_day_override"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_working: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        return self.day.isoformat()
