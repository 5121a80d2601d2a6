"""Bulk import (issue 16): every row validated by the services the panel uses, each worker's rows
written together or not at all, an outcome per row in the user's language.

* The rules are not restated here: the personal data is ``workers.services.worker_errors``, rule 8's
  entry fields ``worker_entry_errors``, a hire ``workers.services.hire`` (age, admission through
  ``certificates.services.clinical_admission_error``, transfers), a changed post
  ``check_new_employment``; the scope of every row ``access`` (``org_in_scope``, ``in_scope``,
  ``allowed``); saved records are never overwritten (``workers.records.IMMUTABLE``, the session guard);
  text is cleaned with ``hygiene`` when the file is read.
* A worker's rows (the workers sheet and the rows with his IIN on the certificates, education and CPD
  sheets) are applied inside one SAVEPOINT: any refusal rolls all of them back. A dry run applies them
  the same way and always rolls back, so it checks exactly what an import would write.
* ``--atomic``: the whole file is validated first (as a dry run); it is written only when no row is
  rejected.
* Audit: every write is a normal audited change (the ``before_flush`` listener) made by the importing
  user, with the detail "import <SHA-256> <file name>"; the run itself is an ``import`` entry.
* Staffing lines (``staffing`` sheet, no worker): each row on its own, keyed by ``staffing_key``; the
  rule of a line is ``orgs.services.staffing_line_errors`` (the panel's), the right is the panel's
  (``access``: resource ``staffing``, C for a new line, E for a changed one, the organization in scope).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy import or_, select
from sqlalchemy.exc import DataError, IntegrityError

from .. import access, clock
from ..audit.services import current_reason as audit_reason_now
from ..audit.services import log_created, log_event
from ..audit.services import reason as audit_reason
from ..auth.models import User
from ..bulk import Statistics, insert_rows
from ..certificates.models import Certificate
from ..certificates.services import admission_refused, refresh_certificate_statuses
from ..education.models import EDUCATION_KINDS, EducationDocument
from ..errors import DomainError, Refusal
from ..exports import Sheet, write_plain_xlsx
from ..extensions import db
from ..identity import IdentityError, parse_iin
from ..notifications.services import notify_import_done
from ..orgs.models import StaffingPosition
from ..orgs.services import staffing_line_errors
from ..reference.models import Country
from ..training.models import CpdRecord
from ..uow import unit_of_work
from ..workers.models import END_CATEGORY_LABELS, Employment, Worker, fold, sort_key
from ..workers.records import IMMUTABLE
from ..workers.services import (
    IIN_TAKEN,
    check_new_employment,
    employment_errors,
    end_employment,
    entry_errors,
    hire,
    worker_entry_errors,
    worker_errors,
)
from .columns import (
    CERTIFICATES,
    COLUMNS,
    CPD,
    DATE,
    DECIMAL,
    EDUCATION,
    EDUCATION_KIND_LABELS,
    ENDING,
    INSTITUTION,
    INT,
    KIND,
    LANGUAGES,
    ORG,
    REF,
    SEX,
    STAFFING,
    WORKER_KINDS,
    WORKERS,
    Column,
    norm,
)
from .models import DONE, FAILED, RUNNING, ImportRun
from .reader import Book, FileRefused, file_digest, open_book
from .values import BadValue, Lookups, parse_date, parse_decimal, parse_int, parse_sex, parse_text
from .waiting import Waiting

CREATE, UPDATE, UNCHANGED, REJECTED = "create", "update", "unchanged", "rejected"
STATUS_LABELS = {CREATE: _l("create"), UPDATE: _l("update"), UNCHANGED: _l("unchanged"), REJECTED: _l("rejected")}
#: Workers validated and written per chunk (a commit per chunk when the caller owns the unit).
CHUNK = 500

REQUIRED = _l("Required.")
WITH_WORKER = _l("Not written: another row of this worker was rejected (%(sheet)s, row %(row)d).")
NO_WORKER = _l("No worker with this IIN in your area of responsibility: add the worker on the workers sheet.")
OUT_OF_SCOPE_ORG = _l("The organization %(bin)s is outside your area of responsibility.")
NO_ORGANIZATION = _l("Give the organization's BIN (or choose the default organization of the import).")
NO_CHANGE_RIGHT = _l("You may not change the personal data of a registered worker (%(fields)s).")
NO_EPISODE_RIGHT = _l("You may not change this employment (%(fields)s).")
DUPLICATE_ROW = _l("This IIN is on several rows of the sheet; one row per worker.")
NUMBER_TAKEN = _l("This number is already registered.")
SAVE_FAILED = _l("The row could not be saved (a duplicate number or a value out of range).")
VALIDITY_DATES = _l("The validity ends before the date of issue.")
CPD_DATES = _l("The end date cannot be before the start date.")
NOTHING_TO_END = _l("The worker is not in the register: there is no employment to end (leave the end date, the "
                    "Labour Code ground and the category empty).")
#: The fields of an ending (``workers.services.end_employment``) ← the columns of the workers sheet.
ENDING_FIELDS = {"end_date": "ended_on", "end_ground": "end_ground", "end_category": "end_category"}
ATOMIC_REFUSED = _l("Nothing was written: %(n)d rows were rejected and the import is all-or-nothing.")
NO_STAFFING_RIGHT = _l("You may not change staffing tables.")
DUPLICATE_LINE = _l("This line of the staffing table (organization, position, specialty, department, valid from) "
                    "is on several rows of the sheet (first: row %(row)d); one row per line.")
AMBIGUOUS_LINE = _l("Several saved lines of the staffing table have this organization, position, specialty, "
                    "department and start date: correct them in the panel first.")

#: Where a service's error field is shown: the column of the file it comes from.
FIELD_COLUMNS = {"iin": "iin", "birth_date": "birth_date", "sex": "sex", "id_doc_type": "id_doc_type",
                 "id_doc_number": "id_doc_number", "id_doc_issuer": "id_doc_issuer",
                 "id_doc_issued": "id_doc_issued_on", "residence_address": "residence",
                 "registration_place": "registration_place", "registration_date": "registration_date",
                 "position": "position", "specialty": "specialty", "hire_date": "hired_on",
                 "organization": "org_bin", "end_date": "end_date"}
#: Worker attribute ← column of the workers sheet.
PERSONAL = (("surname", "surname"), ("name", "name"), ("patronymic", "patronymic"), ("sex", "sex"),
            ("birth_date", "birth_date"), ("birth_place", "birth_place"), ("citizenship", "citizenship"),
            ("id_doc_type", "id_doc_type"), ("id_doc_number", "id_doc_number"), ("id_doc_issuer", "id_doc_issuer"),
            ("id_doc_issued", "id_doc_issued_on"), ("id_doc_expires", "id_doc_valid_until"),
            ("residence_address", "residence"), ("registration_place", "registration_place"),
            ("registration_date", "registration_date"), ("email", "email"), ("phone", "phone"))
EPISODE = (("position", "position"), ("specialty", "specialty"), ("hire_date", "hired_on"), ("fte", "fte"),
           ("department", "department"), ("order_number", "order_number"))


@dataclass(eq=False, slots=True)
class Row:
    sheet: int
    sheet_name: str
    kind: str
    number: int
    raw: dict
    values: dict = field(default_factory=dict)
    status: str | None = None
    reasons: list = field(default_factory=list)
    changes: list = field(default_factory=list)


class RowRefused(DomainError):
    """Rows refused while a worker's rows are applied: {row: [messages]} (the savepoint rolls back)."""

    def __init__(self, reasons: dict):
        super().__init__()
        self.reasons = reasons


_STATUSES = (None, CREATE, UPDATE, UNCHANGED, REJECTED)
_CODES = {status: code for code, status in enumerate(_STATUSES)}


@dataclass
class Outcomes:
    """Per (sheet, row): status and the text of the reasons / changed fields; counts per status."""

    #: (sheet, row) → text of the reasons / changed fields (only rows that have one: a national file's
    #: hundreds of thousands of plain "create" rows keep one byte each in ``statuses``)
    texts: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)  # sheet → bytearray of status codes by row number
    counts: dict = field(default_factory=lambda: {CREATE: 0, UPDATE: 0, UNCHANGED: 0, REJECTED: 0})
    per_sheet: dict = field(default_factory=dict)

    def get(self, sheet: int, number: int) -> tuple:
        """(status or None, text) of a row of the file."""
        codes = self.statuses.get(sheet, b"")
        status = _STATUSES[codes[number]] if number < len(codes) else None
        return status, self.texts.get((sheet, number), "")

    def add(self, row: Row) -> None:
        text = "; ".join(dict.fromkeys(str(r) for r in row.reasons))
        if row.status == UPDATE and row.changes:
            text = ", ".join(dict.fromkeys(str(c) for c in row.changes))
        if text:
            self.texts[(row.sheet, row.number)] = text
        codes = self.statuses.setdefault(row.sheet, bytearray())
        if len(codes) <= row.number:
            codes.extend(bytes(max(row.number + 1 - len(codes), len(codes))))
        codes[row.number] = _CODES[row.status]
        self.counts[row.status] += 1
        sheet = self.per_sheet.setdefault(row.kind, {CREATE: 0, UPDATE: 0, UNCHANGED: 0, REJECTED: 0})
        sheet[row.status] += 1


@dataclass
class Context:
    actor: object
    default_org: object
    lang: str
    write: bool
    today: date
    lookups: Lookups = field(default_factory=Lookups)
    #: certificate number → IIN of the worker of this file who claimed it (a number on two workers' rows
    #: is refused on the second, in a dry run as in an import)
    claimed: dict = field(default_factory=dict)
    scope: dict = field(default_factory=dict)  # organization id → in the actor's scope
    region_of: dict = field(default_factory=dict)  # organization id → region id
    labels: dict = field(default_factory=dict)  # kind → [(column, translated label)]
    kazakhstan: object = None
    #: organization id → {staffing key: [(line id, approved FTE)]} of the saved lines (read once per organization)
    staffing: dict = field(default_factory=dict)
    staffing_rows: dict = field(default_factory=dict)  # staffing key → the first row of the file with it


# ------------------------------------------------------------------------------------------ values
def _column(kind: str, key: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.key == key)


def _label(kind: str, key: str) -> str:
    try:
        return str(_column(kind, key).label)
    except StopIteration:
        return key


def _labelled(ctx: Context, kind: str) -> list:
    """The columns of ``kind`` with their labels in the run's language (translated once per run)."""
    if kind not in ctx.labels:
        ctx.labels[kind] = [(column, str(column.label)) for column in COLUMNS[kind]]
    return ctx.labels[kind]


def parse_row(ctx: Context, row: Row) -> None:
    """Cell text → values of the row's columns; every problem is a reason on the row."""
    raws = row.raw
    for column, name in _labelled(ctx, row.kind):
        raw = raws.get(column.key)
        if raw is None:
            if column.required:
                row.reasons.append(f"{name}: {REQUIRED}")
            row.values[column.key] = None
            continue
        try:
            if column.type == DATE:
                value = parse_date(raw)
            elif column.type == DECIMAL:
                value = parse_decimal(raw)
            elif column.type == INT:
                value = parse_int(raw)
            elif column.type == SEX:
                value = parse_sex(raw)
            elif column.type == REF:
                value = ctx.lookups.ref(column.ref).get(raw, name)
            elif column.type == ORG:
                value = ctx.lookups.org(raw, name)
            elif column.type == INSTITUTION:
                value = ctx.lookups.institution(raw, name)
            elif column.type == KIND:
                value = _education_kind(raw, name)
            elif column.type == ENDING:
                value = _end_category(raw, name)
            else:
                value = parse_text(raw)
                if value is not None and column.max_length and len(value) > column.max_length:
                    raise BadValue(_l("%(label)s: at most %(n)d characters.", label=name, n=column.max_length))
        except BadValue as exc:
            row.reasons.append(_prefixed(name, exc.message))
            continue
        if value is None and column.required:
            row.reasons.append(f"{name}: {REQUIRED}")
        row.values[column.key] = value


def _end_category(raw, name):
    """The category of leaving by its name in kk/ru/en or its code (``END_CATEGORIES``)."""
    if raw is None:
        return None
    key = norm(parse_text(raw))
    for code, label in END_CATEGORY_LABELS.items():
        if key == norm(code) or any(key == norm(label_in(label, lang)) for lang in LANGUAGES):
            return code
    raise BadValue(_l("%(label)s: unknown value “%(value)s” (see the sheet of allowed values).", label=name,
                      value=raw))


def _end_episode(ctx: Context, worker: Worker, wrow: Row) -> None:
    """A worker row with an end date ends the worker's episode in the actor's organization, on the
    Labour Code ground and with the category of leaving of the row (``end_employment``: the one rule)."""
    v = wrow.values
    if v.get("ended_on") is None:
        if v.get("end_ground") is not None or v.get("end_category") is not None:
            _refuse(wrow, f"{_label(WORKERS, 'ended_on')}: {REQUIRED}")
        return
    try:
        end_employment(worker, ctx.actor, v["ended_on"], v.get("end_ground"), v.get("end_category"))
    except DomainError as exc:
        _refuse(wrow, *(_prefixed(_label(WORKERS, ENDING_FIELDS[k]), m) if k in ENDING_FIELDS else str(m)
                        for k, m in exc.errors.items()))
    wrow.changes.append(_label(WORKERS, "ended_on"))


def _prefixed(name: str, message) -> str:
    text = str(message)
    return text if text.startswith(name) else f"{name}: {text}"


def _education_kind(raw, name):
    if raw is None:
        return None
    key = norm(raw)
    for kind in EDUCATION_KINDS:
        if key == kind or any(key == norm(label_in(EDUCATION_KIND_LABELS[kind], lang)) for lang in LANGUAGES):
            return kind
    raise BadValue(_l("%(label)s: unknown value “%(value)s” (see the sheet of allowed values).", label=name,
                      value=raw))


def label_in(text, lang: str) -> str:
    with force_locale(lang):
        return str(text)


def _reasons(kind: str, errors: dict) -> list[str]:
    """A service's ``{field: message}`` as reasons naming the file's columns."""
    out = []
    for key, message in errors.items():
        column = FIELD_COLUMNS.get(key) if key else None
        if key == "education_documents":
            out.append(str(message))
        elif column is not None:
            out.append(_prefixed(_label(WORKERS, column), message))
        else:
            out.append(str(message))
    return out


# -------------------------------------------------------------------------------------- one worker
def process_worker(ctx: Context, iin: str, wrow: Row | None, children: list[Row]) -> None:
    """Validate and (unless a dry run) write one worker's rows, all or none, in a SAVEPOINT."""
    rows = ([wrow] if wrow is not None else []) + children
    for row in rows:
        parse_row(ctx, row)
    if not any(row.reasons for row in rows):
        savepoint = db.session.begin_nested()
        try:
            with db.session.no_autoflush:
                _apply(ctx, iin, wrow, children)
            db.session.flush()
        except RowRefused as exc:
            savepoint.rollback()
            for row, messages in exc.reasons.items():
                row.reasons.extend(messages)
        except IntegrityError:
            savepoint.rollback()
            (wrow or children[0]).reasons.append(str(SAVE_FAILED))
        except Refusal as exc:
            savepoint.rollback()
            (wrow or children[0]).reasons.extend(_reasons(WORKERS, exc.errors))
        else:
            if ctx.write:
                savepoint.commit()
            else:
                savepoint.rollback()
    first = next((row for row in rows if row.reasons), None)
    if first is None:
        for row in children:
            if row.kind == CERTIFICATES and row.status == CREATE:
                ctx.claimed[row.values["number"]] = iin
    else:
        for row in rows:
            row.status, row.changes = REJECTED, []
            if not row.reasons:
                row.reasons.append(str(WITH_WORKER) % {"sheet": first.sheet_name, "row": first.number})


def _refuse(row: Row, *messages) -> None:
    raise RowRefused({row: [str(m) for m in messages]})


def _organization(ctx: Context, row: Row):
    org = row.values.get("org_bin") or ctx.default_org
    if org is None:
        _refuse(row, f"{_label(row.kind, 'org_bin')}: {NO_ORGANIZATION}")
    if not access.org_in_scope(ctx.actor, org.id):
        _refuse(row, f"{_label(row.kind, 'org_bin')}: " + str(OUT_OF_SCOPE_ORG) % {"bin": org.bin})
    return org


def _personal(row: Row, iin: str, defaults: bool = True, lookups: Context | None = None) -> dict:
    """The worker's attributes from the row; sex and date of birth from the IIN when empty, citizenship
    Kazakhstan when empty (for a new record only: an update changes only what the file gives)."""
    v = dict(row.values)
    try:
        info = parse_iin(iin)
    except IdentityError:
        info = None
    if v.get("sex") is None and info is not None and info.sex is not None:
        v["sex"] = info.sex
    if v.get("birth_date") is None and info is not None:
        v["birth_date"] = info.birth_date
    if v.get("citizenship") is None and defaults:
        if lookups is None:
            v["citizenship"] = _kazakhstan()
        else:
            if lookups.kazakhstan is None:
                lookups.kazakhstan = _kazakhstan()
            v["citizenship"] = lookups.kazakhstan
    return {attr: v.get(key) for attr, key in PERSONAL}


def _kazakhstan():
    return db.session.execute(select(Country).where(Country.code == "KZ")).scalar_one_or_none()


def _apply(ctx: Context, iin: str, wrow: Row | None, children: list[Row]) -> None:
    worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one_or_none()
    org = _organization(ctx, wrow) if wrow is not None else None
    if worker is not None and not access.in_scope(worker, ctx.actor):
        # a registered worker outside the actor's scope: the same answer as the panel's Create, and
        # nothing of the record is revealed (an IIN unknown to the register looks alike for records)
        if wrow is not None:
            _refuse(wrow, f"{_label(WORKERS, 'iin')}: {IIN_TAKEN}")
        raise RowRefused({row: [str(NO_WORKER)] for row in children})
    if worker is None and wrow is None:
        raise RowRefused({row: [str(NO_WORKER)] for row in children})
    if worker is None:
        _create_worker(ctx, iin, wrow, org, children)
    else:
        _update_worker(ctx, worker, wrow, org, children)


def _education(ctx, worker, row: Row, org) -> EducationDocument:
    v = row.values
    return EducationDocument(worker=worker, kind=v["kind"], level=v["level"], institution=v["institution"],
                             specialty=v.get("specialty"), qualification=v.get("qualification"),
                             series=v.get("series"), number=v["number"], issue_date=v.get("issued_on"),
                             graduation_year=v.get("graduation_year"),
                             entered_by_organization_id=getattr(org, "id", None))


def _certificate(worker, row: Row, org) -> Certificate:
    v = row.values
    if v.get("valid_until") is not None and v["valid_until"] < v["issued_on"]:
        _refuse(row, f"{_label(CERTIFICATES, 'valid_until')}: {VALIDITY_DATES}")
    return Certificate(worker=worker, number=v["number"], specialty=v["specialty"], issuer=v.get("issuer"),
                       issue_date=v["issued_on"], valid_until=v.get("valid_until"),
                       entered_by_organization_id=getattr(org, "id", None))


def _cpd(worker, row: Row, org) -> CpdRecord:
    v = row.values
    if v["end_date"] < v["start_date"]:
        _refuse(row, f"{_label(CPD, 'end_date')}: {CPD_DATES}")
    return CpdRecord(worker=worker, activity_type=v["activity_type"], provider=v["provider"], topic=v["topic"],
                     start_date=v["start_date"], end_date=v["end_date"], hours=v["hours"], credits=v.get("credits"),
                     certificate_number=v.get("certificate_number"),
                     entered_by_organization_id=getattr(org, "id", None))


def _hire_args(row: Row) -> dict:
    v = row.values
    return {"position": v["position"], "specialty": v.get("specialty"), "hire_date": v["hired_on"],
            "fte": v.get("fte"), "department": v.get("department"), "order_number": v.get("order_number")}


def _create_worker(ctx: Context, iin: str, wrow: Row, org, children: list[Row]) -> None:
    if any(wrow.values.get(k) is not None for k in ENDING_FIELDS.values()):
        _refuse(wrow, str(NOTHING_TO_END))
    personal = _personal(wrow, iin)
    worker = Worker(iin=iin, **personal)
    edu_rows = [r for r in children if r.kind == EDUCATION]
    for row in edu_rows:
        _education(ctx, worker, row, org)
    # every reason of the personal data, rule 8 and the episode's dates at once (the services' own checks)
    errors = worker_errors(iin=iin, birth_date=worker.birth_date, sex=worker.sex,
                           citizenship_code=getattr(worker.citizenship, "code", None))
    errors = {**worker_entry_errors(worker), **errors}
    errors.update(employment_errors(birth_date=worker.birth_date, hire_date=wrow.values["hired_on"], end_date=None))
    if errors:
        _refuse(wrow, *_reasons(WORKERS, errors))
    db.session.add(worker)
    db.session.flush()
    for row in children:
        if row.kind == CERTIFICATES:
            error = _number_error(ctx, iin, row)
            if error is None and _check_number(row) is not None:
                error = f"{_label(CERTIFICATES, 'number')}: {NUMBER_TAKEN}"
            if error:
                _refuse(row, error)
            db.session.add(_certificate(worker, row, org))
        elif row.kind == CPD:
            db.session.add(_cpd(worker, row, org))
        row.status = CREATE
    db.session.flush()
    try:
        hire(worker, organization=org, today=ctx.today, **_hire_args(wrow))
    except DomainError as exc:
        _refuse(wrow, *_reasons(WORKERS, exc.errors))
    wrow.status = CREATE


def create_batch(ctx: Context, groups) -> set:
    """The set-based path of new workers (the first import of an organization). Per chunk: the IINs and
    certificate numbers already registered are read with one query each; every new worker is checked
    in Python by the services' own rule functions (``worker_errors``, ``entry_errors``,
    ``employment_errors``, ``access.org_in_scope``, the number rule of ``_number_error``); the records of
    all the chunk's workers are inserted with one Core INSERT per table, the admission rule asked once
    per hire day for every post (``certificates.services.admission_refused``, the set form of
    ``clinical_admission_error``), the episodes inserted the way ``workers.services.hire`` adds them (a
    new worker has no episode elsewhere, so no transfer opens) and the audit entries written with one
    INSERT (``audit.services.log_created``: the same entries the listener writes per object). All inside
    one SAVEPOINT: a worker refused by the admission rule sends the chunk back and is left to the
    one-worker path. A dry run inserts the workers and certificates only (what the admission rule reads)
    and rolls back. Returns the (iin, row) of the groups left to ``process_worker``: registered workers,
    records without a worker row, and every worker the bulk checks refused (so that its reasons come
    from the one-worker path)."""
    single = {(iin, wrow) for iin, wrow, _kids in groups}
    new = [(iin, wrow, kids) for iin, wrow, kids in groups if wrow is not None]
    if not new:
        return single
    existing = set(db.session.execute(select(Worker.iin).where(Worker.iin.in_([g[0] for g in new]))).scalars())
    numbers = {parse_text(r.raw.get("number")) for _i, _w, kids in new for r in kids if r.kind == CERTIFICATES}
    numbers.discard(None)
    taken = set(db.session.execute(select(Certificate.number).where(
        Certificate.number.in_(sorted(numbers)), Certificate.in_force)).scalars()) if numbers else set()
    ready = []
    for iin, wrow, kids in new:
        if iin in existing:
            continue
        prepared = _prepare_new(ctx, iin, wrow, kids, taken)
        if prepared is None:
            for row in (wrow, *kids):  # parsed again, with their reasons, by the one-worker path
                row.reasons, row.values = [], {}
            continue
        ready.append(prepared)
    while ready:
        savepoint = db.session.begin_nested()
        try:
            refused = _insert_new(ctx, ready)
        except IntegrityError:  # an unexpected duplicate: every worker of the chunk goes the one-worker way
            refused = set(range(len(ready)))
        if refused:
            savepoint.rollback()
            for n in refused:
                for row in (ready[n]["wrow"], *ready[n]["kids"]):
                    row.values, row.reasons = {}, []
            ready = [g for n, g in enumerate(ready) if n not in refused]
            continue
        if ctx.write:
            savepoint.commit()
        else:
            savepoint.rollback()
        for group in ready:
            single.discard((group["iin"], group["wrow"]))
            for row in (group["wrow"], *group["kids"]):
                row.status = CREATE
            for row in group["kids"]:
                if row.kind == CERTIFICATES:
                    ctx.claimed[row.values["number"]] = group["iin"]
        break
    return single


def _code(obj):
    return getattr(obj, "code", None)


def _number_error(ctx: Context, iin: str, row: Row, taken=()) -> str | None:
    """A certificate row's number is refused when a certificate in force holds it (``taken``: read per
    chunk) or another worker of the same file claimed it first (the dry run knows it as well as the
    import: ``ctx.claimed``)."""
    number = row.values["number"]
    if number in taken or ctx.claimed.get(number, iin) != iin:
        return f"{_label(CERTIFICATES, 'number')}: {NUMBER_TAKEN}"
    return None


def _prepare_new(ctx: Context, iin: str, wrow: Row, kids: list[Row], taken: set) -> dict | None:
    """A new worker's rows as column values for the bulk INSERTs, or None when any rule refuses them
    (the one-worker path then gives the reasons)."""
    rows = [wrow, *kids]
    for row in rows:
        parse_row(ctx, row)
    if any(row.reasons for row in rows):
        return None
    if any(wrow.values.get(k) is not None for k in ENDING_FIELDS.values()):
        return None  # an ending of a worker not in the register: refused by the one-worker path, with its reason
    org = wrow.values.get("org_bin") or ctx.default_org
    if org is None:
        return None
    if org.id not in ctx.scope:
        ctx.scope[org.id] = access.org_in_scope(ctx.actor, org.id)
        ctx.region_of[org.id] = org.region_id
    if not ctx.scope[org.id]:
        return None
    certs = [r for r in kids if r.kind == CERTIFICATES]
    seen = set()
    for r in certs:
        if (_number_error(ctx, iin, r, taken) or r.values["number"] in seen
                or (r.values.get("valid_until") and r.values["valid_until"] < r.values["issued_on"])):
            return None
        seen.add(r.values["number"])
    if any(r.kind == CPD and r.values["end_date"] < r.values["start_date"] for r in kids):
        return None
    personal = _personal(wrow, iin, lookups=ctx)
    education = [r for r in kids if r.kind == EDUCATION]
    errors = worker_errors(iin=iin, birth_date=personal["birth_date"], sex=personal["sex"],
                           citizenship_code=_code(personal["citizenship"]))
    errors.update(entry_errors(
        iin=iin, citizenship_code=_code(personal["citizenship"]), id_doc_type_code=_code(personal["id_doc_type"]),
        id_doc_number=personal["id_doc_number"], id_doc_issuer=personal["id_doc_issuer"],
        id_doc_issued=personal["id_doc_issued"], residence_address=personal["residence_address"],
        registration_place=personal["registration_place"], registration_date=personal["registration_date"],
        education_documents=len(education)))
    errors.update(employment_errors(birth_date=personal["birth_date"], hire_date=wrow.values["hired_on"],
                                    end_date=None))
    if errors:
        return None
    for r in certs:
        taken.add(r.values["number"])
    worker = {attr: value for attr, value in personal.items() if attr not in ("citizenship", "id_doc_type")}
    worker.update(citizenship_id=getattr(personal["citizenship"], "id", None),
                  id_doc_type_id=getattr(personal["id_doc_type"], "id", None),
                  surname_folded=fold(personal["surname"]), surname_key=sort_key(personal["surname"]))
    return {"iin": iin, "wrow": wrow, "kids": kids, "org": org, "worker": {"iin": iin, **worker}}


def _id_of(obj):
    return getattr(obj, "id", None)


def _record_values(row: Row, worker_id: int, org, now) -> dict:
    """Column values of a certificate, education or CPD row (``_certificate``, ``_education``, ``_cpd``)."""
    v = row.values
    common = {"worker_id": worker_id, "entered_by_organization_id": _id_of(org), "entered_at": now}
    if row.kind == CERTIFICATES:
        return {**common, "number": v["number"], "specialty_id": _id_of(v["specialty"]), "issuer": v.get("issuer"),
                "issue_date": v["issued_on"], "valid_until": v.get("valid_until"), "created_at": now}
    if row.kind == EDUCATION:
        return {**common, "kind": v["kind"], "level_id": _id_of(v["level"]), "institution_id": _id_of(v["institution"]),
                "specialty_id": _id_of(v.get("specialty")), "qualification": v.get("qualification"),
                "series": v.get("series"), "number": v["number"], "issue_date": v.get("issued_on"),
                "graduation_year": v.get("graduation_year")}
    return {**common, "activity_type_id": _id_of(v["activity_type"]), "provider": v["provider"], "topic": v["topic"],
            "start_date": v["start_date"], "end_date": v["end_date"], "hours": v["hours"], "credits": v.get("credits"),
            "certificate_number": v.get("certificate_number")}


_RECORD_MODELS = {CERTIFICATES: Certificate, EDUCATION: EducationDocument, CPD: CpdRecord}


def _insert_many(model, rows: list[dict]) -> list[int]:
    """``rows`` inserted at once (``bulk.insert_rows``: COPY on PostgreSQL), their new ids in order."""
    return insert_rows(model.__table__, rows, ids=True)


def _insert_new(ctx: Context, ready: list[dict]) -> set:
    """Insert the prepared workers of a chunk and their records; ask the admission rule for every post;
    unless refused (returns the refused indexes), insert the episodes and the audit entries (an import)."""
    now = clock.utcnow_naive()
    worker_rows = [{**g["worker"], "created_at": now, "updated_at": now, "version": 1} for g in ready]
    ids = _insert_many(Worker, worker_rows)
    records: dict = {CERTIFICATES: [], EDUCATION: [], CPD: []}
    for g, worker_id in zip(ready, ids, strict=True):
        g["worker_id"] = worker_id
        for row in g["kids"]:
            if ctx.write or row.kind == CERTIFICATES:
                records[row.kind].append((g, _record_values(row, worker_id, g["org"], now)))
    record_ids = {kind: _insert_many(_RECORD_MODELS[kind], [values for _g, values in items])
                  for kind, items in records.items()}
    refresh_certificate_statuses(clock.today(), ids)  # COPY wrote them: no flush told the list filter's status
    refused: set = set()
    posts = [(n, g["worker_id"], g["wrow"].values["position"], g["wrow"].values.get("specialty"))
             for n, g in enumerate(ready)]
    days = {n: max(ctx.today, g["wrow"].values["hired_on"]) for n, g in enumerate(ready)}
    for day in set(days.values()):
        refused |= admission_refused([p for p in posts if days[p[0]] == day], day)
    if refused or not ctx.write:
        return refused
    episodes = []
    for g in ready:
        args = _hire_args(g["wrow"])
        episodes.append({"worker_id": g["worker_id"], "organization_id": g["org"].id,
                         "region_id": ctx.region_of[g["org"].id], "worker_surname_key": g["worker"]["surname_key"],
                         "position_id": args["position"].id, "specialty_id": _id_of(args["specialty"]),
                         "hire_date": args["hire_date"],
                         "fte": args["fte"] if args["fte"] is not None else Decimal("1.00"),
                         "department": args["department"], "order_number": args["order_number"],
                         "concurrent": False, "is_main": True, "entered_at": now})
    episode_ids = _insert_many(Employment, episodes)
    detail = audit_reason_now()
    log_created(Worker.__tablename__, [(g["worker_id"], g["worker_id"], g["org"].id, values)
                                       for g, values in zip(ready, worker_rows, strict=True)],
                actor=ctx.actor, detail=detail, region_of=ctx.region_of)
    for kind, items in records.items():
        log_created(_RECORD_MODELS[kind].__tablename__,
                    [(rid, values["worker_id"], g["org"].id, values)
                     for (g, values), rid in zip(items, record_ids[kind], strict=True)],
                    actor=ctx.actor, detail=detail, region_of=ctx.region_of)
    log_created(Employment.__tablename__, [(eid, values["worker_id"], values["organization_id"], values)
                                           for values, eid in zip(episodes, episode_ids, strict=True)],
                actor=ctx.actor, detail=detail, region_of=ctx.region_of)
    return refused


def _check_number(row: Row) -> Certificate | None:
    """The saved certificate (in force) with the row's number, if any."""
    return db.session.execute(select(Certificate).where(Certificate.number == row.values["number"],
                                                        Certificate.in_force)).scalar_one_or_none()


def _same(obj, pairs) -> list[str]:
    """Attributes of ``obj`` that differ from the given values (values None in the file are ignored)."""
    return [attr for attr, value in pairs if value is not None and getattr(obj, attr) != value]


def _update_worker(ctx: Context, worker: Worker, wrow: Row | None, org, children: list[Row]) -> None:
    for row in children:
        _child(ctx, worker, row, org)
    db.session.flush()  # the admission rule of a new or changed post reads the certificates just added
    if wrow is not None:
        personal = _personal(wrow, worker.iin, defaults=False)
        changed = _same(worker, personal.items())
        if changed:
            labels = [_label(WORKERS, dict(PERSONAL)[a]) for a in changed]
            if not access.allowed(ctx.actor, worker, access.EDIT):
                _refuse(wrow, str(NO_CHANGE_RIGHT) % {"fields": ", ".join(labels)})
            for attr in changed:
                setattr(worker, attr, personal[attr])
            errors = worker_errors(iin=worker.iin, birth_date=worker.birth_date, sex=worker.sex,
                                   citizenship_code=getattr(worker.citizenship, "code", None))
            if errors:
                _refuse(wrow, *_reasons(WORKERS, errors))
            wrow.changes.extend(labels)
        _update_episode(ctx, worker, wrow, org)
        db.session.flush()
        _end_episode(ctx, worker, wrow)
        wrow.status = UPDATE if wrow.changes else UNCHANGED


def _update_episode(ctx: Context, worker: Worker, wrow: Row, org) -> None:
    args = _hire_args(wrow)
    episode = next((e for e in worker.employments
                    if e.organization_id == org.id and e.current_on(ctx.today)), None)
    if episode is None:
        try:
            hire(worker, organization=org, today=ctx.today, **args)
        except DomainError as exc:
            _refuse(wrow, *_reasons(WORKERS, exc.errors))
        wrow.changes.append(_label(WORKERS, "org_bin"))
        return
    changed = _same(episode, ((a, args[a]) for a, _k in EPISODE))
    if not changed:
        return
    labels = [_label(WORKERS, dict(EPISODE)[a]) for a in changed]
    if not access.allowed(ctx.actor, episode, access.EDIT):
        _refuse(wrow, str(NO_EPISODE_RIGHT) % {"fields": ", ".join(labels)})
    errors = employment_errors(birth_date=worker.birth_date, hire_date=args["hire_date"], end_date=episode.end_date)
    if errors:
        _refuse(wrow, *_reasons(WORKERS, errors))
    if {"position", "specialty", "hire_date"} & set(changed):
        try:
            check_new_employment(worker, args["position"], args["specialty"], ctx.today, args["hire_date"])
        except DomainError as exc:
            _refuse(wrow, *_reasons(WORKERS, exc.errors))
    for attr in changed:
        setattr(episode, attr, args[attr])
    wrow.changes.extend(labels)


def _child(ctx: Context, worker: Worker, row: Row, org) -> None:
    """A certificate, education or CPD row of a registered worker: unchanged when saved as it is,
    refused when it would change a saved record (records are corrected, not overwritten), else added."""
    v = row.values
    if row.kind == CERTIFICATES:
        saved = _check_number(row)
        if saved is not None:
            if saved.worker_id != worker.id:
                _refuse(row, f"{_label(CERTIFICATES, 'number')}: {NUMBER_TAKEN}")
            if _same(saved, (("specialty", v["specialty"]), ("issuer", v.get("issuer")),
                             ("issue_date", v["issued_on"]), ("valid_until", v.get("valid_until")))):
                _refuse(row, IMMUTABLE)
            row.status = UNCHANGED
            return
        error = _number_error(ctx, worker.iin, row)
        if error:
            _refuse(row, error)
        db.session.add(_certificate(worker, row, org))
    elif row.kind == EDUCATION:
        saved = db.session.execute(select(EducationDocument).where(
            EducationDocument.worker_id == worker.id, EducationDocument.number == v["number"],
            EducationDocument.in_force)).scalars().first()
        if saved is not None:
            if _same(saved, (("kind", v["kind"]), ("level", v["level"]), ("institution", v["institution"]),
                             ("specialty", v.get("specialty")), ("qualification", v.get("qualification")),
                             ("series", v.get("series")), ("issue_date", v.get("issued_on")),
                             ("graduation_year", v.get("graduation_year")))):
                _refuse(row, IMMUTABLE)
            row.status = UNCHANGED
            return
        db.session.add(_education(ctx, worker, row, org))
    else:
        saved = db.session.execute(select(CpdRecord).where(
            CpdRecord.worker_id == worker.id, CpdRecord.activity_type_id == v["activity_type"].id,
            CpdRecord.start_date == v["start_date"], CpdRecord.topic == v["topic"], CpdRecord.in_force)).scalars().first()
        if saved is not None:
            if _same(saved, (("provider", v["provider"]), ("end_date", v["end_date"]), ("hours", v["hours"]),
                             ("credits", v.get("credits")), ("certificate_number", v.get("certificate_number")))):
                _refuse(row, IMMUTABLE)
            row.status = UNCHANGED
            return
        db.session.add(_cpd(worker, row, org))
    row.status = CREATE


# -------------------------------------------------------------------------------- staffing lines
def staffing_key(org_id: int, position_id: int, specialty_id: int | None, department: str | None,
                 valid_from: date | None) -> tuple:
    """The natural key of a line of a staffing table: the organization, the position, the specialty (or
    none), the department (as written, outer spaces trimmed; or none) and the start date (or none). A row
    of the file with the key of a saved line changes that line's approved FTE (or leaves it unchanged);
    any other row adds a line."""
    return org_id, position_id, specialty_id, (department or "").strip() or None, valid_from


def _saved_lines(ctx: Context, org_id: int) -> dict:
    """{staffing key: [(line id, approved FTE)]} of an organization's saved lines (one query per
    organization and run)."""
    lines = ctx.staffing.get(org_id)
    if lines is None:
        lines = ctx.staffing[org_id] = {}
        sp = StaffingPosition
        for line_id, position_id, specialty_id, department, valid_from, fte in db.session.execute(
                select(sp.id, sp.position_id, sp.specialty_id, sp.department, sp.valid_from, sp.approved_fte)
                .where(sp.organization_id == org_id)):
            lines.setdefault(staffing_key(org_id, position_id, specialty_id, department, valid_from), []) \
                .append((line_id, fte))
    return lines


def _staffing_outcome(ctx: Context, row: Row) -> tuple:
    """(status, organization, saved line id or None) of a parsed staffing row; ``RowRefused`` when the
    actor may not write it, the rule of a line refuses it or its key is on an earlier row of the file."""
    v = row.values
    if not (access.allowed(ctx.actor, StaffingPosition, access.CREATE)
            or access.allowed(ctx.actor, StaffingPosition, access.EDIT)):
        _refuse(row, NO_STAFFING_RIGHT)
    org = _organization(ctx, row)
    errors = staffing_line_errors(v["approved_fte"])
    if errors:
        _refuse(row, *(_prefixed(_label(STAFFING, key), message) for key, message in errors.items()))
    key = staffing_key(org.id, v["position"].id, _id_of(v.get("specialty")), v.get("department"), v.get("valid_from"))
    first = ctx.staffing_rows.setdefault(key, (row.sheet, row.number))
    if first != (row.sheet, row.number):
        _refuse(row, str(DUPLICATE_LINE) % {"row": first[1]})
    saved = _saved_lines(ctx, org.id).get(key, [])
    if len(saved) > 1:
        _refuse(row, AMBIGUOUS_LINE)
    if not saved:
        if not access.allowed(ctx.actor, StaffingPosition, access.CREATE):
            _refuse(row, NO_STAFFING_RIGHT)
        return CREATE, org, None
    line_id, fte = saved[0]
    if fte is not None and Decimal(fte) == v["approved_fte"]:
        return UNCHANGED, org, line_id
    if not access.allowed(ctx.actor, StaffingPosition, access.EDIT):
        _refuse(row, NO_STAFFING_RIGHT)
    return UPDATE, org, line_id


def process_staffing(ctx: Context, row: Row) -> None:
    """Validate and (unless a dry run) write one line of a staffing table. A new or changed line is
    written in a SAVEPOINT, rolled back in a dry run, so the check meets what the import would."""
    parse_row(ctx, row)
    if not row.reasons:
        try:
            row.status, org, line_id = _staffing_outcome(ctx, row)
        except RowRefused as exc:
            for messages in exc.reasons.values():
                row.reasons.extend(messages)
    if not row.reasons and row.status in (CREATE, UPDATE):
        v = row.values
        savepoint = db.session.begin_nested()
        try:
            if row.status == CREATE:
                line = StaffingPosition(organization_id=org.id, position_id=v["position"].id,
                                        specialty_id=_id_of(v.get("specialty")), department=v.get("department"),
                                        approved_fte=v["approved_fte"], valid_from=v.get("valid_from"))
                db.session.add(line)
            else:
                line = db.session.get(StaffingPosition, line_id)
                line.approved_fte = v["approved_fte"]
                row.changes.append(_label(STAFFING, "approved_fte"))
            db.session.flush()
            if not access.write_in_scope(line, ctx.actor):  # the panel's check of a row being written
                raise RowRefused({row: [str(OUT_OF_SCOPE_ORG) % {"bin": org.bin}]})
        except RowRefused as exc:
            savepoint.rollback()
            row.reasons.extend(exc.reasons[row])
        except (IntegrityError, DataError):
            savepoint.rollback()
            row.reasons.append(str(SAVE_FAILED))
        else:
            if ctx.write:
                savepoint.commit()
            else:
                savepoint.rollback()
    if row.reasons:
        row.status, row.changes = REJECTED, []


def may_import_staffing(user) -> bool:
    """May ``user`` import lines of staffing tables: the right to import and the panel's right to add
    staffing lines (``access``: resource ``staffing``; each row's organization is still checked)."""
    return access.can(user, "import", access.CREATE) and access.allowed(user, StaffingPosition, access.CREATE)


def kinds_for(user) -> tuple[str, ...]:
    """The kinds of file the import page offers ``user``: a worker's record; the staffing table to who
    may import it (``may_import_staffing``)."""
    return (*WORKER_KINDS, STAFFING) if may_import_staffing(user) else WORKER_KINDS


# ------------------------------------------------------------------------------------------- a file
#: Distinct cell values shared per run (the same issuer, specialty or date on thousands of rows is one
#: object): the certificate, education and CPD rows are held until their worker's turn.
SHARED_VALUES = 20_000
_SHAREABLE = (str, date)


def _packed_rows(book: Book, kind: str):
    """(IIN, packed row) of every row of ``kind``: the sheet's cells as a tuple, repeated text and dates
    shared (the same issuer, specialty or date on thousands of rows is one object). The certificate,
    education and CPD rows wait packed for their worker's turn (``_unpack``): some 200 bytes a row
    where a ``Row`` with its dictionaries takes 800 (a national file holds 200,000 of them)."""
    shared: dict = {}
    for index, sheet in enumerate(book.sheets):
        if sheet.kind != kind:
            continue
        keys = tuple(sheet.keys)
        iin_at = keys.index("iin") if "iin" in keys else None
        for number, values in sheet.rows():
            cells = []
            for key, value in zip(keys, values, strict=False):
                if key is None or value is None or type(value) not in _SHAREABLE:
                    cells.append(value if key is not None else None)  # only text and dates: True == 1 == 1.0
                    continue
                same = shared.get(value)
                if same is None and len(shared) < SHARED_VALUES:
                    shared[value] = same = value
                cells.append(same if same is not None else value)
            iin = _iin_text(cells[iin_at] if iin_at is not None and iin_at < len(cells) else None)
            yield iin, (index, sheet.name, kind, number, keys, tuple(cells))


def _unpack(packed) -> Row:
    index, name, kind, number, keys, cells = packed
    return Row(index, name, kind, number,
               {key: value for key, value in zip(keys, cells, strict=False) if key is not None and value is not None})


def _rows(book: Book, kind: str):
    for _iin, packed in _packed_rows(book, kind):
        yield _unpack(packed)


def _iin_text(value) -> str:
    return (parse_text(value) or "").replace(" ", "")


def _iin_of(row: Row) -> str:
    return _iin_text(row.raw.get("iin"))


def process(book: Book, ctx: Context, outcomes: Outcomes, on_chunk: Callable[[int], None] | None = None) -> None:
    """Every row of the file: workers in chunks with their rows from the other sheets; the other
    sheets' rows of workers not on the workers sheet afterwards, grouped by IIN; then the lines of
    staffing tables (``process_staffing``)."""
    children = Waiting()  # IIN → the packed rows of the worker's records (``_packed_rows``), on disk
    try:
        for kind in (CERTIFICATES, EDUCATION, CPD):
            for iin, packed in _packed_rows(book, kind):
                children.add(iin, packed)
        _process(book, ctx, outcomes, on_chunk, children)
    finally:
        children.close()


def _process(book: Book, ctx: Context, outcomes: Outcomes, on_chunk, children: Waiting) -> None:
    done = 0
    stats = Statistics(Worker.__tablename__, Employment.__tablename__, Certificate.__tablename__,
                       EducationDocument.__tablename__)

    def with_records(chunk):
        records = children.take([iin for iin, _wrow in chunk])
        return [(iin, wrow, [_unpack(p) for p in records.get(iin, ())]) for iin, wrow in chunk]

    def run_chunk(groups):
        nonlocal done
        with unit_of_work():
            if ctx.write:
                stats.check(len(groups))
            single = create_batch(ctx, groups)
            for iin, wrow, kids in groups:
                if (iin, wrow) in single:
                    process_worker(ctx, iin, wrow, kids)
                for row in ([wrow] if wrow is not None else []) + kids:
                    outcomes.add(row)
                    done += 1
        if on_chunk is not None:
            on_chunk(done)

    chunk, seen = [], set()
    for wrow in _rows(book, WORKERS):
        iin = _iin_of(wrow)
        if iin in seen:
            wrow.status, wrow.reasons = REJECTED, [f"{_label(WORKERS, 'iin')}: {DUPLICATE_ROW}"]
            outcomes.add(wrow)
            done += 1
            continue
        seen.add(iin)
        chunk.append((iin, wrow))
        if len(chunk) >= CHUNK:
            run_chunk(with_records(chunk))
            chunk = []
    if chunk:
        run_chunk(with_records(chunk))
    for orphans in children.rest(CHUNK):  # records of workers not on the workers sheet
        run_chunk([(iin, None, [_unpack(p) for p in packed]) for iin, packed in orphans])

    def run_staffing(rows):
        nonlocal done
        with unit_of_work():
            for row in rows:
                process_staffing(ctx, row)
                outcomes.add(row)
                done += 1
        if on_chunk is not None:
            on_chunk(done)

    # staffing lines: no worker; each row on its own, a chunk per unit
    ctx.staffing, ctx.staffing_rows = {}, {}
    lines = []
    for row in _rows(book, STAFFING):
        lines.append(row)
        if len(lines) >= CHUNK:
            run_staffing(lines)
            lines = []
    if lines:
        run_staffing(lines)


# -------------------------------------------------------------------------------------------- report
def write_report(book: Book, outcomes: Outcomes, path, lang: str) -> None:
    """The uploaded sheets as they were, each row with its status and reasons (or changed fields)."""
    with force_locale(lang):
        status_h, reasons_h = str(_l("Import status")), str(_l("Reasons / changed fields"))
        labels = {k: str(v) for k, v in STATUS_LABELS.items()}

        def rows(index, sheet):
            for number, values in sheet.rows():
                status, text = outcomes.get(index, number)
                yield [*values, labels.get(status, ""), text]

        sheets = [Sheet(title=sheet.name, headers=[*(h if h is not None else "" for h in sheet.headers), status_h,
                                                   reasons_h], rows=rows(i, sheet))
                  for i, sheet in enumerate(book.sheets)]
        write_plain_xlsx(path, sheets)


# ---------------------------------------------------------------------------------------- the run
@dataclass
class Result:
    run: ImportRun
    outcomes: Outcomes
    book: Book | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.run.state == DONE and self.outcomes.counts[REJECTED] == 0


def start(path, *, file_name: str, actor, default_org=None, kind: str = "all", dry_run: bool = True,
          atomic: bool = False, lang: str = "ru") -> ImportRun:
    """Record an import of the file at ``path`` (checked: the actor may import, the default organization
    is in scope). Flushes."""
    access.require(actor, "import", access.CREATE)
    if default_org is not None:
        access.require(actor, "import", access.CREATE, org_id=default_org.id)
    elif getattr(actor, "organization_id", None) is not None:
        default_org = actor.organization
    run = ImportRun(user_id=actor.id, organization_id=getattr(default_org, "id", None), file_name=file_name[:255],
                    sha256=file_digest(path), size=Path(path).stat().st_size, kind=kind, locale=lang,
                    dry_run=dry_run, atomic=atomic, state=RUNNING, rows_total=0, rows_done=0, created=0,
                    updated=0, unchanged=0, rejected=0, upload_path=str(path), created_at=clock.utcnow_naive())
    db.session.add(run)
    db.session.flush()
    return run


def execute(run: ImportRun, actor, *, report_path=None, progress: Callable[[int, int], None] | None = None) -> Result:
    """Validate and (unless a dry run, or an atomic import with a rejected row) write the file of
    ``run`` as ``actor``; write the report. A file refused as a whole fails the run with its reason."""
    lang = run.locale or "ru"
    outcomes = Outcomes()
    default_org = run.organization
    with force_locale(lang):
        try:
            book = open_book(run.upload_path, run.file_name)
        except FileRefused as exc:
            run.state, run.error, run.finished_at = FAILED, str(exc.message)[:500], clock.utcnow_naive()
            db.session.flush()
            return Result(run, outcomes, None, str(exc.message))
        run.rows_total = sum(sheet.estimate() for sheet in book.sheets)
        detail = f"import {run.sha256} {run.file_name}"[:255]
        ctx = Context(actor=actor, default_org=default_org, lang=lang, write=False, today=clock.today())

        def on_chunk(done):
            run.rows_done = done
            if progress is not None:
                progress(done, run.rows_total)

        message = None
        try:
            with audit_reason(detail):
                if run.dry_run or run.atomic:
                    process(book, ctx, outcomes, on_chunk)
                if not run.dry_run and run.atomic and outcomes.counts[REJECTED]:
                    message = str(ATOMIC_REFUSED) % {"n": outcomes.counts[REJECTED]}
                elif not run.dry_run:
                    outcomes = Outcomes()
                    ctx.write, ctx.lookups = True, Lookups()
                    process(book, ctx, outcomes, on_chunk)
                    log_event("import", actor, table_name=ImportRun.__tablename__, detail=detail)
        except FileRefused as exc:  # a limit met while streaming (too many rows)
            run.state, run.error, run.finished_at = FAILED, str(exc.message)[:500], clock.utcnow_naive()
            db.session.flush()
            return Result(run, outcomes, book, str(exc.message))
        for status in (CREATE, UPDATE, UNCHANGED, REJECTED):
            setattr(run, {CREATE: "created", UPDATE: "updated", UNCHANGED: "unchanged", REJECTED: "rejected"}[status],
                    outcomes.counts[status])
        run.rows_done = run.rows_total = sum(outcomes.counts.values())
        if report_path is not None:
            write_report(book, outcomes, report_path, lang)
            run.report_path = str(report_path)
        run.error = message
        run.state, run.finished_at = DONE, clock.utcnow_naive()
        db.session.flush()
    return Result(run, outcomes, book, message)


__all__ = ["CREATE", "REJECTED", "STATUS_LABELS", "UNCHANGED", "UPDATE", "Outcomes", "Result", "execute",
           "process", "process_staffing", "process_worker", "staffing_key", "start", "write_report"]


# ------------------------------------------------------------------------------ panel and background
def import_folder() -> Path:
    folder = Path(current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def inline_limit() -> int:
    return int(current_app.config.get("IMPORT_INLINE_MAX_ROWS", 2000))


def estimated_rows(path, file_name: str) -> int:
    """The rows of a file as far as known without reading them (0 when it cannot be opened: the run
    itself then reports why)."""
    try:
        return sum(sheet.estimate() for sheet in open_book(path, file_name).sheets)
    except FileRefused:
        return 0


def run_as_user(run_id: int) -> int:
    """Execute a recorded run as its user (a background job): the user signed in for the audit trail,
    the run's language, progress committed per chunk of workers (each chunk's workers are written
    for good; an atomic import validates the whole file first)."""
    run = db.session.get(ImportRun, run_id)
    user = db.session.get(User, run.user_id)
    with current_app.test_request_context("/"), force_locale(run.locale or "ru"):
        login_user(user)
        report = import_folder() / f"import-{run.id}-report.xlsx"
        try:
            def progress(done, total):
                with unit_of_work():
                    run.rows_done, run.rows_total = done, max(done, total)

            # no unit around the run: each chunk of workers commits (with the progress the page shows)
            execute(run, user, report_path=report, progress=progress)
            with unit_of_work():
                notify_import_done(run)
        except Exception as exc:
            with unit_of_work():
                run.state, run.error, run.finished_at = FAILED, str(exc)[:500], clock.utcnow_naive()
                notify_import_done(run)
            raise
    return run.rows_done


def runs_query(user):
    """The imports ``user`` may see: those of the organizations in scope (``access.scoped``) and their own."""
    in_scope = access.scoped(select(ImportRun.id), ImportRun, user)
    return select(ImportRun).where(or_(ImportRun.user_id == user.id, ImportRun.id.in_(in_scope)))


def get_run(user, run_id: int) -> ImportRun | None:
    return db.session.execute(runs_query(user).where(ImportRun.id == run_id)).scalar_one_or_none()
