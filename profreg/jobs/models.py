"""History of background job runs (the daily certificate sweep and the mail outbox sender)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, Text
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
