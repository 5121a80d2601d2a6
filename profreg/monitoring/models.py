"""Monitoring tables: the monthly reports (the working-day calendar is in ``profreg/workdays``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import access, clock
from ..extensions import db

# Reporting scopes are policy (profreg/access.py): the whole country, a region, a district of a region
# (rule 4.1), an organization.
SCOPE_COUNTRY, SCOPE_REGION, SCOPE_DISTRICT, SCOPE_ORG = access.COUNTRY, access.REGION, access.DISTRICT, access.ORG
STATUS_DRAFT, STATUS_SUBMITTED = "draft", "submitted"


class MonitoringReport(db.Model):
    """One monthly monitoring report (period × scope).

    ``snapshot`` is the JSON of the figures. While ``status`` is draft it can be regenerated; once
    submitted it is frozen (``checksum`` = sha256 of the canonical JSON) and only a resubmission with
    a reason replaces it, the previous submission going to ``history``.
    """

    __tablename__ = "monitoring_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(10))  # country / region / district / org
    scope_id: Mapped[int] = mapped_column(Integer, default=0)  # admin_unit.id / organization.id; 0 = country
    status: Mapped[str] = mapped_column(String(10), default=STATUS_DRAFT)
    snapshot: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resubmission_reason: Mapped[str | None] = mapped_column(Text)
    history: Mapped[str] = mapped_column(Text, default="[]")

    generated_by = relationship("User", foreign_keys=[generated_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])

    __table_args__ = (
        UniqueConstraint("period", "scope", "scope_id", name="uq_monitoring_report_period_scope"),
        CheckConstraint("scope IN ('country', 'region', 'district', 'org')", name="scope"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
    )

    def __str__(self) -> str:
        return f"{self.period} {self.scope}:{self.scope_id}"
