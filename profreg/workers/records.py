"""The national record is never erased (docs/integrity.md): how worker records are corrected and
annulled, how a record entered by mistake is annulled and restored, and the session guard that keeps
every path (panel forms, inline forms, bulk actions, CLI, import, API) to these rules.

* ``correct(record, changes, reason, actor)``: a new version of a worker record with the changes; the
  old one is kept, superseded, and both show in the history.
* ``annul(record, reason, actor)`` / ``restore(record, actor)``: a wrong entry leaves every rule and
  list, and comes back.
* ``annul_worker`` / ``restore_worker`` (the ministry): the wrong person was registered.
* ``install()``: the guard. A saved record's data is not changed in place, and no worker, record or
  episode is deleted through the ORM; new records get the organization that entered them.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from .. import access, clock
from ..audit.services import reason as audit_reason
from ..errors import DomainError, InvalidInput, NotAllowed
from ..extensions import db
from .models import Employment, Worker, WorkerRecord

#: Columns of a record that record-keeping itself changes (the rest is the record's data).
BOOKKEEPING = frozenset({"superseded_by_id", "annulled_at", "annulled_by_id", "annul_reason"})
#: Never copied into a correction (its own identity and history).
NOT_COPIED = frozenset({"id", "entered_at", "entered_by_organization_id", "correction_reason", "created_at",
                        "uploaded_at", *BOOKKEEPING})

_OPS = "profreg_record_ops"        # objects the services below are allowed to change
_MAINTENANCE = "profreg_maintenance"  # a unit of work allowed to delete (none in the panel)

#: Extra rules of a correction per model: ``check(old, changes, user) -> message or None``; a domain
#: registers its own (certificates: only the region or the ministry extend or empty a validity).
CORRECTION_CHECKS: dict[type, Callable] = {}

NO_REASON = _l("Give the reason.")
IMMUTABLE = _l("A saved record is not changed: correct it (a new version with the reason) or annul it.")
NOT_DELETED = _l("The national record is not deleted: end the employment, or correct or annul the entry.")


def correction_check(model):
    """Decorator: register ``fn(old, changes, user)`` as an extra rule of corrections of ``model``."""
    def register(fn):
        CORRECTION_CHECKS[model] = fn
        return fn
    return register


def _reason(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"reason": NO_REASON})
    return text[:500]


def _allowing(session, *objs):
    session.info.setdefault(_OPS, set()).update(id(o) for o in objs)


def _require_record_right(user, record) -> None:
    if not access.may_correct_record(user, record):
        raise NotAllowed(_l("You may correct or annul this entry only within %(days)s days of entering it; "
                            "later the region or the ministry does.", days=_correction_days()))


def _correction_days() -> int:
    return current_app.config.get("CORRECTION_DAYS", 30)


def correct(record: WorkerRecord, changes: dict, reason: str, actor) -> WorkerRecord:
    """A new version of ``record`` with ``changes`` (column → value); the old one is superseded. The
    new version counts as entered by the actor's organization now."""
    if not record.in_force:
        raise DomainError(_l("Only the version in force can be corrected."))
    _require_record_right(actor, record)
    text = _reason(reason)
    model = type(record)
    columns = {c.key for c in inspect(model).column_attrs}
    unknown = set(changes) - columns
    if unknown or set(changes) & NOT_COPIED or "worker_id" in changes:
        raise InvalidInput({None: _l("These fields are not corrected this way.")})
    if not any(getattr(record, k) != v for k, v in changes.items()):
        raise InvalidInput({None: _l("The correction changes nothing.")})
    check = CORRECTION_CHECKS.get(model)
    message = check(record, changes, actor) if check else None
    if message:
        raise NotAllowed(message)
    values = {k: getattr(record, k) for k in columns - NOT_COPIED}
    values.update(changes)
    session = db.session()
    with audit_reason(text):
        # the old version leaves the rules first (a number is unique among the versions in force)
        _allowing(session, record)
        record.superseded_by_id = record.id  # provisional: replaced by the new version's id below
        session.flush()
        new = model(**values, correction_reason=text,
                    entered_by_organization_id=getattr(actor, "organization_id", None),
                    entered_at=clock.utcnow_naive())
        session.add(new)
        session.flush()
        record.superseded_by_id = new.id
        session.flush()
    return new


def annul(record: WorkerRecord, reason: str, actor) -> None:
    """Take a wrong entry out of every rule and list (kept, restorable)."""
    if record.annulled_at is not None:
        raise DomainError(_l("The entry is annulled already."))
    if record.superseded_by_id is not None:
        raise DomainError(_l("Only the version in force can be annulled."))
    if not access.can(actor, access.resource_of(type(record)), access.ANNUL):
        raise NotAllowed()
    _require_record_right(actor, record)
    text = _reason(reason)
    with audit_reason(text):
        _allowing(db.session(), record)
        record.annulled_at, record.annulled_by_id, record.annul_reason = clock.utcnow_naive(), actor.id, text


def restore(record: WorkerRecord, reason: str, actor) -> None:
    """Undo an annulment (the region or the ministry, or the organization within its window)."""
    if record.annulled_at is None:
        raise DomainError(_l("The entry is not annulled."))
    if not access.can(actor, access.resource_of(type(record)), access.ANNUL):
        raise NotAllowed()
    _require_record_right(actor, record)
    with audit_reason(_reason(reason)):
        _allowing(db.session(), record)
        record.annulled_at = record.annulled_by_id = record.annul_reason = None


def history(record: WorkerRecord) -> list[WorkerRecord]:
    """Every version of a record, the oldest first (the superseded chain up to ``record``)."""
    model = type(record)
    chain = [record]
    while True:
        older = db.session.query(model).filter(model.superseded_by_id == chain[0].id).one_or_none()
        if older is None or older is chain[0]:
            return chain
        chain.insert(0, older)


# --------------------------------------------------------------------- a record entered by mistake
def _record_models() -> list[type]:
    return [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, WorkerRecord)]


def annul_worker(worker: Worker, reason: str, actor) -> None:
    """The wrong person was registered: the worker, his episodes and his records in force leave every
    list and report (``Employment.current_on``, ``in_force``), all kept; ``restore_worker`` undoes it."""
    access.require(actor, "worker", access.ANNUL)
    if worker.annulled_at is not None:
        raise DomainError(_l("The record is annulled already."))
    text = _reason(reason)
    now = clock.utcnow_naive()
    with audit_reason(text):
        worker.annulled_at, worker.annulled_by_id, worker.annul_reason = now, actor.id, text
        db.session.execute(update(Employment).where(Employment.worker_id == worker.id,
                                                    Employment.annulled_at.is_(None))
                           .values(annulled_at=now).execution_options(synchronize_session=False))
        for model in _record_models():
            db.session.execute(update(model).where(model.worker_id == worker.id, model.in_force)
                               .values(annulled_at=now, annulled_by_id=actor.id, annul_reason=text)
                               .execution_options(synchronize_session=False))
    _expire_worker_rows(worker)


def restore_worker(worker: Worker, reason: str, actor) -> None:
    """Undo ``annul_worker``: what it annulled (the same instant) comes back; entries annulled on their
    own before stay annulled."""
    access.require(actor, "worker", access.ANNUL)
    if worker.annulled_at is None:
        raise DomainError(_l("The record is not annulled."))
    text = _reason(reason)
    at = worker.annulled_at
    with audit_reason(text):
        db.session.execute(update(Employment).where(Employment.worker_id == worker.id, Employment.annulled_at == at)
                           .values(annulled_at=None).execution_options(synchronize_session=False))
        for model in _record_models():
            db.session.execute(update(model).where(model.worker_id == worker.id, model.annulled_at == at)
                               .values(annulled_at=None, annulled_by_id=None, annul_reason=None)
                               .execution_options(synchronize_session=False))
        worker.annulled_at = worker.annulled_by_id = worker.annul_reason = None
    _expire_worker_rows(worker)


def _expire_worker_rows(worker) -> None:
    for obj in list(db.session.identity_map.values()):
        if getattr(obj, "worker_id", None) == worker.id:
            db.session.expire(obj)


# ------------------------------------------------------------------------------------------ guard
@contextlib.contextmanager
def maintenance():
    """A unit of work allowed to delete national data through the ORM (no panel path uses it)."""
    session = db.session()
    session.info[_MAINTENANCE] = True
    try:
        yield
    finally:
        session.info.pop(_MAINTENANCE, None)


def _actor():
    return g.get("_login_user") if has_app_context() else None


def _before_flush(session, _ctx, _instances) -> None:
    allowed = session.info.get(_OPS, set())
    for obj in list(session.deleted):
        if isinstance(obj, (Worker, Employment, WorkerRecord)) and not session.info.get(_MAINTENANCE):
            raise DomainError(NOT_DELETED)
    for obj in list(session.dirty):
        if not isinstance(obj, WorkerRecord) or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        changed = {a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()}
        if changed - BOOKKEEPING or (changed and id(obj) not in allowed):
            raise DomainError(IMMUTABLE)
    actor = _actor()
    org_id = getattr(actor, "organization_id", None) if getattr(actor, "role", None) in access.ORG_ROLES else None
    for obj in list(session.new):
        if isinstance(obj, WorkerRecord):
            if obj.entered_at is None:
                obj.entered_at = clock.utcnow_naive()
            if obj.entered_by_organization_id is None and org_id is not None:
                obj.entered_by_organization_id = org_id


def _forget(session, *_args) -> None:
    session.info.pop(_OPS, None)


_INSTALLED = False


def install() -> None:
    """Register the guard once per process (every Session: panel, CLI, jobs)."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
    _INSTALLED = True


__all__ = ["CORRECTION_CHECKS", "annul", "annul_worker", "correct", "correction_check", "history", "install",
           "maintenance", "restore", "restore_worker"]
