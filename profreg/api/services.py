"""The rules of the API (docs/api.md): tokens, the admission check, the workers and organizations
it reads, its writes (the same services as the panel) and the change feed. Flushes, never commits.

Scope comes from ``profreg/access.py`` (``api_worker_clause``, ``admission_worker_clause``,
``fhir_worker_clause``, ``api_tokens_scoped``); admission from ``certificates.services`` (the one rule
the panel, the sweep and every hire use).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from .. import access, clock
from ..audit.models import AuditLog
from ..auth.models import User
from ..certificates.models import Certificate
from ..certificates.services import (
    admission_error,
    admitting_certificate,
    latest_certificate,
    register_certificate,
)
from ..errors import DomainError, InvalidInput, NotAllowed
from ..extensions import db
from ..orgs.models import Organization
from ..reference.models import AdminUnit, Specialty
from ..reference.services import by_code
from ..workers.models import STATUS_BLOCKED, Employment, Worker, fold
from ..workers.services import check_worker, end_employment, hire_registered, iin_registered
from .models import ApiToken

#: What a token is made of (``secrets.token_urlsafe``: 32 random bytes) and its visible prefix.
TOKEN_BYTES = 32
TOKEN_PREFIX = "prf_"
#: ``last_used_at`` is written at most this often per token (not a write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(NotAllowed):
    """No usable bearer token: 401 (missing, unknown, revoked, expired, or its user is disabled)."""

    def default_message(self):
        return _l("A valid API token is required.")


class NotFound(DomainError):
    """The row does not exist or lies outside the caller's scope (the same answer for both)."""

    def default_message(self):
        return _l("Not found.")


class StaleVersion(DomainError):
    """``If-Match`` names a version that is no longer current (412)."""

    def default_message(self):
        return _l("The record was changed by someone else; read it again and retry.")


# ------------------------------------------------------------------------------------------- tokens
def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(user: User, name: str | None = None, expires_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: returns the row and the token itself (shown once, stored hashed)."""
    if user is None or not user.active:
        raise InvalidInput({"email": _l("No active user with this e-mail.")})
    if expires_days is not None and expires_days < 1:
        raise InvalidInput({"expires_days": _l("Give a number of days of at least 1.")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.utcnow_naive()
    token = ApiToken(user_id=user.id, name=(name or "").strip()[:100] or str(_("API token")),
                     token_hash=token_hash(raw), prefix=raw[:8], created_at=now,
                     expires_at=now + timedelta(days=expires_days) if expires_days else None)
    db.session.add(token)
    db.session.flush()
    return token, raw


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    scheme, _sep, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate_token(raw: str | None) -> ApiToken:
    """The usable token for ``raw``; ``TokenRefused`` otherwise. Notes the last use (once a minute)."""
    if not raw:
        raise TokenRefused()
    token = db.session.execute(select(ApiToken).options(joinedload(ApiToken.user))  # one query per call
                               .where(ApiToken.token_hash == token_hash(raw))).scalar_one_or_none()
    now = clock.utcnow_naive()
    if token is None:
        raise TokenRefused()
    if token.revoked_at is not None:
        raise TokenRefused(_l("This API token was revoked."))
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(_l("This API token has expired."))
    if token.user is None or not token.user.active:
        raise TokenRefused(_l("The account of this API token is disabled."))
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def tokens_for(user):
    """The tokens ``user`` lists in the panel: his own (``admin``: every user's), newest first."""
    q = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return db.session.execute(access.api_tokens_scoped(q, user)).scalars().all()


def revoke_token(token_id: int, user) -> ApiToken:
    """Revoke a token the user may manage (his own; admin any). Flushes."""
    access.require(user, "api_token", access.DELETE)
    q = access.api_tokens_scoped(select(ApiToken).where(ApiToken.id == token_id), user)
    token = db.session.execute(q).scalar_one_or_none()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow_naive()
        db.session.flush()
    return token


# --------------------------------------------------------------------------------------- reference
def specialty_by_code(code: str | None, field: str = "specialty"):
    if not code:
        return None
    spec = db.session.execute(select(Specialty).where(Specialty.code == code)).scalar_one_or_none()
    if spec is None:
        raise InvalidInput({field: _l("Unknown code: %(code)s.", code=code)})
    return spec


def reference_by_code(model, code: str | None, field: str, required: bool = True):
    if not code:
        if required:
            raise InvalidInput({field: _l("This field is required.")})
        return None
    row = db.session.execute(select(model).where(model.code == code)).scalar_one_or_none()
    if row is None:
        raise InvalidInput({field: _l("Unknown code: %(code)s.", code=code)})
    return row


# ---------------------------------------------------------------------------------------- admission
@dataclass
class Admission:
    admitted: bool
    reason: str | None
    certificate: Certificate | None
    blocked: bool


def admission(user, *, iin: str, specialty_code: str | None, on: date | None) -> Admission:
    """May the worker with ``iin`` practise in the specialty on ``on`` (default today)? The rule of
    rule 14.5 (``certificates.services``): a certificate valid that day in the specialty or its parent
    (any specialty without one). Unknown IIN and a worker outside the caller's scope: ``NotFound``."""
    access.require(user, "admission", access.LIST)
    on = on or clock.today()
    specialty = None
    if specialty_code:  # id, code and name from the classifiers' cache: the rules below need no more
        specialty = by_code(Specialty, specialty_code)
        if specialty is None:
            raise InvalidInput({"specialty": _l("Unknown code: %(code)s.", code=specialty_code)})
    worker = db.session.execute(select(Worker.id, Worker.status).where(
        Worker.iin == (iin or "").strip(), Worker.in_register,
        access.admission_worker_clause(user, Worker.id))).first()
    if worker is None:
        raise NotFound(_l("No worker with this IIN in your scope."))
    # Admitted exactly when a certificate admits (both are ``admits_clause``'s rule): the certificate
    # is asked first, the reason only when there is none.
    cert = admitting_certificate(worker.id, specialty, on)
    reason = None if cert is not None else admission_error(worker.id, specialty, on)
    if reason is not None:
        cert = latest_certificate(worker.id, specialty, on)
    return Admission(admitted=reason is None, reason=reason, certificate=cert,
                     blocked=worker.status == STATUS_BLOCKED)


# -------------------------------------------------------------------------------------------- paging
def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, field: str = "cursor") -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput({field: _l("Not a valid cursor.")}) from None


# ----------------------------------------------------------------------------------------- workers
@dataclass
class WorkerFilters:
    iin: str | None = None
    surname: str | None = None
    org: str | None = None
    region: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def _current_episode(*conditions):
    e = Employment
    return exists().where(e.worker_id == Worker.id, e.current_on(clock.today()), *conditions)


def worker_query(scope_clause, filters: WorkerFilters):
    """SELECT of workers in the register within ``scope_clause`` (a condition on ``Worker.id``),
    narrowed by the filters of ``GET /api/v1/workers`` and ``/fhir/Practitioner``."""
    q = select(Worker).where(Worker.in_register, scope_clause)
    if filters.iin:
        q = q.where(Worker.iin == filters.iin.strip())
    if filters.surname:
        q = q.where(Worker.surname_folded.like(fold(filters.surname.strip()).replace("%", r"\%")
                                               .replace("_", r"\_") + "%", escape="\\"))
    if filters.org:
        org_ids = select(Organization.id).where(Organization.bin == filters.org.strip())
        q = q.where(_current_episode(Employment.organization_id.in_(org_ids)))
    if filters.region:
        unit_ids = select(AdminUnit.id).where(AdminUnit.code == filters.region.strip())
        q = q.where(_current_episode(Employment.region_id.in_(unit_ids)))
    if filters.status:
        q = q.where(Worker.status == filters.status)
    if filters.updated_since:
        q = q.where(Worker.touched_since(filters.updated_since))
    return q


def workers_page(user, filters: WorkerFilters, cursor: str | None, limit: int):
    """One page of the workers the user sees, in id order after ``cursor``: (workers, next cursor)."""
    after = decode_cursor(cursor)
    q = worker_query(access.api_worker_clause(user, Worker.id), filters)
    rows = db.session.execute(q.where(Worker.id > after).order_by(Worker.id).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].id) if more and rows else None)


def worker_by_iin(user, iin: str, *, for_update: bool = False) -> Worker:
    """The worker with ``iin`` if the user sees him (``NotFound`` otherwise)."""
    q = select(Worker).where(Worker.iin == (iin or "").strip(), Worker.in_register,
                             access.api_worker_clause(user, Worker.id))
    if for_update:
        q = q.with_for_update(of=Worker)
    worker = db.session.execute(q).scalar_one_or_none()
    if worker is None:
        raise NotFound(_l("No worker with this IIN in your scope."))
    return worker


def records(user, worker, model):
    """A worker's records of ``model`` in force that the user reads (none when he does not)."""
    if not access.api_records_visible(user, model):
        return []
    q = select(model).where(model.worker_id == worker.id)
    q = q.where(model.in_force) if hasattr(model, "superseded_by_id") else q.where(model.annulled_at.is_(None))
    return db.session.execute(q.order_by(model.id)).scalars().all()


def etag(worker) -> str:
    """The version of a worker's record as an ETag: his own version and the last save of any of his
    records (``updated_at``, set by every record's save), so any change makes a new one."""
    stamp = worker.updated_at.isoformat() if worker.updated_at else ""
    return hashlib.sha256(f"{worker.id}:{worker.version}:{stamp}".encode()).hexdigest()[:32]


def check_version(worker, if_match: str | None) -> None:
    """Optimistic locking: ``If-Match`` (required on writes) must name the current ETag."""
    if not if_match:
        raise InvalidInput({"If-Match": _l("Send the ETag of the record you read in If-Match.")})
    tags = [t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")]
    if "*" not in tags and etag(worker) not in tags:
        raise StaleVersion()


# ------------------------------------------------------------------------------------------ writes
CONTACT_FIELDS = ("email", "phone", "residence_address")


def update_contacts(user, worker, changes: dict) -> Worker:
    """Change a worker's contact data (e-mail, phone, residence) as the panel's edit form does: the
    ``edit`` right on workers in scope; the personal-data rules checked again. Flushes."""
    access.require(user, "worker", access.EDIT)
    if not access.in_scope(worker, user):
        raise NotFound()
    for key in CONTACT_FIELDS:
        if key in changes:
            value = changes[key]
            setattr(worker, key, value.strip() if isinstance(value, str) and value.strip() else None)
    check_worker(worker)
    db.session.flush()
    return worker


def hire_existing(user, *, iin: str, surname: str, birth_date: date | None, position, specialty, hire_date: date,
                  fte=None, department=None, order_number=None, concurrent: bool = False):
    """Hire a registered worker into the caller's organization: ``workers.services.hire_registered``
    (the panel's "Hire a registered worker", with its lookup limit and audit)."""
    access.require(user, "employment", access.CREATE)
    if user.organization is None:
        raise NotAllowed()
    return hire_registered(iin=iin, surname=surname, birth_date=birth_date, actor=user, position=position,
                           hire_date=hire_date, specialty=specialty, fte=fte, department=department,
                           order_number=order_number, concurrent=concurrent)


def end_episode(user, worker, episode_id: int, end_date: date, end_ground, end_category: str):
    """End the caller's organization's current episodes of the worker (``workers.services.end_employment``),
    naming one of them: it must be a current episode of the caller's organization."""
    episode = db.session.get(Employment, episode_id)
    if (episode is None or episode.worker_id != worker.id
            or episode.organization_id != getattr(user, "organization_id", None)):
        raise NotFound()
    if end_date is not None and not episode.current_on(end_date):
        raise InvalidInput({"end_date": _l("The episode is not current on that day.")})
    return end_employment(worker, user, end_date, end_ground, end_category)


def add_certificate(user, worker, *, specialty, number, issue_date, valid_until, issuer=None):
    """A new certificate on the worker's record (``certificates.services.register_certificate``)."""
    access.require(user, "worker_record", access.CREATE)
    if not access.in_scope(worker, user):
        raise NotFound()
    return register_certificate(worker, specialty=specialty, number=number, issue_date=issue_date,
                                valid_until=valid_until, issuer=issuer,
                                entered_by_organization_id=getattr(user, "organization_id", None))


def iin_taken(iin: str) -> bool:
    return iin_registered(iin)


# ----------------------------------------------------------------------------------- organizations
def organizations_query(user, *, fhir: bool = False):
    """SELECT of the organizations the user sees (the panel's scope; FHIR: ``fhir_org_ids``)."""
    q = select(Organization)
    if fhir:
        ids = access.fhir_org_ids(user)
        return q if ids is None else q.where(Organization.id.in_(ids))
    return access.scoped(q, Organization, user)


def organization_by_bin(user, bin_: str, *, fhir: bool = False) -> Organization:
    org = db.session.execute(organizations_query(user, fhir=fhir).where(Organization.bin == bin_)).scalar_one_or_none()
    if org is None:
        raise NotFound()
    return org


# ---------------------------------------------------------------------------------------- changes
#: Audit entries that make the change feed: (table, action) → event type.
EVENTS = {("worker", "create"): "worker.registered", ("worker", "update"): "worker.updated",
          ("worker", "block"): "worker.blocked", ("worker", "unblock"): "worker.unblocked",
          ("employment", "create"): "episode.started", ("employment", "update"): "episode.updated",
          ("certificate", "create"): "certificate.added", ("certificate", "update"): "certificate.updated"}


def event_type(entry: AuditLog) -> str:
    kind = EVENTS.get((entry.table_name, entry.action), "worker.updated")
    if kind == "episode.updated" and "end_date" in (entry.changes or {}):
        new = (entry.changes or {}).get("end_date")
        if isinstance(new, (list, tuple)) and len(new) == 2 and new[1]:
            return "episode.ended"
    return kind


def changes(user, since: str | None, limit: int):
    """The ordered feed of changes to workers within the user's scope, after ``since`` (a cursor from
    an earlier answer): derived from the audit trail (every path writes it), in its id order.
    Returns (entries with their worker, next cursor: always given, the same when nothing is new)."""
    after = decode_cursor(since, "since")
    pairs = [(t, a) for (t, a) in EVENTS]
    q = (select(AuditLog, Worker).join(Worker, Worker.id == AuditLog.worker_id)
         .where(AuditLog.id > after, or_(*[and_(AuditLog.table_name == t, AuditLog.action == a) for t, a in pairs]),
                access.api_worker_clause(user, AuditLog.worker_id))
         .order_by(AuditLog.id).limit(limit))
    rows = db.session.execute(q).all()
    last = rows[-1][0].id if rows else after
    return rows, encode_cursor(last)


__all__ = ["Admission", "NotFound", "StaleVersion", "TokenRefused", "WorkerFilters", "add_certificate", "admission",
           "authenticate_token", "bearer", "changes", "check_version", "create_token", "end_episode", "etag",
           "hire_existing", "organization_by_bin", "organizations_query", "records", "revoke_token", "token_hash",
           "tokens_for", "update_contacts", "worker_by_iin", "worker_query", "workers_page"]
