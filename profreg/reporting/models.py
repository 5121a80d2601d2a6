"""Frozen submissions (the one definition shared by the monthly report, the quarterly forecast and the
answers to the authorized body's requests), the quarterly forecast submissions and the requests.

``FrozenSubmission`` is a mixin of columns: ``snapshot`` (canonical JSON of the figures), ``status``
(draft / submitted), ``checksum`` (SHA-256 of the snapshot once submitted), who generated and submitted
it and when, the first submission (on time or late is decided by it), the reason of the last
resubmission, the ``history`` of earlier submissions, and the authorized body's receipt
(``received_at`` / ``received_by_id``, cleared by a resubmission). The rules are in ``frozen.py``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from .. import access, clock
from ..extensions import db

STATUS_DRAFT, STATUS_SUBMITTED = "draft", "submitted"
SCOPE_COUNTRY, SCOPE_REGION, SCOPE_DISTRICT, SCOPE_ORG = access.COUNTRY, access.REGION, access.DISTRICT, access.ORG


class FrozenSubmission:
    """Columns of a document that is drafted, frozen with its SHA-256, submitted and received."""

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
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @declared_attr
    def generated_by(cls):
        return relationship("User", foreign_keys=lambda: [cls.generated_by_id])

    @declared_attr
    def submitted_by(cls):
        return relationship("User", foreign_keys=lambda: [cls.submitted_by_id])

    @declared_attr
    def received_by(cls):
        return relationship("User", foreign_keys=lambda: [cls.received_by_id])

    @property
    def is_submitted(self) -> bool:
        return self.status == STATUS_SUBMITTED


class ForecastSubmission(FrozenSubmission, db.Model):
    """One quarterly forecast (rule 7) of a quarter (``2027Q2``: the projection from that quarter on,
    base date the day before it starts) and a scope (the country, a region)."""

    __tablename__ = "forecast_submission"
    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6))  # YYYYQn
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("quarter", "scope", "scope_id", name="uq_forecast_submission_quarter_scope"),
        CheckConstraint("scope IN ('country', 'region', 'org')", name="scope"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
    )

    def __str__(self) -> str:
        return f"{self.quarter} {self.scope}:{self.scope_id}"


ANSWER_SNAPSHOT, ANSWER_FILE = "snapshot", "file"


class ReportingRequest(FrozenSubmission, db.Model):
    """A request of the authorized body (rules 6-7: "and also at the request of the authorized body"):
    topic, scope (the country: the national coordinator answers; a region: its coordinator), period
    (a month ``YYYY-MM`` or a quarter ``YYYYQn``) and due date. The answer is a frozen submission: a
    snapshot of the monthly report or forecast of that scope and period, or an attached file (its
    SHA-256 is part of the frozen snapshot). ``snapshot`` is empty ("{}") until answered."""

    __tablename__ = "reporting_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    period: Mapped[str] = mapped_column(String(7))
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answer_kind: Mapped[str | None] = mapped_column(String(10))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary)

    created_by = relationship("User", foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint("scope IN ('country', 'region')", name="scope"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
        CheckConstraint("answer_kind IS NULL OR answer_kind IN ('snapshot', 'file')", name="answer_kind"),
    )

    def __str__(self) -> str:
        return f"{self.period} {self.topic[:40]}"
