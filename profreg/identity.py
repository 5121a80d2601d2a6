"""IIN / BIN validation (check digit, embedded date, century and sex) and helpers.

One implementation used by models, forms, the CLI, imports and the demo generator.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from .errors import DomainError

W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


class IdentityError(DomainError):
    """An IIN or BIN that is not valid (translated, user-facing)."""


def check_digit(first11: str) -> int | None:
    """Control digit for the 11 leading digits, or None when no valid control digit exists."""
    digits = [int(c) for c in first11]
    c = sum(d * w for d, w in zip(digits, W1, strict=True)) % 11
    if c == 10:
        c = sum(d * w for d, w in zip(digits, W2, strict=True)) % 11
        if c == 10:
            return None
    return c


def _check_format(value: str, label) -> str:
    value = (value or "").strip()
    if len(value) != 12 or not value.isdigit():
        raise IdentityError(_l("%(label)s must be exactly 12 digits.", label=label))
    cd = check_digit(value[:11])
    if cd is None or cd != int(value[11]):
        raise IdentityError(_l("%(label)s has a wrong check digit.", label=label))
    return value


@dataclass(frozen=True)
class IinInfo:
    iin: str
    birth_date: date | None
    sex: str | None  # "M" / "F", None for non-resident IINs (digit 7 = 0)
    resident: bool


CENTURY = {1: (1800, "M"), 2: (1800, "F"), 3: (1900, "M"), 4: (1900, "F"), 5: (2000, "M"), 6: (2000, "F")}


def parse_iin(value: str) -> IinInfo:
    """Validate an IIN and return what it encodes. Raises ``IdentityError``."""
    value = _check_format(value, _l("IIN"))
    d7 = int(value[6])
    if d7 == 0:
        return IinInfo(value, None, None, False)
    if d7 not in CENTURY:
        raise IdentityError(_l("IIN digit 7 (century and sex) must be 0 to 6."))
    century, sex = CENTURY[d7]
    try:
        born = date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise IdentityError(_l("IIN holds a date of birth that does not exist.")) from None
    return IinInfo(value, born, sex, True)


def iin_rule() -> dict:
    """The decoding rule of ``parse_iin`` as data, for the worker form's script that fills the date of
    birth and the sex as an IIN is typed (``templates/workers/_iin_fill.html``): that script mirrors
    ``check_digit`` and ``parse_iin`` and takes their weights and century table from here, so this
    module stays the one source of truth (the server checks again on save)."""
    return {"weights": [list(W1), list(W2)],
            "century": {str(digit): [century, sex] for digit, (century, sex) in CENTURY.items()}}


def validate_iin(value: str, *, birth_date: date | None = None, sex: str | None = None,
                 citizenship_code: str | None = None) -> IinInfo:
    """Full check of an IIN against the worker's other data.

    Non-resident IINs (digit 7 = 0) are accepted only for citizens of other countries.
    """
    info = parse_iin(value)
    if not info.resident:
        if citizenship_code in (None, "KZ"):
            raise IdentityError(_l("An IIN with digit 7 = 0 is issued to non-residents only; "
                                   "citizenship must not be Kazakhstan."))
        return info
    if birth_date is not None and info.birth_date != birth_date:
        raise IdentityError(_l("IIN does not match the date of birth."))
    if sex is not None and info.sex != sex:
        raise IdentityError(_l("IIN does not match the sex."))
    return info


def validate_bin(value: str) -> str:
    """Validate a BIN (business identification number). Raises ``IdentityError``."""
    value = _check_format(value, _l("BIN"))
    month = int(value[2:4])
    if not 1 <= month <= 12:
        raise IdentityError(_l("BIN digits 3-4 must be a month (01-12)."))
    if value[4] not in "456":
        raise IdentityError(_l("BIN digit 5 (type of legal entity) must be 4, 5 or 6."))
    if value[5] not in "0123":
        raise IdentityError(_l("BIN digit 6 (kind of entity) must be 0, 1, 2 or 3."))
    return value


def make_iin(birth: date, sex: str, serial: int) -> str | None:
    """Build a valid IIN for a birth date, sex and a 4-digit serial (demo data, factories).

    Returns None when this serial gives no valid check digit (try the next one).
    """
    base = 1800 if birth.year < 1900 else 1900 if birth.year < 2000 else 2000
    d7 = {1800: 1, 1900: 3, 2000: 5}[base] + (1 if sex == "F" else 0)
    first11 = f"{birth:%y%m%d}{d7}{serial % 10000:04d}"
    cd = check_digit(first11)
    return None if cd is None else first11 + str(cd)


def make_bin(year: int, month: int, serial: int, kind: str = "40") -> str | None:
    """Build a valid BIN: YYMM + kind (digits 5-6, e.g. '40' legal entity HQ) + 5-digit serial."""
    first11 = f"{year % 100:02d}{month:02d}{kind}{serial % 100000:05d}"
    cd = check_digit(first11)
    return None if cd is None else first11 + str(cd)


def mask_iin(value: str | None) -> str:
    """IIN with all but the last 4 digits hidden (association role)."""
    if not value:
        return ""
    return "•" * (len(value) - 4) + value[-4:]
