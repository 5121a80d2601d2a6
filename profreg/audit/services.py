"""Audit trail (rule 14 / issue 3): every create, update and delete of a register record, every view
of a worker's personal data and every export, with who, when, which record and old → new values.

Changes are captured by one ``before_flush`` listener, so admin views, inline rows, bulk actions,
the CLI and jobs are all audited through the same code path. Bulk SQL ``UPDATE`` statements (the
certificate sweep) bypass the ORM and write their own entries (``dedupe_key``).
"""
from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import MANYTOONE, Session

from .. import access, clock
from ..bulk import insert_rows
from ..extensions import db
from ..orgs.models import Organization
from ..workers.models import Employment
from .models import AuditLog

# Models whose changes are audited (the register itself, its organizations, users, reference data).
AUDITED = {
    "Worker", "Employment", "EducationDocument", "AcademicDegree", "AcademicTitle", "QualificationCategory",
    "Publication", "Certificate", "CpdRecord", "PersonnelDocument", "Organization", "StaffingPosition",
    "User", "EducationInstitution", "AdminUnit", "Country", "Specialty", "Position", "EducationLevel",
    "IdentityDocumentType", "AcademicDegreeType", "AcademicTitleType", "QualificationCategoryType",
    "PublicationType", "TrainingActivityType", "EmploymentEndReason", "LabourCodeGround", "PersonnelDocumentType",
    "OrganizationType", "OwnershipForm", "Transfer",
}
# Never written to the log in clear; bookkeeping columns that change on every save are skipped.
SECRET = {"password_hash", "totp_secret", "totp_recovery"}
SKIP = {"version", "updated_at", "surname_folded", "failed_logins", "last_login_at", "locked_until",
        "totp_last_step"}


def _json(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _actor():
    """The signed-in user of the current request (None outside requests: CLI, jobs = system)."""
    if not has_app_context():
        return None
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def _actor_id(user):
    if user is None:
        return None
    ident = inspect(user).identity
    return ident[0] if ident else None


def _fk(obj, rel):
    """``obj.<rel>_id``, or the id of the related object when the FK is not synced yet (before flush)."""
    value = getattr(obj, f"{rel}_id", None)
    if value is None:
        related = getattr(obj, rel, None) if hasattr(type(obj), rel) else None
        value = getattr(related, "id", None)
    return value


def _worker_id(obj):
    name = type(obj).__name__
    if name == "Worker":
        return obj.id
    return _fk(obj, "worker")


def _org_region(session, obj, worker_id, actor):
    """Organization and region an entry belongs to, so the audit view can be scoped."""

    name = type(obj).__name__
    org_id = None
    if name == "Organization":
        org_id = obj.id
    elif hasattr(obj, "organization_id") and name != "User":
        org_id = _fk(obj, "organization")
    if org_id is None and actor is not None and getattr(actor, "role", None) in access.ORG_ROLES:
        org_id = actor.organization_id
    if org_id is None and worker_id is not None:
        with session.no_autoflush:
            org_id = session.execute(
                select(Employment.organization_id).where(Employment.worker_id == worker_id,
                                                         Employment.current_on(clock.today()))
                .order_by(Employment.is_main.desc(), Employment.hire_date.desc()).limit(1)).scalar()
            if org_id is None:  # a departed worker: his last employer (corrections after dismissal, rule 9)
                org_id = session.execute(
                    select(Employment.organization_id).where(Employment.worker_id == worker_id,
                                                             Employment.annulled_at.is_(None))
                    .order_by(Employment.end_date.desc(), Employment.id.desc()).limit(1)).scalar()
    region_id = None
    if org_id is not None:
        region_id = _region_of(session, org_id)
    elif name == "Organization":
        region_id = obj.region_id
    return org_id, region_id


_REGIONS = "profreg_audit_regions"


def _region_of(session, org_id):
    """The region of an organization, read once per flush (a flush of many rows of one organization, a
    bulk import, asks it for every row)."""
    memo = session.info.setdefault(_REGIONS, {})
    if org_id not in memo:
        with session.no_autoflush:
            memo[org_id] = session.execute(select(Organization.region_id).where(Organization.id == org_id)).scalar()
    return memo[org_id]


def _actor_scope(session, actor):
    """The actor's own organization and region: an entry is seen by the actor's head as well as by
    the owner's (docs/integrity.md)."""
    if actor is None:
        return None, None
    org_id = getattr(actor, "organization_id", None)
    if org_id is None:
        return None, getattr(actor, "region_id", None)
    return org_id, _region_of(session, org_id)


_REASON = "profreg_audit_reason"


@contextlib.contextmanager
def reason(text: str):
    """The entries written inside the block carry ``text`` as their detail: the reason a correction,
    an annulment or an end of employment was given (docs/integrity.md)."""
    session = db.session()
    previous = session.info.get(_REASON)
    session.info[_REASON] = (text or "").strip()[:255] or None
    try:
        yield
        session.flush()  # the entries are written while the reason holds
    finally:
        session.info[_REASON] = previous


def _reason(session) -> str | None:
    return session.info.get(_REASON)


def current_reason() -> str | None:
    """The detail the entries written now carry (``reason``), for a bulk path that writes its own."""
    return _reason(db.session())


def _values(obj, mode):
    """``{column: [old, new]}`` of the changed columns (create: [None, new]; delete: [old, None])."""
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIP or key == "id":
            continue
        if mode == "update":
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
        elif mode == "create":
            old, new = None, getattr(obj, key)
            if new is None:
                continue
            if key in SECRET:
                out[key] = ["***", "***"]
            else:
                out[key] = created_change(new)
            continue
        else:
            old, new = getattr(obj, key), None
            if old is None:
                continue
        if key in SECRET:
            out[key] = ["***", "***"]
        else:
            out[key] = [_json(old), _json(new)]
    # A form or a service that sets a relationship (``episode.end_reason = ...``) changes its foreign key
    # only during the flush, after this listener: the change is read from the relationship instead.
    for rel in state.mapper.relationships:
        if rel.direction is not MANYTOONE or len(rel.local_columns) != 1:
            continue
        key = state.mapper.get_property_by_column(next(iter(rel.local_columns))).key
        if key in out or key in SKIP:
            continue
        hist = state.attrs[rel.key].history
        if mode == "delete" or not hist.added:
            continue
        old = _pk(hist.deleted[0]) if hist.deleted else (None if mode == "create" else getattr(obj, key))
        new = _pk(hist.added[0])
        if old != new and not (mode == "create" and new is None):
            out[key] = [old, new]
    return out


def created_change(value) -> list:
    """The ``[old, new]`` pair a 'create' entry records for a column set to ``value`` (not None)."""
    return [None, _json(value)]


_PLAIN = (str, int, float, bool)


def created_values(values: dict) -> dict:
    """``changes`` of a 'create' entry for a row inserted from ``values`` ({column: value}): the non-empty
    columns but the id and the bookkeeping ones, as the listener records an object's (``_values``)."""
    return {key: (["***", "***"] if key in SECRET else [None, value if type(value) in _PLAIN else _json(value)])
            for key, value in values.items() if value is not None and key != "id" and key not in SKIP}


def log_created(table_name: str, records, *, actor, detail: str | None, region_of: dict) -> int:
    """'create' entries for rows a bulk path inserted with Core (a bulk import): the same content the
    ``before_flush`` listener writes for each created object — who, when, the table, the record, its
    worker, its organization and region, the actor's own, the columns set and the detail — written with
    one INSERT (``bulk.insert_rows``: COPY on PostgreSQL). ``records`` are ``(record_id, worker_id, organization_id, values)``; ``region_of`` maps an
    organization id to its region. Returns the entries written."""
    rows = []
    actor_org, actor_region = _actor_scope(db.session, actor)
    at, user_id = clock.utcnow_naive(), _actor_id(actor)
    for record_id, worker_id, org_id, values in records:
        rows.append({"at": at, "user_id": user_id, "action": "create", "table_name": table_name,
                     "record_id": record_id, "worker_id": worker_id, "organization_id": org_id,
                     "region_id": region_of.get(org_id), "actor_organization_id": actor_org,
                     "actor_region_id": actor_region, "changes": created_values(values),
                     "detail": (detail or None) and detail[:255], "dedupe_key": None})
    insert_rows(AuditLog.__table__, rows)
    return len(rows)


def _pk(obj):
    """The id of a related object (None when it has none yet)."""
    if obj is None:
        return None
    ident = inspect(obj).identity
    return ident[0] if ident else None


def _before_flush(session, _ctx, _instances):
    actor = _actor()
    pending = session.info.setdefault("audit_pending", [])
    for mode, objs in (("create", list(session.new)), ("update", list(session.dirty)),
                       ("delete", list(session.deleted))):
        for obj in objs:
            if type(obj).__name__ not in AUDITED:
                continue
            if mode == "update" and not session.is_modified(obj, include_collections=False):
                continue
            with session.no_autoflush:
                changes = _values(obj, mode)
            if mode == "update" and not changes:
                continue
            worker_id = _worker_id(obj)
            org_id, region_id = _org_region(session, obj, worker_id, actor)
            actor_org, actor_region = _actor_scope(session, actor)
            entry = AuditLog(at=clock.utcnow_naive(), user_id=_actor_id(actor), action=mode,
                             table_name=obj.__tablename__, record_id=getattr(obj, "id", None),
                             worker_id=worker_id, organization_id=org_id, region_id=region_id,
                             actor_organization_id=actor_org, actor_region_id=actor_region,
                             changes=changes, detail=_reason(session))
            session.add(entry)
            if mode == "create":
                pending.append((entry, obj))


def _after_flush_postexec(session, _ctx):
    """New rows get their ids during the flush: copy them into their 'create' entries."""
    session.info.pop(_REGIONS, None)
    pending = session.info.pop("audit_pending", [])
    for entry, obj in pending:
        ident = inspect(obj).identity
        if ident:
            entry.record_id = ident[0]
            if type(obj).__name__ == "Worker":
                entry.worker_id = ident[0]
            elif entry.worker_id is None:
                entry.worker_id = _worker_id(obj)
            if type(obj).__name__ == "Organization" and entry.organization_id is None:
                entry.organization_id = ident[0]


_INSTALLED = False


def install() -> None:
    """Register the listeners once per process (every Session, so CLI and jobs are covered)."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    _INSTALLED = True


def log_read(action: str, obj, user, detail: str | None = None) -> AuditLog:
    """Read-log entry: ``user`` viewed (or downloaded) ``obj``. Flushes, never commits."""

    return log_event(action, user, record=obj, detail=detail)


def log_event(action: str, user, *, record=None, table_name: str | None = None,
              detail: str | None = None) -> AuditLog:
    """An entry for what ``user`` did that is not a change of a row's columns (a view, a download, a
    confirmation that a record is current, a search for a registered worker): ``record`` is the row
    concerned, if any (else ``table_name`` names the kind). Flushes, never commits."""

    worker_id = _worker_id(record) if record is not None else None
    org_id, region_id = _org_region(db.session, record, worker_id, user)
    actor_org, actor_region = _actor_scope(db.session, user)
    entry = AuditLog(at=clock.utcnow_naive(), user_id=_actor_id(user), action=action,
                     table_name=record.__tablename__ if record is not None else table_name,
                     record_id=getattr(record, "id", None), worker_id=worker_id,
                     organization_id=org_id, region_id=region_id, actor_organization_id=actor_org,
                     actor_region_id=actor_region, detail=(detail or None) and detail[:255])
    db.session.add(entry)
    db.session.flush()
    return entry


def log_export(model, user, export_type: str, query: str = "") -> AuditLog:
    """Read-log entry for an export (what, in which format, with which filters)."""

    org_id = getattr(user, "organization_id", None) if getattr(user, "role", None) in access.ORG_ROLES else None
    region_id = getattr(user, "region_id", None)
    if org_id is not None:

        region_id = db.session.execute(select(Organization.region_id).where(Organization.id == org_id)).scalar()
    actor_org, actor_region = _actor_scope(db.session, user)
    entry = AuditLog(at=clock.utcnow_naive(), user_id=_actor_id(user), action="export",
                     table_name=model.__tablename__, organization_id=org_id, region_id=region_id,
                     actor_organization_id=actor_org, actor_region_id=actor_region,
                     detail=f"{export_type} {query}".strip()[:255])
    db.session.add(entry)
    db.session.flush()
    return entry
