"""Mail over SMTP (MAIL_SERVER / MAIL_PORT / MAIL_FROM / MAIL_USE_TLS / MAIL_USERNAME / MAIL_PASSWORD)
and the outbox delivery driver.

``deliver_pending`` is a job-level driver: each outbox row is claimed
(``pending``/``failed`` → ``sending``) in its own unit of work (profreg/uow.py), sent, then marked ``sent`` or ``failed``
with ``attempts``, ``last_error`` and ``next_attempt_at`` (back-off). A row whose sender died while
``sending`` is claimed again after ``STALE_CLAIM``. Nothing is ever deleted: a failed mail is retried
until it goes out.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import and_, or_, select, update

from .. import clock
from ..extensions import db
from ..uow import unit_of_work
from .models import FAILED, PENDING, SENDING, SENT, MailOutbox
from .services import backoff, render_mail

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=15)


def smtp_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_message(to: str, subject: str, body: str, locale: str) -> None:
    """Send one plain-text UTF-8 mail; raises on any SMTP error."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg.get("MAIL_FROM") or "profreg@localhost"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="profreg")
    msg.set_content(body)
    msg["Content-Language"] = locale  # after set_content, which drops Content-* headers
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25), timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)


def _due(now):
    return or_(and_(MailOutbox.state.in_((PENDING, FAILED)), MailOutbox.next_attempt_at <= now),
               and_(MailOutbox.state == SENDING, MailOutbox.claimed_at < now - STALE_CLAIM))


def deliver_pending(limit: int = 1000) -> dict:
    """Send due outbox rows. Returns {'sent': n, 'failed': m}. Without MAIL_SERVER nothing is sent
    (rows stay pending)."""

    out = {"sent": 0, "failed": 0}
    if not smtp_configured():
        return out
    now = clock.utcnow_naive()
    # Each claim, and each outcome, is a unit of work of its own: a mail is claimed before it is sent
    # (two senders never take the same row) and its outcome is kept whatever happens to the others.
    with unit_of_work():
        ids = db.session.execute(select(MailOutbox.id).where(_due(now)).order_by(MailOutbox.id)
                                 .limit(limit)).scalars().all()
    for oid in ids:
        with unit_of_work():
            claimed = db.session.execute(update(MailOutbox).where(MailOutbox.id == oid, _due(now))
                                         .values(state=SENDING, claimed_at=now)
                                         .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue  # another sender took it
        try:
            with unit_of_work():
                row = db.session.get(MailOutbox, oid)
                subject, body = render_mail(row)
                send_message(row.recipient, subject, body, row.locale)
                row.attempts += 1
                row.state = SENT
                row.subject = subject[:255]
                row.sent_at = clock.utcnow_naive()
                row.last_error = None
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried later
            with unit_of_work():
                row = db.session.get(MailOutbox, oid)
                row.attempts += 1
                row.state = FAILED
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.next_attempt_at = clock.utcnow_naive() + backoff(row.attempts)
            out["failed"] += 1
            log.warning("mail %s to %s failed: %s", oid, row.recipient, row.last_error)
            continue
        out["sent"] += 1
    return out
