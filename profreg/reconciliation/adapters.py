"""One adapter per state registry: it turns what the registry gives into records the reconciliation
compares (``ContractRecord``, ``CertificateRecord``). Today each registry gives a file (an extract in csv or
xlsx, read by the import's reader, ``imports.reader.open_book``, with this module's column layouts); an
online client of the same registry replaces the file adapter by yielding the same records
(``RegistryAdapter``). docs/reconciliation.md describes the files."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..identity import IdentityError, parse_iin, validate_bin
from ..imports.columns import CERTIFICATES as IMPORT_CERTIFICATES
from ..imports.columns import COLUMNS as IMPORT_COLUMNS
from ..imports.columns import DATE, IIN, Column, Layout
from ..imports.reader import open_book
from ..imports.values import BadValue, Lookup, parse_date, parse_text
from ..reference.models import Specialty
from .models import SOURCE_CERTIFICATES, SOURCE_ESUTD

ESUTD_KIND = "esutd"
CERTIFICATES_KIND = "certificate_registry"

ESUTD_COLUMNS = (
    IIN,
    Column("employer_bin", _l("Employer BIN"), required=True, example="150440000019", max_length=12),
    Column("contract_start", _l("Contract start date"), DATE, required=True, example="10.01.2020"),
    Column("contract_end", _l("Contract end date"), DATE, example="31.10.2026"),
    Column("position", _l("Position"), example="Медицинская сестра", max_length=255),
    Column("contract_number", _l("Contract number"), example="ЕТ-000123", max_length=64),
)
#: The issuer's registry has the columns of the import's certificates sheet (same keys and headers).
CERTIFICATE_COLUMNS = IMPORT_COLUMNS[IMPORT_CERTIFICATES]

ESUTD_LAYOUT = Layout({ESUTD_KIND: ESUTD_COLUMNS}, {ESUTD_KIND: _l("Labour contracts (ESUTD)")},
                      _l("The columns of the file were not recognised as a labour-contract extract (ESUTD). "
                         "See docs/reconciliation.md for the columns."))
CERTIFICATES_LAYOUT = Layout({CERTIFICATES_KIND: CERTIFICATE_COLUMNS},
                             {CERTIFICATES_KIND: _l("Certificate issuer's registry")},
                             _l("The columns of the file were not recognised as a certificate registry extract. "
                                "See docs/reconciliation.md for the columns."))


@dataclass(frozen=True)
class ContractRecord:
    """A labour contract as the labour-contract system (ESUTD) records it."""

    row: int
    iin: str
    employer_bin: str
    start_date: date
    end_date: date | None
    position: str | None
    number: str | None = None


@dataclass(frozen=True)
class CertificateRecord:
    """A specialist certificate as its accredited issuer's registry records it."""

    row: int
    iin: str
    number: str
    specialty: Specialty
    issue_date: date
    valid_until: date | None
    issuer: str | None = None


@dataclass(frozen=True)
class RowProblem:
    row: int
    message: str


class RegistryAdapter(Protocol):
    """What the reconciliation needs from a source: its name and its records (or the rows it could not
    read). A file adapter reads an extract; an online client would query the registry."""

    source: str

    def records(self) -> Iterator[ContractRecord | CertificateRecord | RowProblem]: ...


def _iin(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{int(value):012d}"  # a number cell loses the leading zeros
    text = parse_text(value) or ""
    try:
        parse_iin(text)
    except IdentityError as exc:
        raise BadValue(_l("IIN %(value)s: %(error)s", value=text, error=exc.message)) from None
    return text


def _bin(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{int(value):012d}"
    text = parse_text(value) or ""
    try:
        return validate_bin(text)
    except IdentityError as exc:
        raise BadValue(_l("BIN %(value)s: %(error)s", value=text, error=exc.message)) from None


def _required(values: dict, key: str, label):
    if values.get(key) is None:
        raise BadValue(_l("%(label)s: the value is missing.", label=label))
    return values[key]


class FileAdapter:
    """A registry extract in a file (csv or xlsx), read by the import's reader with ``layout``."""

    source = ""
    layout: Layout

    def __init__(self, path, file_name: str | None = None):
        self.path = Path(path)
        self.file_name = file_name or self.path.name

    def _rows(self) -> Iterator[tuple[int, dict]]:
        book = open_book(self.path, self.file_name, self.layout)  # FileRefused: the file as a whole
        for sheet in book.sheets:
            for n, values in sheet.rows():
                yield n, {k: v for k, v in zip(sheet.keys, values, strict=False) if k is not None}

    def records(self):
        for n, values in self._rows():
            try:
                yield self.record(n, values)
            except DomainError as exc:
                yield RowProblem(n, str(exc.message))

    def record(self, n: int, values: dict):
        raise NotImplementedError


class EsutdFile(FileAdapter):
    """An extract of the labour-contract system (ESUTD): IIN, employer BIN, contract start and end,
    position (and optionally the contract number)."""

    source = SOURCE_ESUTD
    layout = ESUTD_LAYOUT

    def record(self, n, values) -> ContractRecord:
        cols = {c.key: c.label for c in ESUTD_COLUMNS}
        iin = _iin(_required(values, "iin", cols["iin"]))
        employer = _bin(_required(values, "employer_bin", cols["employer_bin"]))
        start = parse_date(_required(values, "contract_start", cols["contract_start"]))
        end = parse_date(values.get("contract_end"))
        if end is not None and end < start:
            raise BadValue(_l("The contract ends before it starts."))
        return ContractRecord(n, iin, employer, start, end, parse_text(values.get("position")),
                              parse_text(values.get("contract_number")))


class CertificateRegistryFile(FileAdapter):
    """An accredited issuer's registry extract: IIN, certificate number, specialty, date of issue, valid
    until (and optionally the issuer)."""

    source = SOURCE_CERTIFICATES
    layout = CERTIFICATES_LAYOUT

    def __init__(self, path, file_name: str | None = None):
        super().__init__(path, file_name)
        self._specialties: Lookup | None = None

    def record(self, n, values) -> CertificateRecord:
        cols = {c.key: c.label for c in CERTIFICATE_COLUMNS}
        if self._specialties is None:
            self._specialties = Lookup(Specialty)
        iin = _iin(_required(values, "iin", cols["iin"]))
        number = parse_text(_required(values, "number", cols["number"]))
        specialty = self._specialties.get(_required(values, "specialty", cols["specialty"]), cols["specialty"])
        issued = parse_date(_required(values, "issued_on", cols["issued_on"]))
        until = parse_date(values.get("valid_until"))
        if until is not None and until < issued:
            raise BadValue(_l("The certificate is valid until a day before its date of issue."))
        return CertificateRecord(n, iin, str(number), specialty, issued, until, parse_text(values.get("issuer")))


ADAPTERS = {SOURCE_ESUTD: EsutdFile, SOURCE_CERTIFICATES: CertificateRegistryFile}


def file_adapter(source: str, path, file_name: str | None = None) -> FileAdapter:
    return ADAPTERS[source](path, file_name)
