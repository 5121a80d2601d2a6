"""One import run: who imported which file (name and SHA-256), when, with what outcome per row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
RUN_STATES = (QUEUED, RUNNING, DONE, FAILED)


class ImportRun(db.Model):
    """An import (or a dry run) of one file by one user. ``organization_id`` is the organization the
    run belongs to (the default organization of rows without a BIN, else the actor's): the history of
    imports is listed per organization through ``access.scoped``."""

    __resource__, __scope__ = "import", "of_organization"  # profreg/access.py
    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))  # workers / education / certificates / cpd / staffing / all
    locale: Mapped[str | None] = mapped_column(String(2))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    atomic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    upload_path: Mapped[str | None] = mapped_column(String(500))
    report_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User")
    organization = relationship("Organization")

    __table_args__ = (Index("ix_import_run_org_created", "organization_id", "created_at"),
                      Index("ix_import_run_user_created", "user_id", "created_at"))

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
