"""Rules about workers and employment episodes. Admin views, CLI, imports and jobs call these.

* Hiring (``hire``, ``register_worker``, ``hire_registered``): every path that opens an episode.
* Transfers (docs/integrity.md): a hire in organization B of a worker who still holds a current
  episode in A opens a ``Transfer`` per A-episode (``open_transfers``) unless the hire is
  **concurrent**; A's HR is told (``notifications.services.notify_transfer``). An A-episode that gets an
  end date closes its transfers on any path (``close_transfers_of``, called by the session hook
  ``install_transfer_hook``); after the due date the region may end it on A's behalf
  (``end_transferred_episode``).
* Corrections after dismissal (rule 9): ``correct_departed_worker`` and ``correct_episode``, allowed by
  ``access.may_correct_departed``, each with a reason kept on the audit entries.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app, g, has_request_context
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, false, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import access, clock
from ..audit.models import AuditLog
from ..audit.services import log_event
from ..audit.services import reason as audit_reason
from ..certificates.services import clinical_admission_error
from ..errors import DomainError, InvalidInput, NotAllowed
from ..extensions import db
from ..i18n import fmt_date
from ..identity import IdentityError, mask_iin, parse_iin, validate_iin
from ..notifications.services import notify_transfer
from ..reference.models import LabourCodeGround
from ..workdays.services import entry_deadline
from .models import (
    END_CATEGORIES,
    END_TRANSFER,
    TRANSFER_CANCELLED,
    TRANSFER_ENDED,
    TRANSFER_OPEN,
    Employment,
    Transfer,
    Worker,
    fold,
)


def worker_errors(*, iin: str | None, birth_date: date | None, sex: str | None,
                  citizenship_code: str | None) -> dict:
    """Field → message for the personal-data rules (empty when valid). Each message is keyed by the
    field it concerns, so that a form shows it there: a date of birth the IIN does not encode is the
    date's error, a sex it does not encode the sex's; an IIN that is itself invalid is the IIN's."""
    errors: dict = {}
    if birth_date is not None and birth_date > clock.today():
        errors["birth_date"] = _l("The date of birth cannot be in the future.")
    elif birth_date is not None and birth_date.year < 1900:
        errors["birth_date"] = _l("The date of birth cannot be before 1900.")
    try:
        info = validate_iin(iin or "", citizenship_code=citizenship_code)
    except IdentityError as exc:
        errors["iin"] = exc.message
        return errors
    if info.resident and birth_date is not None and info.birth_date != birth_date:
        errors.setdefault("birth_date", _l("IIN does not match the date of birth."))
    if info.resident and sex is not None and info.sex != sex:
        errors["sex"] = _l("IIN does not match the sex.")
    return errors


def check_worker(worker) -> None:
    """Raise ``InvalidInput`` when a worker breaks a personal-data rule."""
    code = worker.citizenship.code if getattr(worker, "citizenship", None) is not None else None
    errors = worker_errors(iin=worker.iin, birth_date=worker.birth_date, sex=worker.sex, citizenship_code=code)
    if errors:
        raise InvalidInput(errors)


def employment_errors(*, birth_date: date | None, hire_date: date | None, end_date: date | None) -> dict:
    errors: dict = {}
    if hire_date and end_date and end_date < hire_date:
        errors["end_date"] = _l("The end date cannot be before the hire date.")
    if hire_date and birth_date:
        sixteen = date(birth_date.year + 16, birth_date.month, min(birth_date.day, 28))
        if hire_date < sixteen:
            errors["hire_date"] = _l("A worker cannot be hired before the age of 16.")
        elif hire_date.year - birth_date.year > 100:
            errors["hire_date"] = _l("A worker cannot be hired after the age of 100.")
    if hire_date and hire_date.year > clock.today().year + 50:
        errors.setdefault("hire_date", _l("The date is too far in the future."))
    return errors


def check_new_employment(worker, position, specialty=None, today: date | None = None,
                         hire_date: date | None = None) -> None:
    """A new or changed episode in ``position`` (and ``specialty``) must pass the admission rule of
    the certificates domain (``certificates.services.clinical_admission_error``) on the first day the
    post is held from now on (the later of today and the hire date). Raises ``InvalidInput`` on the
    position field."""
    day = today or clock.today()
    if hire_date is not None and hire_date > day:
        day = hire_date
    error = clinical_admission_error(worker, position, specialty, day)
    if error:
        raise InvalidInput({"position": error})


def hire(worker, *, organization, position, hire_date: date, specialty=None, fte=None, department=None,
         order_number=None, today: date | None = None, concurrent: bool = False):
    """Open a new employment episode (flushes, never commits). Admin and CLI call this.

    A **concurrent** post (part-time, held alongside a current employment elsewhere) is not the worker's
    main episode and opens no transfer; any other hire of a worker who still holds a current episode in
    another organization opens a transfer there (``open_transfers``)."""

    if organization is None:
        raise InvalidInput({"organization": _l("The organization of the new employment is unknown.")})
    errors = employment_errors(birth_date=worker.birth_date, hire_date=hire_date, end_date=None)
    if errors:
        raise InvalidInput(errors)
    check_new_employment(worker, position, specialty, today, hire_date)
    episode = Employment(worker=worker, organization=organization, position=position, specialty=specialty,
                         hire_date=hire_date, fte=fte if fte is not None else Decimal("1.00"),
                         department=department, order_number=order_number, concurrent=bool(concurrent),
                         is_main=not concurrent)
    db.session.add(episode)
    db.session.flush()
    open_transfers(episode, today)
    return episode


# --- first registration (rule 8) ----------------------------------------------------------------
#: The kinds of identity document (``identity_document_type`` codes): a citizen of Kazakhstan holds a
#: Kazakh one; a foreigner or stateless person (every non-resident, IIN digit 7 = 0) a foreign one.
KAZAKH_ID_DOCUMENTS = ("ID_CARD", "PASSPORT_KZ")
FOREIGN_ID_DOCUMENTS = ("FOREIGN_PASSPORT", "RESIDENCE_PERMIT", "STATELESS")
#: The form fields of rule 8 a worker is first registered with (``models.ENTRY_COLUMNS``), and the
#: education documents (at least one).
ENTRY_FIELDS = ("id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued", "residence_address",
                "registration_place", "registration_date")
REQUIRED_AT_ENTRY = _l("Required when a worker is registered (rule 8).")
EDUCATION_REQUIRED = _l("Add at least one education document (rule 8).")
IIN_TAKEN = _l("This IIN cannot be registered here; use “Hire a registered worker”.")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def entry_errors(*, iin: str | None, citizenship_code: str | None, id_doc_type_code: str | None,
                 id_doc_number: str | None, id_doc_issuer: str | None, id_doc_issued: date | None,
                 residence_address: str | None, registration_place: str | None, registration_date: date | None,
                 education_documents: int) -> dict:
    """Field → message for what rule 8 requires when a worker is first registered (empty when
    complete): the identity document (type, number, issuer, date of issue), the place of residence,
    the place and date of registration and at least one education document. The document's kind
    follows the person: a non-resident (IIN digit 7 = 0) or a foreign citizen enters a foreign
    document, a citizen of Kazakhstan a Kazakh one. Records stored before the rule are not checked
    on edit; the data-currency worklist lists what they lack."""

    values = {"id_doc_type": id_doc_type_code, "id_doc_number": id_doc_number, "id_doc_issuer": id_doc_issuer,
              "id_doc_issued": id_doc_issued, "residence_address": residence_address,
              "registration_place": registration_place, "registration_date": registration_date}
    errors: dict = {field: REQUIRED_AT_ENTRY for field in ENTRY_FIELDS if _blank(values[field])}
    if education_documents < 1:
        errors["education_documents"] = EDUCATION_REQUIRED
    if id_doc_type_code and "id_doc_type" not in errors:
        try:
            resident = parse_iin(iin or "").resident
        except IdentityError:  # the IIN's own error is shown on its field
            resident = None
        if resident is False or (resident and citizenship_code not in (None, "KZ")):
            if id_doc_type_code not in FOREIGN_ID_DOCUMENTS:
                errors["id_doc_type"] = (
                    _l("A non-resident (IIN digit 7 = 0) enters a foreign identity document: a foreign passport, "
                       "a residence permit or a stateless person's certificate.") if resident is False else
                    _l("A foreign citizen enters a foreign identity document: a foreign passport, a residence "
                       "permit or a stateless person's certificate."))
        elif resident and id_doc_type_code not in KAZAKH_ID_DOCUMENTS:
            errors["id_doc_type"] = _l("A citizen of Kazakhstan enters a Kazakh identity document: an identity "
                                       "card or a passport of the Republic of Kazakhstan.")
    return errors


def worker_entry_errors(worker) -> dict:
    """``entry_errors`` of a worker object as it is about to be registered (its education documents
    attached to it, as the panel's inline forms, an import or the API attach them)."""
    doc_type, citizenship = getattr(worker, "id_doc_type", None), getattr(worker, "citizenship", None)
    education = [d for d in (getattr(worker, "education_documents", None) or []) if getattr(d, "in_force", True)]
    return entry_errors(iin=worker.iin, citizenship_code=getattr(citizenship, "code", None),
                        id_doc_type_code=getattr(doc_type, "code", None), id_doc_number=worker.id_doc_number,
                        id_doc_issuer=worker.id_doc_issuer, id_doc_issued=worker.id_doc_issued,
                        residence_address=worker.residence_address, registration_place=worker.registration_place,
                        registration_date=worker.registration_date, education_documents=len(education))


def register_worker(worker, *, actor_organization, position, hire_date: date, specialty=None, fte=None,
                    department=None, order_number=None, concurrent: bool = False):
    """A new hire: validate the personal data and rule 8's entry fields, and open the first episode
    in the actor's organization (the organization comes from the actor, never from a form). A
    registered IIN is refused without saying more (``IIN_TAKEN``: the registered worker is hired
    with ``hire_registered``)."""

    with db.session.no_autoflush:  # the new worker is pending: nothing of it is written before the checks
        check_worker(worker)
        if iin_registered(worker.iin, other_than=worker.id):
            raise InvalidInput({"iin": IIN_TAKEN})
        errors = worker_entry_errors(worker)
    if errors:
        raise InvalidInput(errors)
    db.session.add(worker)
    db.session.flush()
    return hire(worker, organization=actor_organization, position=position, hire_date=hire_date,
                specialty=specialty, fte=fte, department=department, order_number=order_number,
                concurrent=concurrent)


def iin_registered(iin: str | None, other_than: int | None = None) -> bool:
    """Whether a worker with this IIN (other than the worker ``other_than``, when the new record is
    already flushed) is in the register at all (any organization). Unscoped on purpose, like the
    unique key it anticipates: Create answers with it (``IIN_TAKEN``) instead of a bare "already
    exists" and points to hiring the registered worker; it reveals nothing else."""

    iin = (iin or "").strip()
    query = select(Worker.id).where(Worker.iin == iin)
    if other_than is not None:
        query = query.where(Worker.id != other_than)
    return bool(iin) and db.session.execute(query).first() is not None


# --- rule 13: confirming that a record is current -------------------------------------------------
def confirm_current(workers, actor) -> int:
    """HR confirms that the records of ``workers`` (objects or ids) are current (rule 13): who and
    when go to ``confirmed_by_id`` / ``confirmed_at``, each confirmation to the audit trail. Only
    workers in the actor's scope are confirmed, the others are ignored; returns how many were.
    Bookkeeping, not an edit of the personal data: the optimistic-lock ``version`` stays, so an open
    edit form of the worker still saves."""

    access.require(actor, "worker", access.CONFIRM)
    ids = {int(value) for value in (getattr(w, "id", w) for w in workers) if str(value).isdigit()}
    if not ids:
        return 0
    in_scope = db.session.execute(access.scoped(select(Worker).where(Worker.id.in_(sorted(ids)), Worker.in_register),
                                                Worker, actor).order_by(Worker.id)).scalars().all()
    if not in_scope:
        return 0
    moment, actor_id = clock.utcnow_naive(), actor.id
    table = Worker.__table__
    db.session.execute(update(table).where(table.c.id.in_([w.id for w in in_scope]))  # updated_at stays:
                       .values(confirmed_at=moment, confirmed_by_id=actor_id, updated_at=table.c.updated_at))
    for worker in in_scope:
        set_committed_value(worker, "confirmed_at", moment)
        set_committed_value(worker, "confirmed_by_id", actor_id)
        log_event("confirm", actor, record=worker)
    return len(in_scope)


# --- hiring a registered worker (no oracle: docs/integrity.md) -------------------------------------
NOT_REGISTERED = _l("No registered worker has this IIN, surname and date of birth. Check all three against the "
                    "identity document; a worker who is not in the register yet is added with Create.")
HIRE_LOOKUP = "hire_lookup"  # the audit action of every attempt; detail "ok" / "failed" / "refused" + ••••1234
LOOKUP_OK, LOOKUP_FAILED, LOOKUP_REFUSED = "ok", "failed", "refused"


class HireRefused(InvalidInput):
    """A hire of a registered worker refused (too many failed searches, no such worker, or the worker
    may not be hired). ``keeps_writes``: the attempt's audit entry, written before the refusal, must
    survive it — the failed attempts an hour are counted from the audit trail (the second documented
    exception to "an error writes nothing", profreg/errors.py). Nothing else is written before it."""

    keeps_writes = True


def _failed_lookups(actor, since: datetime) -> list[datetime]:
    return db.session.execute(
        select(AuditLog.at).where(AuditLog.user_id == actor.id, AuditLog.action == HIRE_LOOKUP,
                                  AuditLog.at >= since, AuditLog.detail.like(f"{LOOKUP_FAILED}%"))
        .order_by(AuditLog.at)).scalars().all()


def lookup_limit_error(actor):
    """The translated refusal when ``actor`` has used up ``HIRE_LOOKUP_FAILURES_PER_HOUR`` failed
    searches within the last hour (counted from the audit trail), else None."""

    limit = current_app.config["HIRE_LOOKUP_FAILURES_PER_HOUR"]
    now = clock.utcnow_naive()
    failed = _failed_lookups(actor, now - timedelta(hours=1))
    if len(failed) < limit:
        return None
    again = failed[len(failed) - limit] + timedelta(hours=1)  # when one of them leaves the hour
    return _l("Too many unsuccessful searches for a registered worker: at most %(limit)d an hour. "
              "Try again after %(time)s.", limit=limit, time=format_time(again, "short"))  # naive UTC → Almaty


def find_registered(iin: str, surname: str, birth_date: date | None):
    """The registered worker with this IIN, provided the surname (case and Kazakh letters folded) and
    the date of birth match too. An organization hiring someone already in the register — from
    another organization, or back after leaving — must know all three from the identity document;
    the record itself stays out of its sight until the new episode puts the worker in its scope.
    None when any of them does not match (a wrong triple and an unknown IIN look alike)."""

    iin = (iin or "").strip()
    worker = db.session.execute(select(Worker).where(Worker.iin == iin, Worker.in_register)).scalar_one_or_none()
    if (worker is None or birth_date is None or worker.birth_date != birth_date
            or worker.surname_folded != fold((surname or "").strip())):
        return None
    return worker


def _log_lookup(actor, outcome: str, iin: str, worker=None) -> None:
    """The audit entry of one attempt: the outcome and the IIN's last four digits (enough to match
    a complaint or a worker, not the IIN in clear for every reader of the audit trail); the worker
    is named only when found."""
    masked = mask_iin((iin or "").strip()) or "-"
    log_event(HIRE_LOOKUP, actor, record=worker, table_name=Worker.__tablename__, detail=f"{outcome} {masked}")


def hire_registered(*, iin: str, surname: str, birth_date: date | None, actor, position, hire_date: date,
                    specialty=None, fte=None, department=None, order_number=None, concurrent: bool = False):
    """Open an episode in the actor's organization for a worker already in the register (rule 8: the
    hiring organization enters the worker; the personal data is already there), found by IIN,
    surname and date of birth. At most ``HIRE_LOOKUP_FAILURES_PER_HOUR`` failed searches per user
    an hour (checked before the search); every attempt is audited (``hire_lookup``). Raises
    ``HireRefused`` when the limit is reached, the worker is not found, already works there or may
    not be hired."""

    organization = actor.organization
    limit = lookup_limit_error(actor)
    if limit is not None:
        _log_lookup(actor, LOOKUP_REFUSED, iin)
        raise HireRefused({None: limit})
    worker = find_registered(iin, surname, birth_date)
    if worker is None:
        _log_lookup(actor, LOOKUP_FAILED, iin)
        raise HireRefused({"iin": NOT_REGISTERED})
    _log_lookup(actor, LOOKUP_OK, iin, worker)
    try:  # the hire's own checks first: a refusal keeps only the attempt's audit entry
        today = clock.today()
        if any(e.organization_id == getattr(organization, "id", None) and e.current_on(today)
               for e in worker.employments):
            raise InvalidInput({"iin": _l("This worker already works in your organization.")})
        errors = employment_errors(birth_date=worker.birth_date, hire_date=hire_date, end_date=None)
        if errors:
            raise InvalidInput(errors)
        check_new_employment(worker, position, specialty, today, hire_date)
    except DomainError as exc:
        raise HireRefused(exc.errors) from exc
    episode = hire(worker, organization=organization, position=position, hire_date=hire_date,
                   specialty=specialty, fte=fte, department=department, order_number=order_number,
                   concurrent=concurrent)
    return worker, episode


def ending_errors(end_ground, end_category) -> dict:
    """What is missing or wrong in the two fields of an episode's ending (issue 20.6): the Labour Code
    ground (an active ``LabourCodeGround``) and the analytic category (``END_CATEGORIES``)."""
    errors = {}
    if end_ground is None:
        errors["end_ground"] = _l("Choose the Labour Code ground.")
    elif not end_ground.is_active:
        errors["end_ground"] = _l("This Labour Code ground is no longer in use.")
    if not end_category:
        errors["end_category"] = _l("Choose where the worker goes (the category of leaving).")
    elif end_category not in END_CATEGORIES:
        errors["end_category"] = _l("Unknown category of leaving.")
    return errors


def episode_ending_errors(episode) -> dict:
    """The episode form's ending (panel edit, corrections): an end date needs both fields; an episode
    without an end date keeps neither. Returns the errors by field."""
    if episode.end_date is None:
        episode.end_ground, episode.end_category = None, None
        return {}
    return ending_errors(episode.end_ground, episode.end_category)


def end_employment(worker, actor, end_date: date, end_ground, end_category: str) -> list:
    """End the actor's organization's current episodes of ``worker`` on ``end_date`` on the Labour Code
    ground ``end_ground`` with the analytic category ``end_category`` (what replaces deleting a worker:
    the national record, his other organizations' episodes and his records stay). Only episodes of the
    actor's own organization are ended. The one path of every ending: panel, CLI, import, API and the
    reconciliation's "end the episode". Flushes, never commits."""
    access.require(actor, "employment", access.END, org_id=getattr(actor, "organization_id", None))
    if end_date is None:
        raise InvalidInput({"end_date": _l("Give the last day of employment.")})
    errors = ending_errors(end_ground, end_category)
    if errors:
        raise InvalidInput(errors)
    episodes = [e for e in worker.employments
                if e.organization_id == actor.organization_id and e.current_on(end_date)]
    if not episodes:
        raise DomainError(_l("%(name)s has no current employment in your organization on that day.",
                             name=worker.full_name))
    for episode in episodes:
        errors = employment_errors(birth_date=worker.birth_date, hire_date=episode.hire_date, end_date=end_date)
        if errors:
            raise InvalidInput(errors)
        episode.end_date, episode.end_ground, episode.end_category = end_date, end_ground, end_category
    db.session.flush()  # the transfer hook closes the transfers these episodes were waiting on
    return episodes


def episode_saved(episode, *, created: bool, concurrent_changed: bool = False, today: date | None = None) -> None:
    """An episode created or changed in the panel (the episode form), after it was flushed: a new one
    opens its transfers like ``hire``; a changed **concurrent** mark follows (a concurrent post is not
    the main one and has no transfer: ticking it cancels them in ``install_transfer_hook``, unticking it
    opens them). ``concurrent_changed`` is read before the flush, which forgets it."""
    if not (created or concurrent_changed):
        return
    episode.is_main = not episode.concurrent
    db.session.flush()
    if not episode.concurrent:
        open_transfers(episode, today)


# ------------------------------------------------------------------------------------------ transfers
def _signed_in_user_id() -> int | None:
    """The signed-in user of the current request, if any (None for the CLI and jobs): who closed a
    transfer by ending or annulling an episode."""
    if not has_request_context():
        return None
    user = g.get("_login_user")
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def open_transfers(episode, today: date | None = None) -> list:
    """Organization B (``episode``'s) entered a hire of a worker who still holds a current episode in
    another organization A: one ``Transfer`` per such A-episode, due on the 3rd working day after the
    entry (``workdays.services.entry_deadline`` of today), in A's region; A's HR users are notified.

    Nothing opens for a concurrent hire, for an episode that is not current itself (history entered
    late), or for A-episodes that are concurrent posts themselves (they continue alongside) or that do
    not start before B's hire (the region could not end them the day before it). An A-episode still
    "held" means current on B's hire date and on the day of entry. A transfer cancelled earlier (the
    hire was marked concurrent, then not) opens again. Flushes, never commits."""
    today = today or clock.today()
    if episode.id is None or episode.concurrent or not episode.current_on(today):
        return []
    held = db.session.execute(
        select(Employment).where(Employment.worker_id == episode.worker_id, Employment.id != episode.id,
                                 Employment.organization_id != episode.organization_id,
                                 Employment.concurrent.is_(False), Employment.hire_date < episode.hire_date,
                                 Employment.current_on(max(episode.hire_date, today)))
        .order_by(Employment.id)).scalars().all()
    if not held:
        return []
    existing = {t.from_employment_id: t for t in episode.transfers_in}
    due = entry_deadline(today)
    opened = []
    for old in held:
        transfer = existing.get(old.id)
        if transfer is None:
            transfer = Transfer(worker_id=episode.worker_id, from_employment=old, to_employment=episode,
                                organization_id=old.organization_id, to_organization_id=episode.organization_id,
                                region_id=old.region_id or old.organization.region_id, hire_date=episode.hire_date,
                                due_date=due)
            db.session.add(transfer)
        elif transfer.status == TRANSFER_CANCELLED:
            transfer.status, transfer.ended_at, transfer.ended_by_id = TRANSFER_OPEN, None, None
            transfer.hire_date, transfer.due_date = episode.hire_date, due
        else:
            continue
        opened.append(transfer)
    db.session.flush()
    for transfer in opened:
        notify_transfer(transfer)
    return opened


def _finish(transfers, status: str, actor_id: int | None) -> int:
    n = 0
    for transfer in transfers:
        if transfer.status == TRANSFER_OPEN:
            transfer.status, transfer.ended_at = status, clock.utcnow_naive()
            transfer.ended_by_id = actor_id if actor_id is not None else _signed_in_user_id()
            n += 1
    return n


def close_transfers_of(episode, actor=None) -> int:
    """A's episode got an end date (any date, any path): its open transfers are ended. Idempotent;
    called by ``install_transfer_hook`` on every flush that sets an end date, so callers need not
    (``end_employment`` may call it too). Returns the number closed."""
    if episode.end_date is None or episode.id is None:
        return 0
    return _finish(episode.transfers_out, TRANSFER_ENDED, getattr(actor, "id", None))


def cancel_transfers_of(episode, actor=None) -> int:
    """The open transfers from or to ``episode`` are cancelled (the episode was annulled, or the new
    one marked concurrent: nothing is left for A to end)."""
    if episode.id is None:
        return 0
    actor_id = getattr(actor, "id", None)
    return _finish(episode.transfers_out, TRANSFER_CANCELLED, actor_id) + _finish(
        episode.transfers_in, TRANSFER_CANCELLED, actor_id)


def _follow_episodes(session, _ctx, _instances) -> None:
    """``before_flush``: changes of episodes that transfers follow, whichever path made them (panel
    edit, ``end_employment``, CLI, import): an end date closes the episode's transfers; an annulment,
    or a new episode marked concurrent, cancels them; a corrected hire date moves the open transfers'
    copy. Runs before the audit listener (the workers domain is wired first), so the transfers'
    changes are audited in the same flush."""
    for obj in list(session.dirty):
        if not isinstance(obj, Employment) or obj.id is None:
            continue
        attrs = inspect(obj).attrs
        if obj.annulled_at is not None and attrs.annulled_at.history.has_changes():
            cancel_transfers_of(obj)
            continue
        if obj.end_date is not None and attrs.end_date.history.has_changes():
            close_transfers_of(obj)
        if obj.concurrent and attrs.concurrent.history.has_changes():
            _finish(obj.transfers_in, TRANSFER_CANCELLED, None)
        if attrs.hire_date.history.has_changes():
            for transfer in obj.transfers_in:
                if transfer.status == TRANSFER_OPEN:
                    transfer.hire_date = obj.hire_date


_HOOKED = False


def install_transfer_hook() -> None:
    """Register ``_follow_episodes`` once per process on every Session (workers/web.py)."""
    global _HOOKED
    if _HOOKED:
        return
    event.listen(Session, "before_flush", _follow_episodes)
    _HOOKED = True


def pending_transfer_ids(episode_ids) -> set[int]:
    """Ids among ``episode_ids`` of episodes with an open transfer: shown as "pending transfer"."""
    ids = [i for i in episode_ids if i is not None]
    if not ids:
        return set()
    return set(db.session.execute(select(Transfer.from_employment_id).where(
        Transfer.from_employment_id.in_(ids), Transfer.status == TRANSFER_OPEN)).scalars())


TRANSFER_VIEWS = ("overdue", "open", "all")


def transfer_list(user, show: str = "open", today: date | None = None):
    """SELECT of the transfers ``user`` sees (scope ``between``: both organizations and A's region),
    ``show``: ``overdue`` (open, past the due date: the region's worklist), ``open`` or ``all``."""
    today = today or clock.today()
    q = access.scoped(select(Transfer), Transfer, user)
    if show == "overdue":
        q = q.where(Transfer.status == TRANSFER_OPEN, Transfer.due_date < today)
    elif show == "open":
        q = q.where(Transfer.status == TRANSFER_OPEN)
    return q.order_by(Transfer.due_date, Transfer.id)


def transfers_to_act_on(user, today: date | None = None):
    """SELECT of the open transfers ``user`` may end now (``end_transferred_episode``): those of the
    user's own organization at any time, and, for the region, the overdue ones of its organizations.
    Nothing for roles without the ``end`` right on transfers."""
    today = today or clock.today()
    if not access.can(user, "transfer", access.END):
        return select(Transfer).where(false())
    q = select(Transfer).where(Transfer.status == TRANSFER_OPEN)
    ids = access.org_ids_select(user)
    if ids is not None:
        q = q.where(Transfer.organization_id.in_(ids))
    own = getattr(user, "organization_id", None)
    return q.where(or_(Transfer.organization_id == own, Transfer.due_date < today) if own is not None
                   else Transfer.due_date < today)


def may_end_transfer(user, transfer, today: date | None = None) -> bool:
    """Whether ``end_transferred_episode`` would let ``user`` end this transfer's old episode now."""
    try:
        _check_end(user, transfer, today or clock.today())
    except (NotAllowed, DomainError):
        return False
    return True


def _check_end(user, transfer, today: date) -> None:
    access.require(user, "transfer", access.END, org_id=transfer.organization_id)
    if transfer.status != TRANSFER_OPEN:
        raise DomainError(_l("This transfer is no longer open."))
    if getattr(user, "organization_id", None) != transfer.organization_id and today <= transfer.due_date:
        # on A's behalf (the region): only once A's time is up
        raise DomainError(_("The organization has until %(date)s to end the episode itself; it may be ended on "
                            "its behalf from the next day.", date=fmt_date(transfer.due_date)))


TRANSFER_GROUND = "TRANSFER"  # the Labour Code ground of a transfer to another employer (reference data)


def transfer_end_ground():
    """The Labour Code ground of a transfer to another employer (reference data, code ``TRANSFER``)."""
    return db.session.execute(select(LabourCodeGround).where(
        LabourCodeGround.code == TRANSFER_GROUND, LabourCodeGround.is_active.is_(True))).scalar()


def end_transferred_episode(transfer, *, user, reason: str, today: date | None = None):
    """End A's episode of an open transfer: end date = B's hire date minus one day, reason for leaving
    = the transfer reason, audited with ``reason`` (the actor's words). The region coordinator of A's
    region does it on A's behalf once the due date has passed; A's own HR may do it any time (as well
    as ending the episode the usual way). Raises ``NotAllowed`` / ``DomainError``; flushes."""
    today = today or clock.today()
    _check_end(user, transfer, today)
    text = (reason or "").strip()
    if not text:
        raise InvalidInput({"reason": _l("Give a reason.")})
    episode = transfer.from_employment
    end = transfer.to_employment.hire_date - timedelta(days=1)
    if end < episode.hire_date:
        raise DomainError(_l("The new employment starts before this episode: it cannot be ended the day before."))
    ground = transfer_end_ground()
    if ground is None:
        raise DomainError(_l("The Labour Code ground of a transfer is missing from the reference data."))
    with audit_reason(text):
        episode.end_date, episode.end_ground, episode.end_category = end, ground, END_TRANSFER
        close_transfers_of(episode, actor=user)
    return episode


# ----------------------------------------------------------------- corrections after dismissal (rule 9)
#: What a correction of a departed worker may change: the personal data, and an episode's data.
PERSONAL_FIELDS = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place", "citizenship",
                   "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued", "id_doc_expires",
                   "residence_address", "registration_place", "registration_date", "email", "phone", "locale")
EPISODE_FIELDS = ("position", "specialty", "department", "fte", "hire_date", "end_date", "end_ground",
                  "end_category", "order_number")


def _correction_reason(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"reason": _l("A correction needs a reason.")})
    return text


def _apply(obj, changes: dict, allowed: tuple) -> list[str]:
    """Set the changed values (fields outside ``allowed`` are refused); the names of those changed."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainError(_("These fields cannot be corrected here: %(fields)s.", fields=", ".join(unknown)))
    changed = []
    with db.session.no_autoflush:
        for name, value in changes.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed.append(name)
    return changed


def correct_departed_worker(worker, *, user, changes: dict, reason: str, today: date | None = None):
    """Correct the personal data of a departed worker (``access.may_correct_departed``: the last
    employer's HR within ``CORRECTION_MONTHS_AFTER_END`` months of the end, the region at any time).
    The same personal-data rules as a new record; the audit entries carry ``reason``. Raises
    ``NotAllowed`` / ``DomainError``; flushes."""
    if not access.may_correct_departed(user, worker, today=today):
        raise NotAllowed()
    text = _correction_reason(reason)
    new_iin = (changes.get("iin") or "").strip() if "iin" in changes else None
    if new_iin is not None and new_iin != worker.iin and iin_registered(new_iin):
        raise InvalidInput({"iin": _l("This IIN is already in the register.")})
    with audit_reason(text):
        if not _apply(worker, changes, PERSONAL_FIELDS):
            raise DomainError(_l("Nothing was changed."))
        check_worker(worker)
    return worker


def correct_episode(episode, *, user, changes: dict, reason: str, today: date | None = None):
    """Correct an ended episode of a departed worker (end date, reason for leaving, position,
    department, ...): allowed by ``access.may_correct_departed`` for the episode; it keeps an end date
    (a return to work is a new hire). The date rules of an episode apply; the admission rule does not
    (it is history, not a post held now). The audit entries carry ``reason``. Flushes."""
    if not access.may_correct_departed(user, episode.worker, episode=episode, today=today):
        raise NotAllowed()
    text = _correction_reason(reason)
    hire_date = changes.get("hire_date", episode.hire_date)
    end_date = changes.get("end_date", episode.end_date)
    if end_date is None:
        raise InvalidInput({"end_date": _l("The episode of a departed worker keeps its end date; a return to "
                                           "work is a new hire.")})
    errors = employment_errors(birth_date=episode.worker.birth_date, hire_date=hire_date, end_date=end_date)
    errors.update(ending_errors(changes.get("end_ground", episode.end_ground),
                                changes.get("end_category", episode.end_category)))
    if errors:
        raise InvalidInput(errors)
    with audit_reason(text):
        if not _apply(episode, changes, EPISODE_FIELDS):
            raise DomainError(_l("Nothing was changed."))
    return episode

