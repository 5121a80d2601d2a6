"""Specialist certificates for admission to clinical practice (rules 8.14, 14.4, 14.5).

Renewal adds a new certificate; dates of an existing certificate are never overwritten.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db


class Certificate(db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __cpd_evidence__ = True  # read by professional associations (rule 4.5)
    __tablename__ = "certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64), unique=True)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
    issuer: Mapped[str | None] = mapped_column(String(255))
    issue_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)

    worker = relationship("Worker", backref="certificates")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_until >= issue_date", name="dates"),
        Index("ix_certificate_worker", "worker_id", "specialty_id", "valid_until"),
        Index("ix_certificate_valid_until", "valid_until"),
        Index("ix_certificate_number_prefix", "number", postgresql_ops={"number": "text_pattern_ops"}),
    )

    def __str__(self) -> str:
        return self.number
