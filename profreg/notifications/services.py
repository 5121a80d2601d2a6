"""Notification rules: fan a batch of notices out to HR (in-app) and workers (mail), tell the old
employer's HR of a transfer (in-app and mail), build the daily HR digest, render mails in the
recipient's language, and the per-user in-app queries.

Set-based: every fan-out is one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; flush, never commit.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..access import Role
from ..auth.models import User
from ..extensions import db
from ..i18n import current_lang, fmt_date, fmt_period
from ..imports.models import FAILED as IMPORT_FAILED
from ..imports.models import ImportRun
from ..workers.models import Employment, Transfer, Worker
from .models import (
    CERT_EXPIRING,
    EXPORT_READY,
    HR_DIGEST,
    IMPORT_DONE,
    PENDING,
    REMINDER_DUE_SOON,
    REMINDER_HR_WEEKLY,
    REMINDER_KINDS,
    REMINDER_OVERDUE,
    REMINDER_TRAINING,
    REPORT_DUE,
    TRANSFER_OPENED,
    WORKER_BLOCKED,
    WORKER_UNBLOCKED,
    MailOutbox,
    Notice,
    Notification,
)

HR_ROLES = (Role.HR, Role.HR_CHIEF)  # receive the certificate notices of their organization
#: A block (and its lifting) stops a worker's clinical work: the organization's head must know too.
HEAD_KINDS = (WORKER_BLOCKED, WORKER_UNBLOCKED)


def _recipient_role():
    """SQL on ``Notice`` and ``User``: the user's role must act on the notice's kind (HR always; the
    head of the organization for blocks and unblocks)."""
    return or_(User.role.in_(HR_ROLES), and_(Notice.kind.in_(HEAD_KINDS), User.role == Role.ORG_HEAD))


def _insert(model):
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def insert_select(model, columns, select_stmt):
    """``INSERT INTO model (columns) SELECT ... ON CONFLICT DO NOTHING``; returns rows inserted.
    (SQLite needs a WHERE in the SELECT, or it reads ``ON CONFLICT`` as a join constraint.)"""
    if select_stmt.whereclause is None:
        select_stmt = select_stmt.where(true())
    # preserve_rowcount: psycopg's rowcount of INSERT ... SELECT is gone once SQLAlchemy closes the cursor
    res = db.session.execute(_insert(model).from_select(columns, select_stmt).on_conflict_do_nothing(),
                             execution_options={"preserve_rowcount": True})
    return max(res.rowcount or 0, 0)


def default_locale() -> str:
    loc = (current_app.config.get("BABEL_DEFAULT_LOCALE") or "ru")[:2]
    return loc if loc in ("kk", "ru", "en") else "ru"


def fan_out(batch: str, today: date, now: datetime) -> dict:
    """Notices of ``batch`` → in-app notifications for the HR users (roles hr, hr_chief, active) of
    every organization where the worker has a current episode (and its head, ``org_head``, for a block
    or an unblock), and a mail to the worker when the record
    has an e-mail address. Returns {'notifications': n, 'mails_queued': m} (rows actually inserted)."""
    hr = (select(Notice.id, User.id, literal(now))
          .select_from(Notice)
          .join(Employment, and_(Employment.worker_id == Notice.worker_id, Employment.current_on(today)))
          .join(User, and_(User.organization_id == Employment.organization_id, _recipient_role(),
                           User.active.is_(True)))
          .where(Notice.batch == batch).distinct())
    n_inapp = insert_select(Notification, ["notice_id", "user_id", "created_at"], hr)
    mails = (select(Notice.kind, Notice.id, Worker.email, Worker.id,
                    func.coalesce(Worker.locale, literal(default_locale())), literal(PENDING), literal(0),
                    literal(now), literal(now))
             .select_from(Notice).join(Worker, Worker.id == Notice.worker_id)
             .where(Notice.batch == batch, Worker.email.is_not(None), Worker.email != ""))
    n_mail = insert_select(MailOutbox, ["kind", "notice_id", "recipient", "worker_id", "locale", "state", "attempts",
                                        "created_at", "next_attempt_at"], mails)
    return {"notifications": n_inapp, "mails_queued": n_mail}


def transfer_key(transfer_id: int) -> str:
    """The ``event_key`` of a transfer's notice."""
    return f"transfer:{transfer_id}"


def transfer_of(notice: Notice):
    """The transfer a ``transfer_opened`` notice is about (None if it is gone)."""
    _kind, _sep, ident = (notice.event_key or "").partition(":")
    return db.session.get(Transfer, int(ident)) if ident.isdigit() else None


def notify_transfer(transfer, now: datetime | None = None) -> dict:
    """Organization B hired a worker whose episode in A is still current: the HR users of A (roles hr
    and hr_chief, active) get an in-app notification and a mail each, in their own language ("your
    employee X was hired by B on D; end your episode"). The in-app rows are marked as carried by that
    mail (``digest_outbox_id``), so the daily certificate digest does not send them again. Idempotent
    (one notice per transfer); flushes, never commits. Returns {'notifications': n, 'mails_queued': m}."""
    now = now or clock.utcnow_naive()
    key = transfer_key(transfer.id)
    db.session.execute(_insert(Notice).values(kind=TRANSFER_OPENED, event_key=key, worker_id=transfer.worker_id,
                                              batch=key, created_at=now).on_conflict_do_nothing())
    notice_id = db.session.execute(select(Notice.id).where(Notice.kind == TRANSFER_OPENED,
                                                           Notice.event_key == key)).scalar_one()
    hr_of_a = and_(User.organization_id == transfer.organization_id, User.role.in_(HR_ROLES), User.active.is_(True))
    n_inapp, n_mail = deliver(TRANSFER_OPENED, notice_id, hr_of_a, now)
    return {"notifications": n_inapp, "mails_queued": n_mail}


def deliver(kind: str, notice_id: int, who, now: datetime) -> tuple[int, int]:
    """A notice in-app and by mail (in each recipient's language) to the users matching the SQL
    condition ``who``, each once (unique per notice and user); the in-app rows note the mail that
    carries them, so no digest repeats them. Returns (notifications, mails) inserted."""
    n_inapp = insert_select(Notification, ["notice_id", "user_id", "created_at"],
                            select(literal(notice_id), User.id, literal(now)).where(who))
    mails = (select(literal(kind), literal(notice_id), User.email, User.id,
                    func.coalesce(User.locale, literal(default_locale())), literal(PENDING), literal(0),
                    literal(now), literal(now))
             .where(who, User.email.is_not(None), User.email != ""))
    n_mail = insert_select(MailOutbox, ["kind", "notice_id", "recipient", "user_id", "locale", "state", "attempts",
                                        "created_at", "next_attempt_at"], mails)
    carried = (select(MailOutbox.id).where(MailOutbox.notice_id == Notification.notice_id,
                                           MailOutbox.user_id == Notification.user_id)
               .correlate(Notification).scalar_subquery())
    db.session.execute(update(Notification).where(Notification.notice_id == notice_id,
                                                  Notification.digest_outbox_id.is_(None))
                       .values(digest_outbox_id=carried).execution_options(synchronize_session=False))
    return n_inapp, n_mail


def report_key(period: str, region_id: int) -> str:
    """The ``event_key`` of a region's report-due notice."""
    return f"report:{period}:{region_id}"


def report_of(notice: Notice) -> tuple[str, int] | None:
    """(period, region id) a ``report_due`` notice is about."""
    parts = (notice.event_key or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def notify_report_due(period: str, region_id: int, now: datetime | None = None) -> int:
    """The region's report for ``period`` is not submitted: one notice (idempotent),
    an in-app notification for each active coordinator of the region (also one who joined since).
    Returns the notifications inserted; flushes, never commits."""
    now = now or clock.utcnow_naive()
    key = report_key(period, region_id)
    db.session.execute(_insert(Notice).values(kind=REPORT_DUE, event_key=key, batch=key, created_at=now)
                       .on_conflict_do_nothing())
    notice_id = db.session.execute(select(Notice.id).where(Notice.kind == REPORT_DUE,
                                                           Notice.event_key == key)).scalar_one()
    # the coordinators of the whole region (one limited to a district submits the district's report, not this)
    coordinators = and_(User.role == Role.REGION, User.region_id == region_id, User.district_id.is_(None),
                        User.active.is_(True))
    return insert_select(Notification, ["notice_id", "user_id", "created_at"],
                         select(literal(notice_id), User.id, literal(now)).where(coordinators))


def send_reminder(kind: str, key: str, payload: dict, recipients, now: datetime | None = None) -> dict:
    """One reminder of the reporting cycle, sent once: a notice unique on ``(kind, key)`` (created only
    the first time), an in-app notification and a mail (in the recipient's language) for each active
    user matching any of the SQL conditions ``recipients`` (each unique per notice and user, so a run
    repeated on the same day sends nothing again; a recipient who joined since gets it). The mails carry
    the in-app rows (no digest repeats them). Returns {'reminders', 'notifications', 'mails_queued'}."""
    now = now or clock.utcnow_naive()
    res = db.session.execute(
        _insert(Notice).values(kind=kind, event_key=key[:96], batch=kind[:32], created_at=now,
                               payload=json.dumps(payload, ensure_ascii=False, sort_keys=True))
        .on_conflict_do_nothing(), execution_options={"preserve_rowcount": True})
    created = max(res.rowcount or 0, 0)
    notice_id = db.session.execute(select(Notice.id).where(Notice.kind == kind,
                                                           Notice.event_key == key[:96])).scalar_one()
    who = and_(User.active.is_(True), or_(*recipients))
    n_inapp, n_mail = deliver(kind, notice_id, who, now)
    return {"reminders": created, "notifications": n_inapp, "mails_queued": n_mail}


def _scope_name(scope: dict | None) -> str:
    if not scope or scope.get("kind") == "country" or not scope.get("names"):
        return _("Kazakhstan (whole country)")
    names = scope["names"]
    return names.get(current_lang()) or names.get("ru") or scope.get("code", "")


def reminder_text(kind: str, payload: dict) -> str:
    """What a reminder says, in the current locale."""
    if kind in (REMINDER_DUE_SOON, REMINDER_OVERDUE):
        doc, period = payload.get("document"), fmt_period(payload.get("period"))
        due = fmt_date(date.fromisoformat(payload["due"])) if payload.get("due") else ""
        scope, topic = _scope_name(payload.get("scope")), payload.get("topic") or ""
        if kind == REMINDER_DUE_SOON:
            if doc == "monthly":
                return _("The monthly monitoring report for %(period)s (%(scope)s) is due on %(date)s.",
                         period=period, scope=scope, date=due)
            if doc == "forecast":
                return _("The quarterly forecast for %(period)s (%(scope)s) is due on %(date)s.",
                         period=period, scope=scope, date=due)
            return _("The answer to the authorized body's request “%(topic)s” (%(period)s, %(scope)s) is due "
                     "on %(date)s.", topic=topic, period=period, scope=scope, date=due)
        if doc == "monthly":
            return _("The monthly monitoring report for %(period)s (%(scope)s) was due on %(date)s and has not "
                     "been submitted.", period=period, scope=scope, date=due)
        if doc == "forecast":
            return _("The quarterly forecast for %(period)s (%(scope)s) was due on %(date)s and has not been "
                     "submitted.", period=period, scope=scope, date=due)
        return _("The answer to the authorized body's request “%(topic)s” (%(period)s, %(scope)s) was due on "
                 "%(date)s and has not been submitted.", topic=topic, period=period, scope=scope, date=due)
    if kind == REMINDER_TRAINING:
        return _("Training lists of your organization waiting for your approval: %(count)s.",
                 count=payload.get("lists", 0))
    if kind == REMINDER_HR_WEEKLY:
        return _("Weekly summary for your organization: entries made late in the last 7 days: %(late)s; "
                 "incomplete records of workers in post: %(incomplete)s; "
                 "transfers to close (employees hired by another organization): %(transfers)s.",
                 late=payload.get("late", 0), incomplete=payload.get("incomplete", 0),
                 transfers=payload.get("transfers", 0))
    return kind


def import_key(run_id: int) -> str:
    """The ``event_key`` of the notice that an import finished."""
    return f"import:{run_id}"


def import_of(notice: Notice):
    """The import run an ``import_done`` notice is about (None if it is gone)."""
    _kind, _sep, ident = (notice.event_key or "").partition(":")
    return db.session.get(ImportRun, int(ident)) if ident.isdigit() else None


def notify_import_done(run, now: datetime | None = None) -> int:
    """A background import (or dry run) finished: its user gets an in-app notification (shown in the
    user's language, with the link to the report). Idempotent (one notice per run); flushes, never
    commits. Returns the notifications inserted."""
    if run.user_id is None:
        return 0
    now = now or clock.utcnow_naive()
    key = import_key(run.id)
    db.session.execute(_insert(Notice).values(kind=IMPORT_DONE, event_key=key, batch="import", created_at=now)
                       .on_conflict_do_nothing())
    notice_id = db.session.execute(select(Notice.id).where(Notice.kind == IMPORT_DONE,
                                                           Notice.event_key == key)).scalar_one()
    return insert_select(Notification, ["notice_id", "user_id", "created_at"],
                         select(literal(notice_id), User.id, literal(now)).where(User.id == run.user_id))


def _in_digests(notification):
    """Notifications a digest mail carries: all but the in-app-only kinds (an export is ready, a
    region's report is due: the digest is about certificates), the reminders (mailed each) and the
    imports' ends (in-app only)."""
    return notification.notice_id.in_(select(Notice.id).where(
        Notice.kind.not_in((EXPORT_READY, REPORT_DUE, IMPORT_DONE) + REMINDER_KINDS)))


def queue_digests(today: date) -> dict:
    """One digest mail per HR user and day for the user's notifications not yet in a digest.
    A notification joins the pending digest of its user; one created after the day's digest was sent
    waits for the next day's digest (never dropped)."""
    now = clock.utcnow_naive()
    users = (select(literal(HR_DIGEST), literal(today), User.email, User.id,
                    func.coalesce(User.locale, literal(default_locale())), literal(PENDING), literal(0),
                    literal(now), literal(now))
             .where(User.active.is_(True),
                    select(Notification.id).where(Notification.user_id == User.id,
                                                  Notification.digest_outbox_id.is_(None),
                                                  _in_digests(Notification)).exists()))
    queued = insert_select(MailOutbox, ["kind", "digest_date", "recipient", "user_id", "locale", "state",
                                        "attempts", "created_at", "next_attempt_at"], users)
    digest = (select(MailOutbox.id).where(MailOutbox.kind == HR_DIGEST, MailOutbox.user_id == Notification.user_id,
                                          MailOutbox.digest_date == today, MailOutbox.state == PENDING)
              .correlate(Notification).scalar_subquery())
    db.session.execute(update(Notification).where(Notification.digest_outbox_id.is_(None), digest.is_not(None),
                                                  _in_digests(Notification))
                       .values(digest_outbox_id=digest).execution_options(synchronize_session=False))
    return {"mails_queued": queued}


# -------------------------------------------------------------------------------------- rendering
def _kind_subject(kind: str) -> str:
    return {
        CERT_EXPIRING: _("Your specialist certificate expires soon"),
        WORKER_BLOCKED: _("Your record in the Professional Register is blocked"),
        WORKER_UNBLOCKED: _("Your record in the Professional Register is unblocked"),
        HR_DIGEST: _("Professional Register: certificate notices for your organization"),
        TRANSFER_OPENED: _("Professional Register: your employee was hired by another organization"),
        REMINDER_DUE_SOON: _("Professional Register: a report is due soon"),
        REMINDER_OVERDUE: _("Professional Register: a report is overdue"),
        REMINDER_TRAINING: _("Professional Register: training lists wait for your approval"),
        REMINDER_HR_WEEKLY: _("Professional Register: weekly summary of your personnel service"),
    }[kind]


def notice_text(notice: Notice) -> str:
    """One line describing a notice, in the current locale (in-app list and digest)."""

    if notice.kind in REMINDER_KINDS:
        return reminder_text(notice.kind, json.loads(notice.payload or "{}"))
    if notice.kind == EXPORT_READY:
        export = notice.export
        return _("Your export “%(title)s” is ready: %(rows)s rows.", title=export.title if export else "",
                 rows=format_decimal(export.rows_done) if export else 0)
    w = notice.worker
    if notice.kind == CERT_EXPIRING and notice.certificate is not None:
        c = notice.certificate
        return _("Certificate %(number)s of %(worker)s (%(specialty)s) is about to expire; valid until: %(date)s",
                 number=c.number, worker=w.full_name, specialty=str(c.specialty),
                 date=fmt_date(c.valid_until))
    if notice.kind == WORKER_BLOCKED:
        c = notice.certificate
        if c is not None:
            return _("%(worker)s is blocked for clinical work in %(specialty)s: certificate %(number)s expired "
                     "on %(date)s", worker=w.full_name, specialty=str(c.specialty), number=c.number,
                     date=fmt_date(c.valid_until) if c.valid_until else "")
        return _("%(worker)s is blocked: no valid specialist certificate.", worker=w.full_name)
    if notice.kind == WORKER_UNBLOCKED:
        return _("%(worker)s is unblocked: a valid specialist certificate is on file.", worker=w.full_name)
    if notice.kind == REPORT_DUE:
        about = report_of(notice)
        if about is not None:
            return _("The monthly report of your region for %(period)s is not submitted yet.", period=about[0])
    if notice.kind == IMPORT_DONE:
        run = import_of(notice)
        if run is not None and run.state == IMPORT_FAILED:
            return _("The import of “%(file)s” failed: %(error)s", file=run.file_name, error=run.error or "")
        if run is not None and run.dry_run:
            return _("The check of “%(file)s” is finished: %(created)s to create, %(updated)s to update, "
                     "%(unchanged)s unchanged, %(rejected)s rejected. Open the report.", file=run.file_name,
                     created=format_decimal(run.created), updated=format_decimal(run.updated),
                     unchanged=format_decimal(run.unchanged), rejected=format_decimal(run.rejected))
        if run is not None:
            return _("The import of “%(file)s” is finished: %(created)s created, %(updated)s updated, "
                     "%(unchanged)s unchanged, %(rejected)s rejected. Open the report.", file=run.file_name,
                     created=format_decimal(run.created), updated=format_decimal(run.updated),
                     unchanged=format_decimal(run.unchanged), rejected=format_decimal(run.rejected))
    if notice.kind == TRANSFER_OPENED:
        transfer = transfer_of(notice)
        if transfer is not None:
            return _("Your employee %(worker)s was hired by %(organization)s on %(date)s: end the employment "
                     "episode in your organization by %(due)s.", worker=w.full_name,
                     organization=transfer.to_organization.name, date=fmt_date(transfer.hire_date),
                     due=fmt_date(transfer.due_date))
    return notice.kind


def render_mail(row: MailOutbox) -> tuple[str, str]:
    """(subject, body) of an outbox row in the row's language."""

    with force_locale(row.locale or default_locale()):
        subject = _kind_subject(row.kind)
        if row.kind == HR_DIGEST:
            items = db.session.execute(
                select(Notification).where(Notification.digest_outbox_id == row.id)
                .order_by(Notification.created_at, Notification.id)).scalars().all()
            user = db.session.get(User, row.user_id)
            body = render_template("notifications/mail/hr_digest.txt", user=user, lines=[
                notice_text(n.notice) for n in items], day=fmt_date(row.digest_date))
        elif row.kind in REMINDER_KINDS:
            body = render_template("notifications/mail/reminder.txt", user=db.session.get(User, row.user_id),
                                   line=notice_text(row.notice))
        elif row.kind == TRANSFER_OPENED:
            notice = row.notice
            transfer = transfer_of(notice)
            body = render_template("notifications/mail/transfer_opened.txt", worker=notice.worker,
                                   user=db.session.get(User, row.user_id),
                                   organization=transfer.to_organization.name if transfer else "",
                                   own_organization=transfer.organization.name if transfer else "",
                                   hire_date=fmt_date(transfer.hire_date) if transfer else "",
                                   due_date=fmt_date(transfer.due_date) if transfer else "")
        else:
            notice = row.notice
            cert = notice.certificate
            body = render_template(f"notifications/mail/{row.kind}.txt", worker=notice.worker, certificate=cert,
                                   specialty=str(cert.specialty) if cert is not None else "",
                                   valid_until=fmt_date(cert.valid_until) if cert and cert.valid_until
                                   else "")
    return subject, body


# ------------------------------------------------------------------------------------- in-app side
def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.execute(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar() or 0


def user_notifications(user, unread_only: bool = False):
    """Query of the user's own notifications, newest first (scoped: only ``user``'s rows)."""
    q = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return q.order_by(Notification.created_at.desc(), Notification.id.desc())


def mark_read(user, ids=None) -> int:
    """Mark the user's notifications (all, or ``ids``) as read; other users' rows are never touched."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(list(ids)))
    res = db.session.execute(q.values(read_at=clock.utcnow_naive()).execution_options(synchronize_session=False))
    return max(res.rowcount or 0, 0)


def backoff(attempts: int) -> timedelta:
    """Delay before the next delivery attempt: ``MAIL_RETRY_SECONDS`` (default 5 min), then twice as
    long after each failure (10, 20, …), capped at one day."""
    first = int(current_app.config.get("MAIL_RETRY_SECONDS", 300))
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), 24 * 3600))
