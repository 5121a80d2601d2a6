"""Audit trail: who changed, viewed or exported what, and when (old → new values)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db


class AuditLog(db.Model):
    __resource__, __scope__ = "audit", "audit_entry"  # profreg/access.py
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create / update / delete / view / export / block / unblock /
    # download / confirm (rule 13) / hire_lookup (detail "ok" / "failed" / "refused" and the IIN's last 4 digits)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(Integer)
    worker_id: Mapped[int | None] = mapped_column(Integer, index=True)
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    region_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # the actor's own organization and region: an action is seen by the actor's head as well as by
    # the owner's (docs/integrity.md)
    actor_organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_region_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[dict | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(String(255))
    # Set for system events (sweeps) so re-running a job cannot write the same entry twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)

    user = relationship("User")

    __table_args__ = (Index("ix_audit_table_record", "table_name", "record_id"),
                      # recent attempts of a user (hire of a registered worker: at most 5 failures an hour)
                      Index("ix_audit_user_action_at", "user_id", "action", "at"))
