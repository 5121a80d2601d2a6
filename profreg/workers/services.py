"""Rules about workers and employment episodes. Admin views, CLI, imports and jobs call these."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import access, clock
from ..audit.models import AuditLog
from ..audit.services import log_event
from ..certificates.services import clinical_admission_error
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..identity import IdentityError, mask_iin, parse_iin, validate_iin
from .models import Employment, Worker, fold


def worker_errors(*, iin: str | None, birth_date: date | None, sex: str | None,
                  citizenship_code: str | None) -> dict:
    """Field → message for the personal-data rules (empty when valid)."""
    errors: dict = {}
    if birth_date is not None and birth_date > clock.today():
        errors["birth_date"] = _l("The date of birth cannot be in the future.")
    try:
        validate_iin(iin or "", birth_date=birth_date, sex=sex, citizenship_code=citizenship_code)
    except IdentityError as exc:
        errors["iin"] = exc.message
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
    return errors


def check_new_employment(worker, position, specialty=None, today: date | None = None) -> None:
    """A new or changed episode in ``position`` (and ``specialty``) must pass the admission rule of
    the certificates domain (``certificates.services.clinical_admission_error``). Raises
    ``InvalidInput`` on the position field."""
    error = clinical_admission_error(worker, position, specialty, today)
    if error:
        raise InvalidInput({"position": error})


def hire(worker, *, organization, position, hire_date: date, specialty=None, fte=None, department=None,
         order_number=None, today: date | None = None):
    """Open a new employment episode (flushes, never commits). Admin and CLI call this."""

    if organization is None:
        raise InvalidInput({"organization": _l("The organization of the new employment is unknown.")})
    errors = employment_errors(birth_date=worker.birth_date, hire_date=hire_date, end_date=None)
    if errors:
        raise InvalidInput(errors)
    check_new_employment(worker, position, specialty, today)
    episode = Employment(worker=worker, organization=organization, position=position, specialty=specialty,
                         hire_date=hire_date, fte=fte if fte is not None else Decimal("1.00"),
                         department=department, order_number=order_number)
    db.session.add(episode)
    db.session.flush()
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
                    department=None, order_number=None):
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
                specialty=specialty, fte=fte, department=department, order_number=order_number)


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
                    specialty=None, fte=None, department=None, order_number=None):
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
        check_new_employment(worker, position, specialty, today)
    except DomainError as exc:
        raise HireRefused(exc.errors) from exc
    episode = hire(worker, organization=organization, position=position, hire_date=hire_date,
                   specialty=specialty, fte=fte, department=department, order_number=order_number)
    return worker, episode


def delete_worker_records(worker) -> None:
    """Delete a worker's dependent rows through the ORM first, so each deletion is audited (and each
    domain reacts to its own rows' deletion, e.g. a document's file) and no NOT NULL foreign key is
    nulled by a backref."""
    for rel in ("education_documents", "academic_degrees", "academic_titles", "qualification_categories",
                "publications", "certificates", "cpd_records", "personnel_documents", "employments"):
        for row in list(getattr(worker, rel, None) or []):
            db.session.delete(row)
    db.session.flush()
