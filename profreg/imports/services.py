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
from sqlalchemy.exc import IntegrityError

from .. import access, clock
from ..audit.services import log_event
from ..audit.services import reason as audit_reason
from ..auth.models import User
from ..certificates.models import Certificate
from ..certificates.services import admission_refused
from ..education.models import EDUCATION_KINDS, EducationDocument
from ..errors import DomainError, Refusal
from ..exports import Sheet, write_xlsx
from ..extensions import db
from ..identity import IdentityError, parse_iin
from ..reference.models import Country
from ..training.models import CpdRecord
from ..uow import unit_of_work
from ..workers.models import END_CATEGORY_LABELS, Employment, Worker
from ..workers.records import IMMUTABLE
from ..workers.services import (
    IIN_TAKEN,
    check_new_employment,
    employment_errors,
    end_employment,
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
    WORKERS,
    Column,
    norm,
)
from .models import DONE, FAILED, RUNNING, ImportRun
from .reader import Book, FileRefused, file_digest, open_book
from .values import BadValue, Lookups, parse_date, parse_decimal, parse_int, parse_sex, parse_text

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


@dataclass(eq=False)
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


@dataclass
class Outcomes:
    """Per (sheet, row): status and the text of the reasons / changed fields; counts per status."""

    rows: dict = field(default_factory=dict)
    counts: dict = field(default_factory=lambda: {CREATE: 0, UPDATE: 0, UNCHANGED: 0, REJECTED: 0})
    per_sheet: dict = field(default_factory=dict)

    def add(self, row: Row) -> None:
        text = "; ".join(dict.fromkeys(str(r) for r in row.reasons))
        if row.status == UPDATE and row.changes:
            text = ", ".join(dict.fromkeys(str(c) for c in row.changes))
        self.rows[(row.sheet, row.number)] = (row.status, text)
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


# ------------------------------------------------------------------------------------------ values
def _column(kind: str, key: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.key == key)


def _label(kind: str, key: str) -> str:
    try:
        return str(_column(kind, key).label)
    except StopIteration:
        return key


def parse_row(ctx: Context, row: Row) -> None:
    """Cell text → values of the row's columns; every problem is a reason on the row."""
    for column in COLUMNS[row.kind]:
        raw = row.raw.get(column.key)
        name = str(column.label)
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
    if first is not None:
        for row in rows:
            row.status, row.changes = REJECTED, []
            if not row.reasons:
                row.reasons.append(str(WITH_WORKER) % {"sheet": first.sheet_name, "row": first.number})


def _refuse(row: Row, *messages) -> None:
    raise RowRefused({row: [str(m) for m in messages]})


def _organization(ctx: Context, row: Row):
    org = row.values.get("org_bin") or ctx.default_org
    if org is None:
        _refuse(row, f"{_label(WORKERS, 'org_bin')}: {NO_ORGANIZATION}")
    if not access.org_in_scope(ctx.actor, org.id):
        _refuse(row, f"{_label(WORKERS, 'org_bin')}: " + str(OUT_OF_SCOPE_ORG) % {"bin": org.bin})
    return org


def _personal(row: Row, iin: str, defaults: bool = True) -> dict:
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
        v["citizenship"] = _kazakhstan()
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
            _check_number(row)
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
    """The bulk path of new workers (the first import of an organization): the same checks as
    ``_create_worker`` — ``worker_errors``, ``worker_entry_errors``, ``employment_errors``, the scope of the
    organization, the certificate numbers — per worker in Python, then the records of all the chunk's
    workers flushed at once (the ORM batches the INSERTs), the admission rule asked once for every post
    (``certificates.services.admission_refused``, the set form of ``clinical_admission_error``) and the
    episodes added the way ``workers.services.hire`` adds them (a new worker has no episode elsewhere, so
    no transfer opens). All inside one SAVEPOINT: a worker refused by the admission rule sends the chunk
    back and is retried alone. Returns the (iin, row) of the groups left to ``process_worker``: registered
    workers, records without a worker row, and every worker the bulk checks refused (so that its
    reasons come from the one-worker path)."""
    single = {(iin, wrow) for iin, wrow, _kids in groups}
    new = [(iin, wrow, kids) for iin, wrow, kids in groups if wrow is not None]
    if len(new) < 2:
        return single
    existing = set(db.session.execute(select(Worker.iin).where(Worker.iin.in_([g[0] for g in new]))).scalars())
    numbers = [r.raw.get("number") for _i, _w, kids in new for r in kids if r.kind == CERTIFICATES]
    taken = set(db.session.execute(select(Certificate.number).where(
        Certificate.number.in_([parse_text(n) for n in numbers if n]), Certificate.in_force)).scalars())
    scope: dict = {}
    ready = []
    for iin, wrow, kids in new:
        if iin in existing:
            continue
        rows = [wrow, *kids]
        for row in rows:
            parse_row(ctx, row)
        if any(row.reasons for row in rows):
            for row in rows:  # parsed again, with their reasons, by the one-worker path
                row.reasons, row.values = [], {}
            continue
        if any(wrow.values.get(k) is not None for k in ENDING_FIELDS.values()):
            continue  # refused by the one-worker path, with its reason
        org = wrow.values.get("org_bin") or ctx.default_org
        if org is not None and org.id not in scope:
            scope[org.id] = access.org_in_scope(ctx.actor, org.id)
        if org is None or not scope[org.id]:
            continue
        certs = [r for r in kids if r.kind == CERTIFICATES]
        if any(r.values["number"] in taken or (r.values.get("valid_until") and r.values["valid_until"] <
                                               r.values["issued_on"]) for r in certs):
            continue
        if any(r.kind == CPD and r.values["end_date"] < r.values["start_date"] for r in kids):
            continue
        worker = Worker(iin=iin, **_personal(wrow, iin))
        for row in kids:
            if row.kind == EDUCATION:
                _education(ctx, worker, row, org)
        errors = worker_errors(iin=iin, birth_date=worker.birth_date, sex=worker.sex,
                               citizenship_code=getattr(worker.citizenship, "code", None))
        errors.update(worker_entry_errors(worker))
        errors.update(employment_errors(birth_date=worker.birth_date, hire_date=wrow.values["hired_on"],
                                        end_date=None))
        if errors:
            for row in kids:
                if row.kind == EDUCATION:
                    row.values = {}
            worker.education_documents = []
            continue
        taken.update(r.values["number"] for r in certs)
        ready.append((iin, wrow, kids, worker, org))
    while ready:
        refused: set = set()
        savepoint = db.session.begin_nested()
        try:
            with db.session.no_autoflush:
                for _iin, _wrow, kids, worker, org in ready:
                    db.session.add(worker)
                    for row in kids:
                        if row.kind == CERTIFICATES:
                            db.session.add(_certificate(worker, row, org))
                        elif row.kind == CPD:
                            db.session.add(_cpd(worker, row, org))
            db.session.flush()
            posts = [(n, worker.id, wrow.values["position"], wrow.values.get("specialty"))
                     for n, (_iin, wrow, _kids, worker, _org) in enumerate(ready)]
            days = {n: max(ctx.today, ready[n][1].values["hired_on"]) for n in range(len(ready))}
            for day in set(days.values()):
                refused |= admission_refused([p for p in posts if days[p[0]] == day], day)
            if refused:
                raise RowRefused({})
            for _iin, wrow, _kids, worker, org in ready:
                args = _hire_args(wrow)
                db.session.add(Employment(worker=worker, organization=org, position=args["position"],
                                          specialty=args["specialty"], hire_date=args["hire_date"],
                                          fte=args["fte"] if args["fte"] is not None else Decimal("1.00"),
                                          department=args["department"], order_number=args["order_number"],
                                          concurrent=False, is_main=True))
            db.session.flush()
        except (RowRefused, IntegrityError, Refusal):
            savepoint.rollback()
            if not refused:  # an unexpected refusal: every worker of the chunk goes the one-worker way
                refused = set(range(len(ready)))
            for n in refused:
                for row in ready[n][2]:
                    row.values, row.reasons = {}, []
                ready[n][1].values, ready[n][1].reasons = {}, []
            ready = [_rebuild(ctx, g) for n, g in enumerate(ready) if n not in refused]
            continue
        if ctx.write:
            savepoint.commit()
        else:
            savepoint.rollback()
        for iin, wrow, kids, _worker, _org in ready:
            single.discard((iin, wrow))
            for row in (wrow, *kids):
                row.status = CREATE
        break
    return single


def _rebuild(ctx: Context, group):
    """A worker of a chunk sent back by the admission rule: fresh objects for the next attempt (those of
    the rolled-back SAVEPOINT are expunged)."""
    iin, wrow, kids, _worker, org = group
    worker = Worker(iin=iin, **_personal(wrow, iin))
    for row in kids:
        if row.kind == EDUCATION:
            _education(ctx, worker, row, org)
    return iin, wrow, kids, worker, org


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


# ------------------------------------------------------------------------------------------- a file
def _rows(book: Book, kind: str):
    for index, sheet in enumerate(book.sheets):
        if sheet.kind != kind:
            continue
        for number, values in sheet.rows():
            raw = {key: value for key, value in zip(sheet.keys, values, strict=False) if key is not None}
            yield Row(index, sheet.name, kind, number, raw)


def _iin_of(row: Row) -> str:
    return (parse_text(row.raw.get("iin")) or "").replace(" ", "")


def process(book: Book, ctx: Context, outcomes: Outcomes, on_chunk: Callable[[int], None] | None = None) -> None:
    """Every row of the file: workers in chunks with their rows from the other sheets; the other
    sheets' rows of workers not on the workers sheet afterwards, grouped by IIN."""
    children: dict[str, list[Row]] = {}
    for kind in (CERTIFICATES, EDUCATION, CPD):
        for row in _rows(book, kind):
            children.setdefault(_iin_of(row), []).append(row)
    done = 0

    def run_chunk(groups):
        nonlocal done
        with unit_of_work():
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
        if iin in seen or any(iin == c[0] for c in chunk):
            wrow.status, wrow.reasons = REJECTED, [f"{_label(WORKERS, 'iin')}: {DUPLICATE_ROW}"]
            outcomes.add(wrow)
            done += 1
            continue
        chunk.append((iin, wrow, children.pop(iin, [])))
        if len(chunk) >= CHUNK:
            seen.update(c[0] for c in chunk)
            run_chunk(chunk)
            chunk = []
    groups = chunk + [(iin, None, kids) for iin, kids in children.items()]
    for start in range(0, len(groups), CHUNK):
        run_chunk(groups[start:start + CHUNK])


# -------------------------------------------------------------------------------------------- report
def write_report(book: Book, outcomes: Outcomes, path, lang: str) -> None:
    """The uploaded sheets as they were, each row with its status and reasons (or changed fields)."""
    with force_locale(lang):
        status_h, reasons_h = str(_l("Import status")), str(_l("Reasons / changed fields"))
        labels = {k: str(v) for k, v in STATUS_LABELS.items()}

        def rows(index, sheet):
            for number, values in sheet.rows():
                status, text = outcomes.rows.get((index, number), (None, ""))
                yield [*values, labels.get(status, ""), text]

        sheets = [Sheet(title=sheet.name, headers=[*(h if h is not None else "" for h in sheet.headers), status_h,
                                                   reasons_h], rows=rows(i, sheet))
                  for i, sheet in enumerate(book.sheets)]
        write_xlsx(path, sheets)


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
           "process", "process_worker", "start", "write_report"]


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

            with unit_of_work():
                execute(run, user, report_path=report, progress=progress)
        except Exception as exc:
            with unit_of_work():
                run.state, run.error, run.finished_at = FAILED, str(exc)[:500], clock.utcnow_naive()
            raise
    return run.rows_done


def runs_query(user):
    """The imports ``user`` may see: those of the organizations in scope (``access.scoped``) and their own."""
    in_scope = access.scoped(select(ImportRun.id), ImportRun, user)
    return select(ImportRun).where(or_(ImportRun.user_id == user.id, ImportRun.id.in_(in_scope)))


def get_run(user, run_id: int) -> ImportRun | None:
    return db.session.execute(runs_query(user).where(ImportRun.id == run_id)).scalar_one_or_none()
