"""Export of the worker register (the personal-data columns of the list), streamed.

On PostgreSQL the database writes the file's rows itself (``profreg.exports.pgcopy``: COPY of the
rows as worksheet XML or CSV), so the whole register (300,000 workers) takes about a second. Other
databases stream rows from a server-side cursor (``yield_per``) into the shared writers of
``profreg.exports`` (constant-memory xlsx, formula-safe csv). Both give the same cells: sex and
status in the reader's language, dates as dates.
"""
from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import access
from ..exports import Sheet, write_csv, write_xlsx
from ..exports.pgcopy import Column, write_query_csv, write_query_xlsx
from ..extensions import db
from .models import Worker

COLUMNS = (
    (Worker.iin, _l("IIN"), "text", 14), (Worker.surname, _l("Surname"), "text", 18),
    (Worker.name, _l("Name"), "text", 14), (Worker.patronymic, _l("Patronymic"), "text", 18),
    (Worker.sex, _l("Sex"), "label", 9), (Worker.birth_date, _l("Date of birth"), "date", 12),
    (Worker.status, _l("Status"), "label", 12), (Worker.registration_date, _l("Date of registration"), "date", 12),
)


def labels() -> dict:
    """Stored codes of the label columns, as shown (current language)."""
    return {"sex": {"M": _("Male"), "F": _("Female")}, "status": {"active": _("Active"), "blocked": _("Blocked")}}


def headers() -> list[str]:
    return [str(label) for _col, label, _kind, _width in COLUMNS]


def _query(user=None):
    """Worker ids in the user's scope (the whole register when ``user`` is None: CLI, ministry jobs)."""
    q = select(Worker.id).order_by(Worker.id)
    return access.scoped(q, Worker, user) if user is not None else q


def rows(user=None, batch: int = 5000, ids=None) -> Iterator[tuple]:
    """Worker rows as exported, through a server-side cursor (of ``ids``, a SELECT over Worker whose
    WHERE chooses the workers, when given)."""
    names = labels()
    q = (ids if ids is not None else _query(user)).with_only_columns(*[c for c, *_ in COLUMNS])
    result = db.session.execute(q.execution_options(yield_per=batch, stream_results=True))
    for iin, surname, name, patronymic, sex, birth, status, registered in result:
        yield (iin, surname, name, patronymic, names["sex"].get(sex, sex), birth,
               names["status"].get(status, status), registered)


def export(path: str, fmt: str, user=None, ids=None) -> int:
    """Write the export to ``path`` as xlsx or csv; returns the number of rows. The workers are those
    of ``user``'s scope (all for None), or those of ``ids``: a SELECT over Worker whose WHERE chooses
    them (the panel's list with its search and filters), in worker id order."""

    title = str(_l("Workers"))
    query = (ids.order_by(None).order_by(Worker.id) if ids is not None else _query(user))
    if db.engine.dialect.name == "postgresql":

        names = labels()
        columns = [Column(col, str(label), kind, width, names.get(col.key, {})) for col, label, kind, width in COLUMNS]
        if fmt == "csv":
            return write_query_csv(path, query, columns, db.session)
        return write_query_xlsx(path, title, query, columns, db.session, key=Worker.id)
    if fmt == "csv":
        return write_csv(path, headers(), rows(ids=query))
    sheet = Sheet(title=title, headers=headers(), rows=rows(ids=query), widths=[w for *_, w in COLUMNS])
    return write_xlsx(path, [sheet])[0]
