"""The columns of each kind of import file: canonical key, label (the template's header, translated),
type and, for reference values, the classifier. Headers are matched on the key or on the label in
any of kk/ru/en (docs/import.md)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..cli_options import LANGUAGES

TEXT, DATE, DECIMAL, INT, SEX, REF, ORG, INSTITUTION, KIND, ENDING = (
    "text", "date", "decimal", "int", "sex", "ref", "org", "institution", "kind", "ending")


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string
    type: str = TEXT
    ref: str | None = None  # reference model name (REF)
    required: bool = False
    example: object = None
    max_length: int | None = None


WORKERS, EDUCATION, CERTIFICATES, CPD, STAFFING = "workers", "education", "certificates", "cpd", "staffing"
#: The kinds of a worker's record (one IIN ties their rows together): the template "all".
WORKER_KINDS = (WORKERS, EDUCATION, CERTIFICATES, CPD)
#: Every kind; ``staffing`` (lines of organizations' staffing tables, no worker) for who writes staffing
#: tables (``access``: resource ``staffing``, C/E).
KINDS = (*WORKER_KINDS, STAFFING)
KIND_LABELS = {WORKERS: _l("Workers"), EDUCATION: _l("Education"), CERTIFICATES: _l("Certificates"),
               CPD: _l("CPD"), STAFFING: _l("Staffing table")}

IIN = Column("iin", _l("IIN"), required=True, example="870412400014", max_length=12)

COLUMNS: dict[str, tuple[Column, ...]] = {
    WORKERS: (
        IIN,
        Column("surname", _l("Surname"), required=True, example="Қасымова", max_length=100),
        Column("name", _l("Name"), required=True, example="Айгүл", max_length=100),
        Column("patronymic", _l("Patronymic"), example="Серікқызы", max_length=100),
        Column("sex", _l("Sex"), SEX, example="F"),
        Column("birth_date", _l("Date of birth"), DATE, example="12.04.1987"),
        Column("birth_place", _l("Place of birth"), required=True, example="г. Алматы", max_length=255),
        Column("citizenship", _l("Citizenship"), REF, "Country", example="KZ"),
        Column("id_doc_type", _l("Identity document"), REF, "IdentityDocumentType", example="ID_CARD"),
        Column("id_doc_number", _l("Document number"), example="045612378", max_length=32),
        Column("id_doc_issuer", _l("Issued by"), example="МВД РК", max_length=255),
        Column("id_doc_issued_on", _l("Date of issue"), DATE, example="01.01.2020"),
        Column("id_doc_valid_until", _l("Valid until"), DATE, example="01.01.2030"),
        Column("residence", _l("Place of residence"), example="Астана, ул. Сарыарка 1", max_length=255),
        Column("registration_place", _l("Place of registration"), example="Астана", max_length=255),
        Column("registration_date", _l("Date of registration"), DATE, example="01.09.2019"),
        Column("email", _l("E-mail"), example="aigul@example.kz", max_length=255),
        Column("phone", _l("Phone"), example="+77011234567", max_length=32),
        Column("org_bin", _l("Organization BIN"), ORG, example="150440000019"),
        Column("position", _l("Position"), REF, "Position", required=True, example="NURSE"),
        Column("specialty", _l("Specialty"), REF, "Specialty", example="NURSING"),
        Column("hired_on", _l("Hire date"), DATE, required=True, example="10.01.2020"),
        Column("fte", _l("FTE"), DECIMAL, example="1"),
        Column("department", _l("Department"), example="Терапия", max_length=255),
        Column("order_number", _l("Order number"), example="15-к", max_length=64),
        # the end of the episode in the row's organization (issue 20.6): the last day, the Labour Code ground
        # and the category of leaving, through ``workers.services.end_employment`` like every ending
        Column("ended_on", _l("End date"), DATE),
        Column("end_ground", _l("Labour Code ground"), REF, "LabourCodeGround"),
        Column("end_category", _l("Category of leaving"), ENDING),
    ),
    CERTIFICATES: (
        IIN,
        Column("number", _l("Certificate number"), required=True, example="KZ-12345678", max_length=64),
        Column("specialty", _l("Specialty"), REF, "Specialty", required=True, example="NURSING"),
        Column("issuer", _l("Issued by"), example="НЦНЭ", max_length=255),
        Column("issued_on", _l("Date of issue"), DATE, required=True, example="01.02.2022"),
        Column("valid_until", _l("Valid until"), DATE, example="01.02.2027"),
    ),
    EDUCATION: (
        IIN,
        Column("kind", _l("Kind of education"), KIND, required=True, example="general"),
        Column("level", _l("Level of education"), REF, "EducationLevel", required=True, example="TVET"),
        Column("institution", _l("Education institution"), INSTITUTION, required=True,
               example="Медицинский колледж Астана"),
        Column("specialty", _l("Specialty"), REF, "Specialty", example="NURSING"),
        Column("qualification", _l("Qualification"), example="Медицинская сестра", max_length=255),
        Column("series", _l("Series"), example="ТКБ", max_length=16),
        Column("number", _l("Diploma number"), required=True, example="0012345", max_length=32),
        Column("issued_on", _l("Date of issue"), DATE, example="30.06.2008"),
        Column("graduation_year", _l("Year of graduation"), INT, example="2008"),
    ),
    CPD: (
        IIN,
        Column("activity_type", _l("Type of activity"), REF, "TrainingActivityType", required=True,
               example="SEMINAR"),
        Column("provider", _l("Provider"), required=True, example="НЦРЗ", max_length=255),
        Column("topic", _l("Topic"), required=True, example="Неотложная помощь", max_length=255),
        Column("start_date", _l("Start date"), DATE, required=True, example="01.03.2024"),
        Column("end_date", _l("End date"), DATE, required=True, example="05.03.2024"),
        Column("hours", _l("Hours"), DECIMAL, required=True, example="36"),
        Column("credits", _l("Credits"), DECIMAL, example="2"),
        Column("certificate_number", _l("Certificate number"), example="СПК-001", max_length=64),
    ),
    # one line of an organization's staffing table (``orgs.models.StaffingPosition``); its key is the
    # organization, position, specialty, department and start date (``imports.services.staffing_key``)
    STAFFING: (
        Column("org_bin", _l("Organization BIN"), ORG, example="150440000019"),
        Column("position", _l("Position"), REF, "Position", required=True, example="NURSE"),
        Column("specialty", _l("Specialty"), REF, "Specialty", example="NURSING"),
        Column("department", _l("Department"), example="Терапия", max_length=255),
        Column("approved_fte", _l("Approved FTE"), DECIMAL, required=True, example="2,5"),
        Column("valid_from", _l("Valid from"), DATE, example="01.01.2026"),
    ),
}

EDUCATION_KIND_LABELS = {"general": _l("General"), "additional": _l("Additional"),
                         "postgraduate": _l("Postgraduate")}

_SPACES = re.compile(r"\s+")


def norm(value) -> str:
    """The form in which headers and reference values are compared: Unicode NFC, case-folded, spaces
    collapsed. Letters are never folded into others: Kazakh ә, і, ү, ұ, қ, ғ, ң, ө, һ stay distinct
    from Russian а, и, у, к, г, н, о, х and from Latin look-alikes."""
    text = unicodedata.normalize("NFC", str(value or ""))
    return _SPACES.sub(" ", text).strip().strip("*").strip().casefold()


def label(column: Column, lang: str) -> str:
    with force_locale(lang):
        return str(column.label)


def kind_label(kind: str, lang: str) -> str:
    with force_locale(lang):
        return str(KIND_LABELS[kind])


@dataclass(frozen=True)
class Layout:
    """The kinds of sheet a reader recognises: their columns and the kinds' names. The import's own by
    default (``IMPORT_LAYOUT``); the reconciliation's registry extracts bring theirs, so one reader
    (``reader.open_book``) reads every spreadsheet the register takes in."""

    columns: dict
    labels: dict
    unrecognised: object = None  # the message for a file whose columns match no kind (None: the import's)

    @property
    def kinds(self) -> tuple:
        return tuple(self.columns)


IMPORT_LAYOUT = Layout(COLUMNS, KIND_LABELS)


def header_map(kind: str, layout: Layout | None = None) -> dict[str, str]:
    """norm(header) → canonical key, for the key and the label in every language."""
    out: dict[str, str] = {}
    for column in (layout or IMPORT_LAYOUT).columns[kind]:
        out[norm(column.key)] = column.key
        for lang in LANGUAGES:
            out.setdefault(norm(label(column, lang)), column.key)
    return out


def sheet_kind(name: str, layout: Layout | None = None) -> str | None:
    """The kind a sheet name stands for (the canonical kind or its label in any language)."""
    layout = layout or IMPORT_LAYOUT
    n = norm(name)
    for kind in layout.kinds:
        if n == kind:
            return kind
        for lang in LANGUAGES:
            with force_locale(lang):
                if n == norm(str(layout.labels[kind])):
                    return kind
    return None


def guess_kind(headers: list[str], layout: Layout | None = None) -> str | None:
    """The kind whose columns the headers match best (a sheet with another name, a csv file)."""
    layout = layout or IMPORT_LAYOUT
    best, score = None, 0
    normed = [norm(h) for h in headers]
    for kind in layout.kinds:
        hm = header_map(kind, layout)
        s = sum(1 for h in normed if h in hm)
        required = {c.key for c in layout.columns[kind] if c.required}
        found = {hm[h] for h in normed if h in hm}
        if required <= found and s > score:
            best, score = kind, s
    return best
