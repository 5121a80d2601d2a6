"""Certificate rules (rules 14.4, 14.5): status per specialty, warnings, blocking and unblocking.

The exact rule is written in ``docs/certificates.md``; the predicates it uses (valid on D, the latest
certificate, the warning date, expiring on D) are defined once on the model (``models.py``). In short:

* per specialty, a worker's status is **expired** when the worker has certificates of that specialty but
  none is valid on D; **expiring** when one is valid and the specialty's latest certificate is
  ``expiring_on(D)``; **valid** otherwise; no entry when the worker never held one;
* a worker with a current episode in a clinical position and **no certificate valid on D in any
  specialty** is blocked (reason ``certificate_expired``); the block is lifted as soon as a certificate
  valid on D exists (sweep, or on save of a certificate);
* a certificate in specialty S admits to clinical positions in S and in the specializations of S
  (``has_valid_certificate``); the employment rules call it per position.

All sweep steps are set-based (``INSERT ... SELECT`` / ``UPDATE``), flush and never commit; the job or
the CLI commits after each step. Every insert is ``ON CONFLICT DO NOTHING`` against a unique key
(``notice`` (kind, event_key), ``notification`` (notice, user), ``mail_outbox`` (notice, recipient) and
(kind, user, digest date), ``audit_log.dedupe_key``), so a rerun, two concurrent runs or a rerun after a
crash never write a duplicate.
"""
from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import String, and_, cast, event, exists, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from .. import clock, signals
from ..audit.models import AuditLog
from ..clock import day_start_utc
from ..extensions import db
from ..i18n import fmt_date
from ..notifications import services as notify
from ..notifications.models import CERT_EXPIRING, WORKER_BLOCKED, WORKER_UNBLOCKED, MailOutbox, Notice
from ..orgs.models import Organization
from ..reference.models import Position, Specialty
from ..workers.models import STATUS_ACTIVE, STATUS_BLOCKED, Employment, Worker
from .models import Certificate

BLOCK_REASON = "certificate_expired"

VALID, EXPIRING, EXPIRED = "valid", "expiring", "expired"
STATUS_LABELS = {VALID: "Valid", EXPIRING: "Expiring", EXPIRED: "Expired"}


# --------------------------------------------------------------------------------------- SQL clauses
def valid_certificate_clause(worker_id_col, today: date):
    """SQL: the worker holds a certificate (any specialty) valid on ``today``."""
    return exists().where(and_(Certificate.worker_id == worker_id_col, Certificate.valid_on(today)))


def valid_certificate_for_specialty_clause(worker_id_col, specialty_id_col, today: date):
    """SQL: the worker holds a certificate valid on ``today`` in the specialty or in its parent
    specialty (a certificate in S admits to S and to its specializations)."""
    parent = select(Specialty.parent_id).where(Specialty.id == specialty_id_col).scalar_subquery()
    return exists().where(and_(Certificate.worker_id == worker_id_col, Certificate.valid_on(today),
                               or_(Certificate.specialty_id == specialty_id_col,
                                   Certificate.specialty_id == parent)))


def clinical_current_clause(worker_id_col, today: date):
    """SQL: the worker has a current episode in a clinical position."""
    return exists().where(and_(Employment.worker_id == worker_id_col, Employment.position_id == Position.id,
                               Position.is_clinical.is_(True), Employment.current_on(today)))


def workers_to_block(today: date | None = None):
    """SELECT of ids of active workers who must be blocked on ``today``."""
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_ACTIVE, clinical_current_clause(Worker.id, today),
                                   ~valid_certificate_clause(Worker.id, today))


def workers_to_unblock(today: date | None = None):
    """SELECT of ids of workers blocked for their certificates who now hold a valid one."""
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_BLOCKED, Worker.blocked_reason == BLOCK_REASON,
                                   valid_certificate_clause(Worker.id, today))


def expiring_certificates(today: date):
    """SELECT (certificate_id, worker_id) of the certificates in the warning window on ``today``
    (``Certificate.expiring_on``: a renewal already on file, even one starting later, means no warning)."""
    return select(Certificate.id, Certificate.worker_id).where(Certificate.expiring_on(today))


# ----------------------------------------------------------------------------- per-worker functions
def _id(obj_or_id):
    return getattr(obj_or_id, "id", obj_or_id)


def specialty_statuses(worker, on_date: date | None = None) -> dict[int, str]:
    """{specialty_id: 'valid' | 'expiring' | 'expired'} for one worker on ``on_date`` (the model's
    predicates on the worker's certificates; ``workers.search.certificate_status_clause`` is the SQL form)."""
    on_date = on_date or clock.today()
    certs = db.session.execute(select(Certificate).where(Certificate.worker_id == _id(worker),
                                                         Certificate.in_force)).scalars().all()
    by_specialty: dict[int, list[Certificate]] = {}
    for c in certs:
        by_specialty.setdefault(c.specialty_id, []).append(c)
    out: dict[int, str] = {}
    for spec, group in by_specialty.items():
        if not any(c.valid_on(on_date) for c in group):
            out[spec] = EXPIRED
        elif any(c.expiring_on(on_date) for c in group):
            out[spec] = EXPIRING
        else:
            out[spec] = VALID
    return out


def worker_status(worker, on_date: date | None = None) -> str | None:
    """Overall: 'valid' if any specialty is valid, else 'expiring' if any is, else 'expired';
    None when the worker never held a certificate."""
    statuses = set(specialty_statuses(worker, on_date).values())
    for s in (VALID, EXPIRING, EXPIRED):
        if s in statuses:
            return s
    return None


def has_valid_certificate(worker, specialty, on_date: date | None = None) -> bool:
    """Does ``worker`` hold a certificate valid on ``on_date`` admitting to ``specialty``
    (a certificate of that specialty or of its parent specialty)? For the employment rules."""
    on_date = on_date or clock.today()
    q = select(literal(1)).where(valid_certificate_for_specialty_clause(literal(_id(worker)),
                                                                         literal(_id(specialty)), on_date))
    return db.session.execute(q).first() is not None


def holds_valid_certificate(worker, on_date: date | None = None) -> bool:
    """Does ``worker`` hold a certificate (of any specialty) valid on ``on_date``?"""
    if _id(worker) is None:
        return False
    q = select(literal(1)).where(valid_certificate_clause(literal(_id(worker)), on_date or clock.today()))
    return db.session.execute(q).first() is not None


def clinical_admission_error(worker, position, specialty, on_date: date | None = None) -> str | None:
    """Admission to clinical practice (rule 14.5; DESIGN rule 8), the one rule every path that opens
    or changes an employment episode calls (panel, hire of a registered worker, CLI): a translated
    reason why ``worker`` may not hold ``position`` in ``specialty`` on ``on_date``, or None.

    * a non-clinical position needs no certificate;
    * a clinical position in a specialty needs a certificate valid that day in the specialty or in its
      parent specialty;
    * a blocked worker who holds no certificate valid that day gets no clinical position at all (a
      renewal on file admits him; the sweep or the save of the certificate lifts the block)."""
    if position is None or not getattr(position, "is_clinical", False):
        return None
    on_date = on_date or clock.today()
    if getattr(worker, "status", None) == STATUS_BLOCKED and not holds_valid_certificate(worker, on_date):
        return _("This worker is blocked (no valid specialist certificate): a clinical position cannot be "
                 "assigned until a valid certificate is registered.")
    if specialty is not None and (_id(worker) is None or not has_valid_certificate(worker, specialty, on_date)):
        return _("No specialist certificate valid on %(date)s for the specialty %(specialty)s.",
                 date=fmt_date(on_date), specialty=str(specialty))
    return None


# ------------------------------------------------------------------------------------ sweep steps
@dataclass
class Counts:
    warned: int = 0
    blocked: int = 0
    unblocked: int = 0
    notifications: int = 0
    mails_queued: int = 0
    batches: list[str] = field(default_factory=list)

    def add(self, other: dict):
        for k, v in other.items():
            setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("warned", "blocked", "unblocked", "notifications", "mails_queued")}


NOTICE_COLUMNS = ["kind", "event_key", "worker_id", "certificate_id", "batch", "created_at"]


def new_batch() -> str:
    return uuid.uuid4().hex


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _json(value):
    """A JSON literal usable in an INSERT ... SELECT on both backends."""
    text = json.dumps(value)
    return cast(literal(text), JSON) if _dialect() == "postgresql" else literal(text)


def warn_step(today: date | None = None, batch: str | None = None) -> dict:
    """Certificates entering the warning window → one notice each, fanned out to the worker (mail)
    and to the HR users of the worker's current organizations (in-app; digest mail later)."""
    today = today or clock.today()
    batch = batch or new_batch()
    now = clock.utcnow_naive()
    src = expiring_certificates(today).subquery()
    sel = select(literal(CERT_EXPIRING), literal("cert:") + cast(src.c.id, String), src.c.worker_id, src.c.id,
                 literal(batch), literal(now))
    out = {"warned": notify.insert_select(Notice, NOTICE_COLUMNS, sel)}
    out.update(notify.fan_out(batch, today, now))
    return out


def _audit_from_notices(batch: str, kind: str, action: str, changes: dict, detail: str, today: date) -> int:
    """One audit entry per notice of ``batch``; the dedupe key is derived from the notice key."""
    org = (select(Employment.organization_id).where(Employment.worker_id == Notice.worker_id,
                                                    Employment.current_on(today))
           .order_by(Employment.is_main.desc(), Employment.hire_date.desc(), Employment.id.desc())
           .limit(1).correlate(Notice).scalar_subquery())
    region = select(Organization.region_id).where(Organization.id == org).scalar_subquery()
    now = clock.utcnow_naive()
    sel = (select(literal(now), literal(action), literal("worker"), Notice.worker_id, Notice.worker_id, org, region,
                  _json(changes), literal(detail), literal("certificates:") + Notice.event_key)
           .where(Notice.batch == batch, Notice.kind == kind))
    return notify.insert_select(AuditLog, ["at", "action", "table_name", "record_id", "worker_id", "organization_id",
                                           "region_id", "changes", "detail", "dedupe_key"], sel)


def _event_key(prefix: str, ts_col):
    return literal(prefix) + cast(Worker.id, String) + literal(":") + cast(ts_col, String)


def block_step(today: date | None = None, batch: str | None = None, worker_ids=None) -> dict:
    """Block every active worker in a clinical position without a valid certificate, with reason and
    time; then (for every certificate block of the day not yet announced) a notice, an audit entry and
    notices to HR and the worker."""
    today = today or clock.today()
    batch = batch or new_batch()
    now = clock.utcnow_naive()
    target = workers_to_block(today)
    if worker_ids is not None:
        target = target.where(Worker.id.in_(worker_ids))
    res = db.session.execute(
        update(Worker).where(Worker.id.in_(target))
        .values(status=STATUS_BLOCKED, blocked_reason=BLOCK_REASON, blocked_at=now, version=Worker.version + 1)
        .execution_options(synchronize_session=False))
    blocked = max(res.rowcount or 0, 0)
    # Announce every certificate block since the start of the day that has no notice yet: this also
    # repairs a run that blocked and then died before announcing (unique keys skip the rest).
    sel = (select(literal(WORKER_BLOCKED), _event_key("block:", Worker.blocked_at), Worker.id, literal(None),
                  literal(batch), literal(now))
           .where(Worker.status == STATUS_BLOCKED, Worker.blocked_reason == BLOCK_REASON,
                  Worker.blocked_at >= day_start_utc(today)))
    if worker_ids is not None:
        sel = sel.where(Worker.id.in_(worker_ids))
    notify.insert_select(Notice, NOTICE_COLUMNS, sel)
    _audit_from_notices(batch, WORKER_BLOCKED, "block", {"status": [STATUS_ACTIVE, STATUS_BLOCKED]}, BLOCK_REASON,
                        today)
    out = {"blocked": blocked}
    out.update(notify.fan_out(batch, today, now))
    return out


def unblock_step(today: date | None = None, batch: str | None = None, worker_ids=None) -> dict:
    """Lift the certificate block of every worker who now holds a valid certificate (audited, notified)."""
    today = today or clock.today()
    batch = batch or new_batch()
    now = clock.utcnow_naive()
    target = workers_to_unblock(today)
    if worker_ids is not None:
        target = target.where(Worker.id.in_(worker_ids))
    res = db.session.execute(
        update(Worker).where(Worker.id.in_(target))
        .values(status=STATUS_ACTIVE, blocked_reason=None, unblocked_at=now, version=Worker.version + 1)
        .execution_options(synchronize_session=False))
    unblocked = max(res.rowcount or 0, 0)
    # The certificate that lifted the block: the latest of those valid today.
    cert = (select(Certificate.id).where(Certificate.worker_id == Worker.id, Certificate.valid_on(today))
            .order_by(*Certificate.latest_first()).limit(1).correlate(Worker).scalar_subquery())
    sel = (select(literal(WORKER_UNBLOCKED), _event_key("unblock:", Worker.unblocked_at), Worker.id, cert,
                  literal(batch), literal(now))
           .where(Worker.status == STATUS_ACTIVE, Worker.unblocked_at == now))
    if worker_ids is not None:
        sel = sel.where(Worker.id.in_(worker_ids))
    notify.insert_select(Notice, NOTICE_COLUMNS, sel)
    _audit_from_notices(batch, WORKER_UNBLOCKED, "unblock", {"status": [STATUS_BLOCKED, STATUS_ACTIVE]},
                        "certificate_renewed", today)
    out = {"unblocked": unblocked}
    out.update(notify.fan_out(batch, today, now))
    return out


def digest_step(today: date | None = None) -> dict:
    """One digest mail per HR user with notifications not yet in a digest (unique per user and day)."""
    return notify.queue_digests(today or clock.today())


#: The sweep, in order. ``unblock`` runs before ``block`` so a renewal on file never causes a
#: block/unblock pair on the same day. The job commits after each step.
STEPS = (("unblock", unblock_step), ("block", block_step), ("warn", warn_step), ("digest", digest_step))


def sweep(today: date | None = None, each_step=contextlib.nullcontext) -> Counts:
    """Run every step, each inside ``each_step()`` (the job passes ``uow.unit_of_work``: one commit
    per step); flushes only by itself."""
    today = today or clock.today()
    counts = Counts()
    for _name, step in STEPS:
        with each_step():
            if step is digest_step:
                counts.add(step(today))
            else:
                batch = new_batch()
                counts.batches.append(batch)
                counts.add(step(today, batch))
    return counts


def block_expired(today: date | None = None, reason: str = BLOCK_REASON) -> int:
    """Set-based: block (audited, announced) every worker without a valid certificate.
    Kept for ``profreg demo``; returns the number blocked."""
    return block_step(today)["blocked"]


def unblock_renewed(today: date | None = None) -> int:
    return unblock_step(today)["unblocked"]


# ------------------------------------------------------------------------- hook: certificate saved
def on_certificate_saved(cert_or_worker_ids, today: date | None = None) -> int:
    """Lift the block of the worker(s) of a saved certificate right away (audited and notified).
    Accepts a Certificate or an iterable of worker ids. Returns the number unblocked."""
    ids = [cert_or_worker_ids.worker_id] if isinstance(cert_or_worker_ids, Certificate) else list(cert_or_worker_ids)
    ids = [i for i in ids if i is not None]
    if not ids:
        return 0
    n = unblock_step(today, worker_ids=ids)["unblocked"]
    if n:
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Worker) and obj.id in ids:
                db.session.expire(obj)
    return n


def unblock_on_save(_sender, worker_ids=(), **_extra) -> None:
    """Receiver of ``signals.certificates_saved``: a saved certificate lifts its worker's block in the
    same unit of work (rule 14.5)."""
    on_certificate_saved(sorted(worker_ids))


_SESSION_KEY = "profreg_saved_cert_workers"
_HOOKED = False


def install_save_hook() -> None:
    """Any insert or change of a Certificate (panel, inline form, CLI, import) sends
    ``signals.certificates_saved`` with its workers before the commit completes; ``unblock_on_save``
    receives it. Registered once per process on the Session class."""
    global _HOOKED
    if _HOOKED:
        return

    @event.listens_for(Session, "after_flush")
    def _collect(session, _ctx):
        ids = {o.worker_id for o in list(session.new) + list(session.dirty) if isinstance(o, Certificate)}
        if ids:
            session.info.setdefault(_SESSION_KEY, set()).update(i for i in ids if i is not None)

    @event.listens_for(Session, "before_commit")
    def _announce(session):
        if not session.info.get(_SESSION_KEY) and not any(isinstance(o, Certificate)
                                                           for o in list(session.new) + list(session.dirty)):
            return
        session.flush()
        ids = session.info.pop(_SESSION_KEY, set())
        if ids and session is db.session():
            signals.certificates_saved.send(session, worker_ids=ids)

    @event.listens_for(Session, "after_rollback")
    def _forget(session):
        session.info.pop(_SESSION_KEY, None)

    signals.certificates_saved.connect(unblock_on_save)
    _HOOKED = True


def notice_given(worker, certificate=None, kind: str = CERT_EXPIRING):
    """'Was the 2-month notice given to this worker?' → rows (notice, mail to the worker or None).
    See docs/certificates.md for the plain SQL."""

    q = (select(Notice, MailOutbox).outerjoin(MailOutbox, and_(MailOutbox.notice_id == Notice.id,
                                                                MailOutbox.worker_id == Notice.worker_id))
         .where(Notice.worker_id == _id(worker), Notice.kind == kind).order_by(Notice.created_at))
    if certificate is not None:
        q = q.where(Notice.certificate_id == _id(certificate))
    return db.session.execute(q).all()


__all__ = ["EXPIRED", "EXPIRING", "VALID", "block_expired", "block_step", "clinical_admission_error",
           "digest_step", "expiring_certificates", "has_valid_certificate", "holds_valid_certificate",
           "install_save_hook",
           "notice_given", "on_certificate_saved", "specialty_statuses", "sweep", "unblock_renewed", "unblock_step",
           "warn_step", "worker_status", "workers_to_block", "workers_to_unblock"]
