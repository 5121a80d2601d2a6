"""Rules about workers and employment episodes. Admin views, CLI, imports and jobs call these."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import access, clock
from ..certificates.services import clinical_admission_error
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..identity import IdentityError, validate_iin
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


def register_worker(worker, *, actor_organization, position, hire_date: date, specialty=None, fte=None,
                    department=None, order_number=None):
    """A new hire: validate the personal data and open the first episode in the actor's organization
    (the organization comes from the actor, never from a form)."""

    check_worker(worker)
    db.session.add(worker)
    db.session.flush()
    return hire(worker, organization=actor_organization, position=position, hire_date=hire_date,
                specialty=specialty, fte=fte, department=department, order_number=order_number)


NOT_REGISTERED = _l("No registered worker has this IIN and surname. Check both against the identity "
                    "document; a worker who is not in the register yet is added with Create.")


def iin_registered(iin: str | None) -> bool:
    """Whether a worker with this IIN is in the register at all (any organization). Unscoped on
    purpose, like the unique key it anticipates: Create answers with it instead of a bare "already
    exists" and points to hiring the registered worker; it reveals nothing else."""

    iin = (iin or "").strip()
    return bool(iin) and db.session.execute(select(Worker.id).where(Worker.iin == iin)).first() is not None


def find_registered(iin: str, surname: str):
    """The registered worker with this IIN, provided the surname matches too (case and Kazakh letters
    folded). An organization hiring someone already in the register — from another organization, or
    back after leaving — must know both from the identity document; the record itself stays out of
    its sight until the new episode puts the worker in its scope. None when either does not match."""

    iin = (iin or "").strip()
    worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one_or_none()
    if worker is None or worker.surname_folded != fold((surname or "").strip()):
        return None
    return worker


def hire_registered(*, iin: str, surname: str, actor_organization, position, hire_date: date, specialty=None,
                    fte=None, department=None, order_number=None):
    """Open an episode in the actor's organization for a worker already in the register (rule 8: the
    hiring organization enters the worker; the personal data is already there). Raises
    ``InvalidInput`` when the worker is not found, already works there, or may not be hired."""
    worker = find_registered(iin, surname)
    if worker is None:
        raise InvalidInput({"iin": NOT_REGISTERED})
    today = clock.today()
    if any(e.organization_id == getattr(actor_organization, "id", None) and e.current_on(today)
           for e in worker.employments):
        raise InvalidInput({"iin": _l("This worker already works in your organization.")})
    episode = hire(worker, organization=actor_organization, position=position, hire_date=hire_date,
                   specialty=specialty, fte=fte, department=department, order_number=order_number)
    return worker, episode


def end_employment(worker, actor, end_date: date, end_reason) -> list:
    """End the actor's organization's current episodes of ``worker`` on ``end_date`` for ``end_reason``
    (what replaces deleting a worker: the national record, his other organizations' episodes and his
    records stay). Only episodes of the actor's own organization are ended. Flushes, never commits."""
    access.require(actor, "employment", access.END, org_id=getattr(actor, "organization_id", None))
    if end_date is None:
        raise InvalidInput({"end_date": _l("Give the last day of employment.")})
    if end_reason is None:
        raise InvalidInput({"end_reason": _l("Choose the reason for leaving.")})
    episodes = [e for e in worker.employments
                if e.organization_id == actor.organization_id and e.current_on(end_date)]
    if not episodes:
        raise DomainError(_l("%(name)s has no current employment in your organization on that day.",
                             name=worker.full_name))
    for episode in episodes:
        errors = employment_errors(birth_date=worker.birth_date, hire_date=episode.hire_date, end_date=end_date)
        if errors:
            raise InvalidInput(errors)
        episode.end_date, episode.end_reason = end_date, end_reason
    db.session.flush()
    return episodes
