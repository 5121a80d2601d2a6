"""Rules about workers and employment episodes. Admin views, CLI, imports and jobs call these."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from .. import clock
from ..identity import IdentityError, validate_iin


class ValidationError(ValueError):
    """Bad input: ``errors`` maps a field name to a translated message."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


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
    """Raise ``ValidationError`` when a worker breaks a personal-data rule."""
    code = worker.citizenship.code if getattr(worker, "citizenship", None) is not None else None
    errors = worker_errors(iin=worker.iin, birth_date=worker.birth_date, sex=worker.sex, citizenship_code=code)
    if errors:
        raise ValidationError(errors)


def employment_errors(*, birth_date: date | None, hire_date: date | None, end_date: date | None) -> dict:
    errors: dict = {}
    if hire_date and end_date and end_date < hire_date:
        errors["end_date"] = _l("The end date cannot be before the hire date.")
    if hire_date and birth_date:
        sixteen = date(birth_date.year + 16, birth_date.month, min(birth_date.day, 28))
        if hire_date < sixteen:
            errors["hire_date"] = _l("A worker cannot be hired before the age of 16.")
    return errors
