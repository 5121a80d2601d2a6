"""Professional development: advanced-training and CPD records (rule 8.15)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class CpdRecord(db.Model):
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
