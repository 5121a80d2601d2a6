"""Cell values → domain values: dates (``dd.mm.yyyy``, ISO, Excel date cells and serial numbers), decimals,
sex (``M/F``, ``м/ж``, ``ер/әйел``), reference values (code or name in any language), organizations by
BIN. Each parser returns the value or raises ``BadValue`` with a translated message."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..education.models import EducationInstitution
from ..errors import DomainError
from ..extensions import db
from ..hygiene import number_error
from ..orgs.models import Organization
from ..reference import models as reference
from .columns import norm

EXCEL_EPOCH = date(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")


class BadValue(DomainError):
    """A cell that is not a value of its column (translated message)."""


def parse_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial (a date cell without a date format)
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise BadValue(_l("Not a date: %(value)s. Write dd.mm.yyyy.", value=value))
    text = str(value).strip()
    m = _DMY.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _ISO.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        pass
    raise BadValue(_l("Not a date: %(value)s. Write dd.mm.yyyy.", value=text))


def parse_decimal(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(_l("Not a number: %(value)s.", value=value))
    try:
        number = Decimal(str(value).strip().replace(" ", "").replace(",", ".")) if not isinstance(value, Decimal) \
            else value
    except InvalidOperation:
        raise BadValue(_l("Not a number: %(value)s.", value=value)) from None
    error = number_error(number)
    if error:
        raise BadValue(error)
    return number


def parse_int(value) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise BadValue(_l("Not a whole number: %(value)s.", value=value))
    return int(number)


SEX_WORDS = {"m": "M", "f": "F", "м": "M", "ж": "F", "ер": "M", "әйел": "F", "male": "M", "female": "F",
             "муж": "M", "жен": "F", "мужской": "M", "женский": "F", "ер адам": "M", "әйел адам": "F"}


def parse_sex(value) -> str | None:
    if value is None:
        return None
    sex = SEX_WORDS.get(norm(value).rstrip("."))
    if sex is None:
        raise BadValue(_l("Sex must be M or F: %(value)s.", value=value))
    return sex


def parse_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a text column (document numbers, phones)
    if isinstance(value, (date, datetime)):
        value = value.strftime("%d.%m.%Y")
    return str(value).strip() or None


class Lookup:
    """Reference values of one classifier, found by code or by name in kk/ru/en (``norm``: case and
    spaces ignored; letters never folded). A name that two rows share is ambiguous and refused."""

    def __init__(self, model):
        self.model = model
        self.by_key: dict[str, object] = {}
        self.ambiguous: set[str] = set()
        rows = db.session.execute(select(model)).scalars().all()
        for row in rows:
            self._add(norm(row.code), row)
        for row in rows:
            for name in (row.name_kk, row.name_ru, row.name_en):
                self._add(norm(name), row, name=True)

    def _add(self, key, row, name=False):
        if not key:
            return
        other = self.by_key.get(key)
        if other is None:
            self.by_key[key] = row
        elif other is not row and name and norm(other.code) != key:
            self.ambiguous.add(key)

    def get(self, value, label):
        if value is None:
            return None
        key = norm(parse_text(value))
        if key in self.ambiguous:
            raise BadValue(_l("%(label)s: “%(value)s” names several reference values; write the code.",
                              label=label, value=value))
        row = self.by_key.get(key)
        if row is None:
            raise BadValue(_l("%(label)s: unknown value “%(value)s” (see the sheet of allowed values).",
                              label=label, value=value))
        if not getattr(row, "is_active", True):
            raise BadValue(_l("%(label)s: “%(value)s” is no longer in use.", label=label, value=value))
        return row


class Lookups:
    """Every classifier the import reads, loaded once per run (reference data is small)."""

    def __init__(self):
        self._cache: dict = {}
        self._orgs: dict = {}
        self._institutions = None

    def ref(self, model_name: str) -> Lookup:
        if model_name not in self._cache:
            self._cache[model_name] = Lookup(getattr(reference, model_name))
        return self._cache[model_name]

    def org(self, value, label):
        if value is None:
            return None
        text = parse_text(value)
        if text not in self._orgs:
            self._orgs[text] = db.session.execute(select(Organization).where(Organization.bin == text)) \
                .scalar_one_or_none()
        org = self._orgs[text]
        if org is None:
            raise BadValue(_l("%(label)s: no organization with the BIN %(value)s.", label=label, value=text))
        return org

    def institution(self, value, label):
        if value is None:
            return None
        if self._institutions is None:
            self._institutions = {}
            for inst in db.session.execute(select(EducationInstitution)).scalars():
                for key in (inst.name, inst.name_en, inst.bin):
                    if key:
                        self._institutions.setdefault(norm(key), inst)
        inst = self._institutions.get(norm(parse_text(value)))
        if inst is None:
            raise BadValue(_l("%(label)s: unknown education institution “%(value)s” (ask the ministry to add it "
                              "to the reference data).", label=label, value=value))
        return inst
