"""Professional development: advanced-training and CPD records (rule 8.15)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..workers.models import WorkerRecord


class CpdRecord(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __cpd_evidence__ = True  # read by professional associations (rule 4.5)
    __tablename__ = "cpd_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    activity_type_id: Mapped[int] = mapped_column(ForeignKey("training_activity_type.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    provider: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal("0"))
    credits: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    certificate_number: Mapped[str | None] = mapped_column(String(64))

    worker = relationship("Worker", backref="cpd_records")
    activity_type = relationship("TrainingActivityType")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates"),
        CheckConstraint("hours >= 0", name="hours"),
        Index("ix_cpd_worker_end", "worker_id", "end_date"),
    )

    def __str__(self) -> str:
        return self.topic


# --- Advanced-training lists (rule 14.3) -------------------------------------------------------------

LIST_DRAFT = "draft"
LIST_APPROVED = "approved"


class TrainingList(db.Model):
    """An organization's list of employees for advanced training for one period (e.g. ``2027Q1``).

    A draft is edited by the personnel service; once the head approves it, it is frozen (only the
    per-worker completion is recorded afterwards).
    """

    __resource__, __scope__ = "training_list", "of_organization"  # profreg/access.py
    __tablename__ = "training_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default=LIST_DRAFT, server_default=LIST_DRAFT)
    rules: Mapped[dict | None] = mapped_column(JSON)  # the rules and parameters the list was built with
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)

    organization = relationship("Organization")
    created_by = relationship("User", foreign_keys=[created_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    items = relationship("TrainingListItem", back_populates="training_list", cascade="all, delete-orphan",
                         order_by="TrainingListItem.id")

    __table_args__ = (
        UniqueConstraint("organization_id", "period", name="uq_training_list_org_period"),
        CheckConstraint("status IN ('draft', 'approved')", name="status"),
    )

    @property
    def is_frozen(self) -> bool:
        return self.status == LIST_APPROVED

    def __str__(self) -> str:
        return self.period


class TrainingListItem(db.Model):
    """One worker on a training list, with the reasons (rule codes and their figures) in JSON."""

    __tablename__ = "training_list_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("training_list.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    # Snapshot of the worker's post in the organization when the row was added.
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    department: Mapped[str | None] = mapped_column(String(255))
    reasons: Mapped[list | None] = mapped_column(JSON)  # [{"code": "cert_expiring", ...figures}, ...]
    added_manually: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    note: Mapped[str | None] = mapped_column(String(500))  # why added by hand
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    removal_reason: Mapped[str | None] = mapped_column(String(500))
    completed_at: Mapped[date | None] = mapped_column(Date)
    cpd_record_id: Mapped[int | None] = mapped_column(ForeignKey("cpd_record.id", ondelete="SET NULL"))

    training_list = relationship("TrainingList", back_populates="items")
    worker = relationship("Worker")
    position = relationship("Position")
    specialty = relationship("Specialty")
    cpd_record = relationship("CpdRecord")

    __table_args__ = (
        UniqueConstraint("list_id", "worker_id", name="uq_training_list_item_worker"),
        CheckConstraint("NOT removed OR removal_reason IS NOT NULL", name="removal_reason"),
    )

    def __str__(self) -> str:
        return str(self.worker) if self.worker is not None else str(self.worker_id)
