"""Notices (what was announced, once), in-app notifications (per user) and the mail outbox.

* ``Notice``: one row per event ("certificate 123 enters the warning window", "worker 45 blocked at
  ..."), unique on (kind, event_key). It is the anchor of idempotency: every job inserts notices with
  ``ON CONFLICT DO NOTHING`` and fans out only the notices of its own batch.
* ``Notification``: the in-app copy of a notice for one panel user (those who must act on it: HR of the
  worker's organization; for a block also its head; for a report due the region's coordinators),
  unique on (notice_id, user_id); ``read_at`` marks it read.
* ``MailOutbox``: every e-mail to send, with its delivery state. Worker mails (and the transfer mails
  to HR users) are unique on (notice_id, recipient); the HR daily digest is unique on (kind, user_id,
  digest_date).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db

# notice kinds
CERT_EXPIRING = "cert_expiring"
WORKER_BLOCKED = "worker_blocked"
WORKER_UNBLOCKED = "worker_unblocked"
# Organization B hired a worker whose episode in A is still current: A's HR users are told (in-app and
# by mail to each of them, not to the worker). ``event_key`` is ``transfer:<id>``.
TRANSFER_OPENED = "transfer_opened"
EXPORT_READY = "export_ready"  # a background list export is ready (in-app only, never in a digest)
# A region's monthly report of the last month is not submitted yet: its coordinators are told (in-app and
# in their digest). ``event_key`` is ``report:<YYYY-MM>:<admin_unit id>``.
REPORT_DUE = "report_due"
# Reminders of the reporting cycle (reporting.services.send_reminders), each once: ``event_key`` is the
# reminder's unique key (e.g. ``soon:monthly:2027-04:region:5``), ``payload`` the JSON of what it says;
# in-app and by mail to each recipient, in the recipient's language (never in a digest).
REMINDER_DUE_SOON = "reminder_due_soon"      # a coordinator: due in 3 working days
REMINDER_OVERDUE = "reminder_overdue"        # a coordinator and the level above: due date missed
REMINDER_TRAINING = "reminder_training"      # a head: training lists waiting for approval (weekly)
REMINDER_HR_WEEKLY = "reminder_hr_weekly"    # an HR chief: late entries, incomplete records, transfers to close (weekly)
REMINDER_KINDS = (REMINDER_DUE_SOON, REMINDER_OVERDUE, REMINDER_TRAINING, REMINDER_HR_WEEKLY)
# A background import finished: the importing user is told (in-app only, never in a digest), with the link
# to its report. ``event_key`` is ``import:<import_run id>``.
IMPORT_DONE = "import_done"
NOTICE_KINDS = (CERT_EXPIRING, WORKER_BLOCKED, WORKER_UNBLOCKED, TRANSFER_OPENED, EXPORT_READY,
                REPORT_DUE, IMPORT_DONE) + REMINDER_KINDS
# outbox kinds: the notice kinds (mail to the worker; a transfer's to A's HR users) plus the HR digest
HR_DIGEST = "hr_digest"

# delivery states
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class Notice(db.Model):
    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(96))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id", ondelete="CASCADE"),
                                                       index=True)
    export_id: Mapped[int | None] = mapped_column(ForeignKey("export_file.id", ondelete="CASCADE"))
    batch: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    payload: Mapped[str | None] = mapped_column(Text)  # JSON: what a reminder says (its kind's parameters)

    worker = relationship("Worker")
    certificate = relationship("Certificate")
    export = relationship("ExportFile")

    __table_args__ = (UniqueConstraint("kind", "event_key", name="uq_notice_event"),)


class Notification(db.Model):
    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the HR digest mail this notification went into (None: not yet in a digest)
    digest_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"),
                                                         index=True)

    notice = relationship("Notice")
    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("notice_id", "user_id", name="uq_notification_notice_user"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_created", "created_at"),
    )


class MailOutbox(db.Model):
    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"))
    digest_date: Mapped[date | None] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(255))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10), default=PENDING, server_default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    notice = relationship("Notice")

    __table_args__ = (
        UniqueConstraint("notice_id", "recipient", name="uq_mail_outbox_notice_recipient"),
        UniqueConstraint("kind", "user_id", "digest_date", name="uq_mail_outbox_digest"),
        Index("ix_mail_outbox_due", "state", "next_attempt_at"),
    )
