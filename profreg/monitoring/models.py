"""Monitoring tables: the monthly reports (the working-day calendar is in ``profreg/workdays``)."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..reporting.models import (  # noqa: F401  (the statuses and scopes are shared by every submission)
    SCOPE_COUNTRY,
    SCOPE_DISTRICT,
    SCOPE_ORG,
    SCOPE_REGION,
    STATUS_DRAFT,
    STATUS_SUBMITTED,
    FrozenSubmission,
)


class MonitoringReport(FrozenSubmission, db.Model):
    """One monthly monitoring report (period × scope).

    ``snapshot`` is the JSON of the figures. While ``status`` is draft it can be regenerated; once
    submitted it is frozen (``checksum`` = sha256 of the canonical JSON) and only a resubmission with
    a reason replaces it, the previous submission going to ``history``. The columns of the frozen
    submission (and the authorized body's receipt) are ``reporting.models.FrozenSubmission``.
    """

    __tablename__ = "monitoring_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(10))  # country / region / district / org
    scope_id: Mapped[int] = mapped_column(Integer, default=0)  # admin_unit.id / organization.id; 0 = country

    __table_args__ = (
        UniqueConstraint("period", "scope", "scope_id", name="uq_monitoring_report_period_scope"),
        CheckConstraint("scope IN ('country', 'region', 'district', 'org')", name="scope"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
    )

    def __str__(self) -> str:
        return f"{self.period} {self.scope}:{self.scope_id}"
