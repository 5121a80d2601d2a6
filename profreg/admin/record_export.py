"""The list export of a worker record view (CPD records, certificates, education documents, …) rendered by
PostgreSQL (``exports.pgcopy``), as the workers register's is: the association's national CPD export
(286,000 rows) took 42 s cell by cell through Flask-Admin (docs/performance.md, slow paths).

The cells are the ones the row-by-row export writes (``admin/exporting.write_file``), column by column:

* ``worker``: the full name (``workers.models.full_name``: the parts that are set, one space apart);
* ``worker.iin``: the IIN, masked where the reader's IINs are (``access.mask_for`` / ``mask_iin_sql``);
* ``worker.status``: "Blocked" or "Active" in the reader's language (``formatting.blocked_export``);
* a classifier (``reference.models.ReferenceMixin``): its name in the reader's language, else the
  Russian one (``ReferenceMixin.name``);
* dates dd.mm.yyyy, numbers with the reader's decimal mark, text neutralised against formulas.

Anything else — another database, a column with its own export formatter or choices, a moment with a
time zone,
a yes/no, a relationship that is not a classifier — and ``dataset_export`` answers None: the list is
then written row by row (``write_list``). tests/panel/test_record_export.py compares both files.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Boolean, Date, DateTime, Numeric, String, Text, case, func
from sqlalchemy import Integer as SqlInteger
from sqlalchemy.orm import RelationshipProperty, aliased
from sqlalchemy.orm.properties import ColumnProperty

from .. import access
from ..exports.pgcopy import Column, write_query_csv, write_query_xlsx
from ..extensions import db
from ..i18n import current_lang
from ..reference.models import ReferenceMixin
from ..workers.models import STATUS_BLOCKED, Worker
from .formatting import request_memo, status_labels

#: The worker columns every record view shows first (``worker_records.WORKER_COLUMNS``), rendered here.
_WORKER_COLUMNS = ("worker", "worker.iin", "worker.status")


def _masked() -> bool:
    """Are IINs masked for the reader (``access.mask_for``; the list's cells ask the same)?"""
    return request_memo("mask_iin", lambda: access.mask_for(current_user))


def _name(alias, lang: str):
    """SQL of ``ReferenceMixin.name``: the name in ``lang``, the Russian one when it is empty."""
    return func.coalesce(func.nullif(getattr(alias, f"name_{lang}"), ""), alias.name_ru)


def columns_and_query(view, statement):
    """(pgcopy columns, statement with the joins they need) of ``view``'s export columns, or None when a
    column is not one this module renders exactly as the row-by-row export does."""
    model = view.model
    lang = current_lang()
    formatted = (set(getattr(view, "column_formatters_export", None) or {})
                 | set(getattr(view, "_column_choices_map", None) or {})) - set(_WORKER_COLUMNS)
    worker = aliased(Worker)
    stmt = statement.outerjoin(worker, worker.id == model.worker_id)
    out = []
    for name, label in ((n, str(lab)) for n, lab in view.get_export_columns()):
        if name in formatted:
            return None
        if name == "worker":
            parts = [func.nullif(c, "") for c in (worker.surname, worker.name, worker.patronymic)]
            out.append(Column(func.concat_ws(" ", *parts), label, "text", 24))
            continue
        if name == "worker.iin":
            out.append(Column(access.mask_iin_sql(worker.iin) if _masked() else worker.iin, label, "text", 14))
            continue
        if name == "worker.status":
            blocked, active = status_labels()
            out.append(Column(case((worker.status == STATUS_BLOCKED, blocked), else_=active), label, "text", 10))
            continue
        prop = getattr(model, name, None)
        prop = getattr(prop, "property", None)
        if isinstance(prop, RelationshipProperty):
            target = prop.mapper.class_
            if prop.uselist or not issubclass(target, ReferenceMixin) or len(prop.local_columns) != 1:
                return None
            ref = aliased(target)
            stmt = stmt.outerjoin(ref, ref.id == next(iter(prop.local_columns)))
            out.append(Column(_name(ref, lang), label, "text", 20))
            continue
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            return None
        column = getattr(model, name)
        kind = _kind(prop.columns[0].type)
        if kind is None:
            return None
        out.append(Column(column, label, kind, 12 if kind != "text" else 20))
    return out, stmt


def _kind(type_) -> str | None:
    if isinstance(type_, (DateTime, Boolean)):  # a moment in the reader's time zone, "True": Python's
        return None
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, (Numeric, SqlInteger)):
        return "number"
    if isinstance(type_, (String, Text)):
        return "text"
    return None


def dataset_export(view, path, export_type: str, statement) -> int | None:
    """Write the list ``statement`` of the worker record view ``view`` to ``path`` on PostgreSQL; the
    number of rows, or None where this module does not render the list (see the module's text)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    built = columns_and_query(view, statement)
    if built is None:
        return None
    columns, stmt = built
    if export_type == "csv":
        return write_query_csv(path, stmt, columns, db.session)
    return write_query_xlsx(path, str(view.name), stmt, columns, db.session, key=view.model.id)


__all__ = ["columns_and_query", "dataset_export"]
