"""Certificate rules (rules 14.4, 14.5): status per specialty, warnings, blocking and unblocking.

The exact rule is written in ``docs/certificates.md``; the predicates it uses (valid on D, the latest
certificate, the warning date, expiring on D) are defined once on the model (``models.py``). In short:

* per specialty, a worker's status is **expired** when the worker has certificates of that specialty but
  none is valid on D; **expiring** when one is valid and the specialty's latest certificate is
  ``expiring_on(D)``; **valid** otherwise; no entry when the worker never held one;
* admission per post: a clinical post in specialty S needs a certificate valid on D in S or in the parent
  specialty of S (any specialty when the post names none); ``clinical_admission_error`` refuses a new or
  changed post without one on every path;
* the sweep blocks the **posts** without one (``employment.blocked_at``, the certificate that expired) and
  the worker holding such a post (reason ``certificate_expired``); a post is lifted when a certificate for
  its specialty is on file, the worker when no current post is blocked (sweep, or at once on save).

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
from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    event,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.types import JSON

from .. import clock, signals
from ..audit.models import AuditLog
from ..clock import day_start_utc
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import fmt_date
from ..monitoring.services import reports_due_step
from ..notifications import services as notify
from ..notifications.models import CERT_EXPIRING, WORKER_BLOCKED, WORKER_UNBLOCKED, MailOutbox, Notice
from ..orgs.models import Organization
from ..reference.models import Position, Specialty
from ..workers.models import STATUS_ACTIVE, STATUS_BLOCKED, Employment, Worker
from ..workers.search import certificate_status_case
from .models import Certificate

BLOCK_REASON = "certificate_expired"

VALID, EXPIRING, EXPIRED = "valid", "expiring", "expired"
STATUS_LABELS = {VALID: "Valid", EXPIRING: "Expiring", EXPIRED: "Expired"}


# --------------------------------------------------------------------------------------- SQL clauses
def _parent_specialty(specialty_id_col):
    # correlated to the episode of the enclosing statement (auto-correlation stops at the nearest SELECT)
    return select(Specialty.parent_id).where(Specialty.id == specialty_id_col).correlate_except(Specialty) \
        .scalar_subquery()


def _admitting_specialty(specialty_id_col):
    """SQL on Certificate: its specialty admits to ``specialty_id_col`` (the specialty itself or its parent
    specialty; any specialty when the clinical post names none). The reference data of the mapping is
    ``Specialty.parent_id``."""
    return or_(specialty_id_col.is_(None), Certificate.specialty_id == specialty_id_col,
               Certificate.specialty_id == _parent_specialty(specialty_id_col))


def admits_clause(worker_id_col, specialty_id_col, today: date):
    """SQL, **the** admission rule: the worker holds a certificate valid on ``today`` that admits to the
    specialty (``_admitting_specialty``). The form and CLI checks (``clinical_admission_error``) and the
    sweep (``admitted_clause``) both use it."""
    return exists().where(and_(Certificate.worker_id == worker_id_col, Certificate.valid_on(today),
                               _admitting_specialty(specialty_id_col)))


def admitted_clause(episode=Employment, today: date | None = None):
    """SQL: the episode's worker holds a certificate valid on ``today`` admitting to its specialty."""
    return admits_clause(episode.worker_id, episode.specialty_id, today)


def _clinical(episode=Employment):
    return episode.position_id.in_(select(Position.id).where(Position.is_clinical.is_(True)))


def _to_block(today: date):
    return (Employment.blocked_at.is_(None), Employment.current_on(today), _clinical(),
            ~admitted_clause(Employment, today))


def _to_unblock(today: date):
    return Employment.blocked_at.is_not(None), admitted_clause(Employment, today)


def episodes_to_block(today: date | None = None):
    """SELECT of ids of the current clinical episodes, not blocked yet, whose specialty has no certificate
    valid on ``today`` (rule 14.5 per post)."""
    return select(Employment.id).where(*_to_block(today or clock.today()))


def episodes_to_unblock(today: date | None = None):
    """SELECT of ids of blocked episodes whose specialty now has a certificate valid on ``today``."""
    return select(Employment.id).where(*_to_unblock(today or clock.today()))


def _expired_certificate():
    """SQL (correlated to the episode being blocked): the latest certificate in force that admitted to
    the episode's specialty, i.e. the one that expired; NULL when the worker never held one."""
    return (select(Certificate.id).where(Certificate.worker_id == Employment.worker_id, Certificate.in_force,
                                         _admitting_specialty(Employment.specialty_id))
            .order_by(*Certificate.latest_first()).limit(1).scalar_subquery())


def mark_episodes(today: date | None = None, worker_ids=None, blocked_workers_only: bool = False) -> dict:
    """Set-based: lift the block of every blocked episode whose specialty now has a valid certificate, and
    block (with the certificate that expired) every current clinical episode whose specialty has none
    (with ``blocked_workers_only``, only the posts of workers blocked already: the unblock step judges
    them by their posts, and an active worker's posts are blocked together with him, in ``block_step``).
    The worker's status follows in ``block_step`` / ``unblock_step``."""
    today = today or clock.today()
    now = clock.utcnow_naive()
    lift = update(Employment).where(*_to_unblock(today))
    put = update(Employment).where(*_to_block(today))
    if blocked_workers_only:
        put = put.where(Employment.worker_id.in_(select(Worker.id).where(Worker.status == STATUS_BLOCKED)))
    if worker_ids is not None:
        lift, put = lift.where(Employment.worker_id.in_(worker_ids)), put.where(Employment.worker_id.in_(worker_ids))
    opts = {"synchronize_session": False}
    lifted = db.session.execute(lift.values(blocked_at=None, blocked_certificate_id=None).execution_options(**opts))
    blocked = db.session.execute(put.values(blocked_at=now, blocked_certificate_id=_expired_certificate())
                                 .execution_options(**opts))
    return {"episodes_unblocked": max(lifted.rowcount or 0, 0), "episodes_blocked": max(blocked.rowcount or 0, 0)}


def blocked_episode_clause(worker_id_col, today: date):
    """SQL: the worker holds a current episode that is blocked (few rows: an IN over them)."""
    return worker_id_col.in_(select(Employment.worker_id).where(Employment.blocked_at.is_not(None),
                                                                Employment.current_on(today)))


def workers_to_block(today: date | None = None):
    """SELECT of ids of active workers who hold a blocked current episode on ``today``."""
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_ACTIVE, blocked_episode_clause(Worker.id, today))


def workers_to_unblock(today: date | None = None):
    """SELECT of ids of workers blocked for their certificates who hold no blocked current episode any
    more (a certificate for the blocked post's specialty is on file, or the post has ended)."""
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_BLOCKED, Worker.blocked_reason == BLOCK_REASON,
                                   ~blocked_episode_clause(Worker.id, today))


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
    """Does ``worker`` hold a certificate valid on ``on_date`` admitting to ``specialty`` (a certificate of
    that specialty or of its parent specialty; of any specialty when ``specialty`` is None)?"""
    if _id(worker) is None:
        return False
    spec = _id(specialty)
    q = select(literal(1)).where(admits_clause(literal(_id(worker)), literal(spec, type_=Integer),
                                               on_date or clock.today()))
    return db.session.execute(q).first() is not None


def holds_valid_certificate(worker, on_date: date | None = None) -> bool:
    """Does ``worker`` hold a certificate (of any specialty) valid on ``on_date``?"""
    return has_valid_certificate(worker, None, on_date)


def admitting_certificate(worker, specialty, on_date: date | None = None):
    """The certificate that admits ``worker`` to ``specialty`` on ``on_date`` (valid that day, of the
    specialty or its parent: ``admits_clause``'s rule; the one valid longest), or None."""
    spec = literal(_id(specialty), type_=Integer)
    return db.session.execute(
        select(Certificate).options(joinedload(Certificate.specialty))  # answers name it
        .where(Certificate.worker_id == _id(worker), Certificate.valid_on(on_date or clock.today()),
               _admitting_specialty(spec))
        .order_by(*Certificate.latest_first()).limit(1)).scalar_one_or_none()


def latest_certificate(worker, specialty, on_date: date | None = None):
    """The latest certificate in force (as known on ``on_date``) of the specialties that admit to
    ``specialty``, valid or not: what an admission answer names when none is valid."""
    spec = literal(_id(specialty), type_=Integer)
    return db.session.execute(
        select(Certificate).options(joinedload(Certificate.specialty))
        .where(Certificate.worker_id == _id(worker), Certificate.issued_by(on_date or clock.today()),
               _admitting_specialty(spec))
        .order_by(*Certificate.latest_first()).limit(1)).scalar_one_or_none()


def admission_error(worker, specialty, on_date: date | None = None) -> str | None:
    """Why ``worker`` may not practise in ``specialty`` (None: any) on ``on_date``, translated, or None
    when admitted: the rule of a clinical post (``clinical_admission_error``), asked without a post
    (the API's admission check)."""
    on_date = on_date or clock.today()
    if has_valid_certificate(worker, specialty, on_date):
        return None
    if specialty is None:
        return _("A clinical position needs a specialist certificate valid on %(date)s; this worker holds "
                 "none. Register the certificate first.", date=fmt_date(on_date))
    return _("No specialist certificate valid on %(date)s for the specialty %(specialty)s.",
             date=fmt_date(on_date), specialty=str(specialty))


def register_certificate(worker, *, specialty, number: str, issue_date: date, valid_until: date | None,
                         issuer: str | None = None, entered_by_organization_id: int | None = None) -> Certificate:
    """Add a specialist certificate to a worker's national record (renewal adds a new one; flushes,
    never commits). The checks the panel's form and the database make, as translated field errors:
    dates in order, not issued in the future, a number not taken by a certificate in force. The
    admission of the worker's posts follows in the same unit (``install_save_hook``)."""
    errors: dict = {}
    number = (number or "").strip()
    if not number:
        errors["number"] = _("This field is required.")
    if specialty is None:
        errors["specialty"] = _("This field is required.")
    if issue_date is None:
        errors["issue_date"] = _("This field is required.")
    elif issue_date > clock.today():
        errors["issue_date"] = _("The date of issue cannot be in the future.")
    if issue_date is not None and valid_until is not None and valid_until < issue_date:
        errors["valid_until"] = _("The end of validity cannot be before the date of issue.")
    if number and db.session.execute(select(Certificate.id).where(Certificate.number == number,
                                                                  Certificate.in_force)).first():
        errors["number"] = _("A certificate with this number is already registered.")
    if errors:
        raise InvalidInput(errors)
    cert = Certificate(worker=worker, specialty=specialty, number=number, issue_date=issue_date,
                       valid_until=valid_until, issuer=issuer, entered_by_organization_id=entered_by_organization_id)
    db.session.add(cert)
    db.session.flush()
    return cert


def clinical_admission_error(worker, position, specialty, on_date: date | None = None) -> str | None:
    """Admission to clinical practice (rule 14.5), the one rule every path that opens or changes an
    employment episode calls (panel create and edit, hire of a registered worker, CLI, import, API): a
    translated reason why ``worker`` may not hold ``position`` in ``specialty`` on ``on_date``, or None.

    * a non-clinical position needs no certificate;
    * a clinical position in a specialty needs a certificate valid that day in the specialty or in its
      parent specialty (the reference data ``Specialty.parent_id``);
    * a clinical position that names no specialty needs a certificate valid that day in some specialty.
    The sweep applies the same rule to the posts already held (``admitted_clause``)."""
    if position is None or not getattr(position, "is_clinical", False):
        return None
    return admission_error(worker, specialty, on_date)


def admission_refused(posts, on_date: date) -> set:
    """The set form of ``clinical_admission_error`` for many posts at once (a bulk import): ``posts`` are
    ``(key, worker_id, position, specialty)``; returns the keys of the clinical posts whose worker holds no
    certificate valid on ``on_date`` admitting to the specialty (``admits_clause``, the one rule). One
    query per specialty; the caller asks ``clinical_admission_error`` for the message of the few refused."""
    by_specialty: dict = {}
    for key, worker_id, position, specialty in posts:
        if position is not None and getattr(position, "is_clinical", False):
            by_specialty.setdefault(getattr(specialty, "id", specialty), {}).setdefault(worker_id, []).append(key)
    refused = set()
    for specialty_id, workers in by_specialty.items():
        ids = sorted(workers)
        for start in range(0, len(ids), 1000):
            query = select(Worker.id).where(Worker.id.in_(ids[start:start + 1000]),
                                            ~admits_clause(Worker.id, literal(specialty_id, type_=Integer), on_date))
            for worker_id in db.session.execute(query).scalars():
                refused.update(workers[worker_id])
    return refused


def block_reasons(worker, on_date: date | None = None) -> list[str]:
    """Why ``worker`` is blocked, one translated line per blocked current post: the post, its specialty
    and the certificate that expired (or that none was ever held)."""
    on_date = on_date or clock.today()
    episodes = db.session.execute(
        select(Employment).where(Employment.worker_id == _id(worker), Employment.blocked_at.is_not(None),
                                 Employment.current_on(on_date))
        .options(joinedload(Employment.position), joinedload(Employment.specialty),  # one statement, not five
                 joinedload(Employment.organization),
                 joinedload(Employment.blocked_certificate).joinedload(Certificate.specialty))
        .order_by(Employment.blocked_at, Employment.id)).scalars().all()
    out = []
    for e in episodes:
        post = f"{e.position}, {e.specialty}" if e.specialty is not None else str(e.position)
        c = e.blocked_certificate
        if c is not None:
            out.append(_("%(post)s (%(organization)s): certificate %(number)s in %(specialty)s expired on "
                         "%(date)s", post=post, organization=e.organization.name, number=c.number,
                         specialty=str(c.specialty), date=fmt_date(c.valid_until)))
        else:
            out.append(_("%(post)s (%(organization)s): no specialist certificate for this specialty",
                         post=post, organization=e.organization.name))
    return out


# ------------------------------------------------------------------------------------ sweep steps
@dataclass
class Counts:
    warned: int = 0
    blocked: int = 0
    unblocked: int = 0
    episodes_blocked: int = 0
    episodes_unblocked: int = 0
    notifications: int = 0
    mails_queued: int = 0
    reports_due: int = 0  # regions whose report of the last month is not submitted (their coordinators told)
    batches: list[str] = field(default_factory=list)

    def add(self, other: dict):
        for k, v in other.items():
            setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("warned", "blocked", "unblocked", "episodes_blocked",
                                              "episodes_unblocked", "notifications", "mails_queued")}


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


def _blocked_certificate(today: date):
    """SQL (correlated to Worker): the certificate named in the worker's block notice, that of his first
    blocked current episode."""
    return (select(Employment.blocked_certificate_id)
            .where(Employment.worker_id == Worker.id, Employment.blocked_at.is_not(None), Employment.current_on(today))
            .order_by(Employment.blocked_at, Employment.id).limit(1).correlate(Worker).scalar_subquery())


def block_step(today: date | None = None, batch: str | None = None, worker_ids=None) -> dict:
    """Block every current clinical episode whose specialty has no valid certificate, and every active
    worker holding such an episode (status, reason, time); then, for every certificate block of the day
    not yet announced, a notice naming the certificate, an audit entry and notices to HR and the worker."""
    today = today or clock.today()
    batch = batch or new_batch()
    now = clock.utcnow_naive()
    out = mark_episodes(today, worker_ids)
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
    sel = (select(literal(WORKER_BLOCKED), _event_key("block:", Worker.blocked_at), Worker.id,
                  _blocked_certificate(today), literal(batch), literal(now))
           .where(Worker.status == STATUS_BLOCKED, Worker.blocked_reason == BLOCK_REASON,
                  Worker.blocked_at >= day_start_utc(today)))
    if worker_ids is not None:
        sel = sel.where(Worker.id.in_(worker_ids))
    notify.insert_select(Notice, NOTICE_COLUMNS, sel)
    _audit_from_notices(batch, WORKER_BLOCKED, "block", {"status": [STATUS_ACTIVE, STATUS_BLOCKED]}, BLOCK_REASON,
                        today)
    out["blocked"] = blocked
    out.update(notify.fan_out(batch, today, now))
    return out


def unblock_step(today: date | None = None, batch: str | None = None, worker_ids=None) -> dict:
    """Lift the block of every episode whose specialty now has a valid certificate, then of every
    worker who holds no blocked current episode any more (audited, notified). The episodes are marked
    both ways first, so a worker blocked before per-post blocking existed is judged by his posts."""
    today = today or clock.today()
    batch = batch or new_batch()
    now = clock.utcnow_naive()
    marked = mark_episodes(today, worker_ids, blocked_workers_only=True)
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
    out = {"unblocked": unblocked, **marked}
    out.update(notify.fan_out(batch, today, now))
    return out


def refresh_certificate_statuses(today: date | None = None, worker_ids=None, connection=None) -> int:
    """Store the certificate status on ``today`` (``workers.search.certificate_status_case``) of the
    workers ``worker_ids`` (all when None) in ``Worker.cert_status`` / ``cert_status_on``: one UPDATE,
    which leaves ``updated_at`` (data currency) and the optimistic-lock ``version`` alone. Returns the
    rows written."""
    today = today or clock.today()
    table = Worker.__table__
    stmt = update(table).values(cert_status=certificate_status_case(today), cert_status_on=today,
                                updated_at=table.c.updated_at)
    if worker_ids is not None:
        ids = sorted(set(worker_ids))
        if not ids:
            return 0
        stmt = stmt.where(table.c.id.in_(ids))
    return (connection or db.session.connection()).execute(stmt).rowcount


def statuses_step(today: date | None = None, batch: str | None = None) -> dict:
    """The sweep's step: every worker's certificate status of the day stored (the list filter's)."""
    refresh_certificate_statuses(today)
    return {}


# Every certificate written through the ORM (form, correction, annulment, API, one-worker import) and
# every worker registered: their stored status refreshed in the same transaction, after the flush.
_STATUS_WORKERS = "profreg_certificate_status_workers"


@event.listens_for(Session, "after_flush")
def _note_certificate_writes(session, _ctx) -> None:
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Certificate):
            worker_id = obj.worker_id if obj.worker_id is not None else getattr(obj.worker, "id", None)
            if worker_id is not None:
                ids.add(worker_id)
        elif isinstance(obj, Worker) and obj in session.new:
            ids.add(obj.id)
    if ids:
        session.info.setdefault(_STATUS_WORKERS, set()).update(ids)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_written_statuses(session, _ctx) -> None:
    ids = session.info.pop(_STATUS_WORKERS, None)
    if ids:
        refresh_certificate_statuses(clock.today(), ids, session.connection())


def digest_step(today: date | None = None) -> dict:
    """One digest mail per HR user with notifications not yet in a digest (unique per user and day)."""
    return notify.queue_digests(today or clock.today())


#: The sweep, in order. ``unblock`` runs before ``block`` so a renewal on file never causes a
#: block/unblock pair on the same day. The job commits after each step.
STEPS = (("unblock", unblock_step), ("block", block_step), ("warn", warn_step),
         ("reports", reports_due_step), ("statuses", statuses_step), ("digest", digest_step))


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


# ------------------------------------------------------------------- hook: certificate or post saved
def on_certificate_saved(cert_or_worker_ids, today: date | None = None, withdrawn=()) -> int:
    """Apply rule 14.5 at once to the worker(s) of a saved certificate or episode: lift the blocks a valid
    certificate now allows (audited and notified), and, for the workers in ``withdrawn`` (a certificate
    of theirs left force: corrected or annulled), block the posts it admitted to. Accepts a Certificate
    or an iterable of worker ids. Returns the number of workers unblocked."""
    ids = [cert_or_worker_ids.worker_id] if isinstance(cert_or_worker_ids, Certificate) else list(cert_or_worker_ids)
    ids = sorted({i for i in ids if i is not None})
    withdrawn = sorted({i for i in withdrawn if i is not None})
    if not ids and not withdrawn:
        return 0
    n = unblock_step(today, worker_ids=ids)["unblocked"] if ids else 0
    if withdrawn:
        block_step(today, worker_ids=withdrawn)
    touched = set(ids) | set(withdrawn)
    for obj in list(db.session.identity_map.values()):
        if (isinstance(obj, Worker) and obj.id in touched) or (isinstance(obj, Employment)
                                                                and obj.worker_id in touched):
            db.session.expire(obj)
    return n


def sync_on_save(_sender, worker_ids=(), withdrawn=(), **_extra) -> None:
    """Receiver of ``signals.admission_changed``: the blocking rule follows a saved certificate or post in
    the same unit of work (rule 14.5)."""
    on_certificate_saved(worker_ids, withdrawn=withdrawn)


_SESSION_KEY = "profreg_admission_workers"
_WITHDRAWN_KEY = "profreg_admission_withdrawn"
_HOOKED = False


def _admission_changes(session) -> tuple[set, set]:
    """(workers whose certificates or posts were added or changed, workers a certificate of whom left force)."""
    ids, withdrawn = set(), set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, (Certificate, Employment)) and obj.worker_id is not None:
            ids.add(obj.worker_id)
            if isinstance(obj, Certificate) and obj in session.dirty and not obj.in_force:
                withdrawn.add(obj.worker_id)
    return ids, withdrawn


def install_save_hook() -> None:
    """Any insert or change of a Certificate or an Employment episode (panel, inline form, CLI, import,
    API) sends ``signals.admission_changed`` with its workers before the commit completes; ``sync_on_save``
    receives it. Registered once per process on the Session class."""
    global _HOOKED
    if _HOOKED:
        return

    @event.listens_for(Session, "after_flush")
    def _collect(session, _ctx):
        ids, withdrawn = _admission_changes(session)
        if ids:
            session.info.setdefault(_SESSION_KEY, set()).update(ids)
        if withdrawn:
            session.info.setdefault(_WITHDRAWN_KEY, set()).update(withdrawn)

    @event.listens_for(Session, "before_commit")
    def _announce(session):
        if not session.info.get(_SESSION_KEY) and not any(isinstance(o, (Certificate, Employment))
                                                           for o in list(session.new) + list(session.dirty)):
            return
        session.flush()
        ids = session.info.pop(_SESSION_KEY, set())
        withdrawn = session.info.pop(_WITHDRAWN_KEY, set())
        if (ids or withdrawn) and session is db.session():
            signals.admission_changed.send(session, worker_ids=ids, withdrawn=withdrawn)

    @event.listens_for(Session, "after_rollback")
    def _forget(session):
        session.info.pop(_SESSION_KEY, None)
        session.info.pop(_WITHDRAWN_KEY, None)

    signals.admission_changed.connect(sync_on_save)
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


__all__ = ["EXPIRED", "EXPIRING", "VALID", "admission_refused", "block_expired", "block_step", "clinical_admission_error",
           "admits_clause", "admitted_clause", "block_reasons", "digest_step", "refresh_certificate_statuses",
           "statuses_step", "episodes_to_block", "episodes_to_unblock",
           "expiring_certificates", "has_valid_certificate", "holds_valid_certificate", "install_save_hook",
           "mark_episodes",
           "notice_given", "on_certificate_saved", "specialty_statuses", "sweep", "unblock_renewed", "unblock_step",
           "warn_step", "worker_status", "workers_to_block", "workers_to_unblock"]
