"""History of background job runs (the daily certificate sweep and the mail outbox sender)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db

RUNNING, FINISHED, FAILED = "running", "finished", "failed"


class JobRun(db.Model):
    __tablename__ = "job_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # sweep / mail
    run_date: Mapped[date | None] = mapped_column(Date)  # the "today" the job stood on
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default=RUNNING)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    warned: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    unblocked: Mapped[int] = mapped_column(Integer, default=0)
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    mails_queued: Mapped[int] = mapped_column(Integer, default=0)
    mails_sent: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


QUEUED, DONE = "queued", "done"
EXPORT_STATES = (QUEUED, RUNNING, DONE, FAILED)


class ExportFile(db.Model):
    """A list export made in the background (``admin/exporting.py``): what was asked (the list's
    endpoint and query string, the format, the language), by whom, its progress and its file, kept
    until ``expires_at`` and downloadable only by ``user_id``."""

    __tablename__ = "export_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(100))
    query_string: Mapped[str] = mapped_column(String(2000), default="")
    export_type: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_export_file_user_created", "user_id", "created_at"),
                      Index("ix_export_file_expires", "expires_at"))

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
