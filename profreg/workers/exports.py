"""Export of the worker register (the personal-data columns of the list), streamed.

Rows come from a server-side cursor (``yield_per``), so memory stays flat at national scale; the
writers are the shared ones in ``profreg.exports`` (formula-safe csv with BOM, constant-memory xlsx).
"""
from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import access
from ..extensions import db
from .models import Worker

COLUMNS = (
    (Worker.iin, _l("IIN")), (Worker.surname, _l("Surname")), (Worker.name, _l("Name")),
    (Worker.patronymic, _l("Patronymic")), (Worker.sex, _l("Sex")), (Worker.birth_date, _l("Date of birth")),
    (Worker.status, _l("Status")), (Worker.registration_date, _l("Date of registration")),
)


def headers() -> list[str]:
    return [str(label) for _col, label in COLUMNS]


def rows(user=None, batch: int = 5000) -> Iterator[tuple]:
    """Worker rows in the user's scope (the whole register when ``user`` is None: CLI, ministry jobs)."""
    q = select(*[c for c, _ in COLUMNS]).order_by(Worker.id)
    if user is not None:
        q = access.scoped(q, Worker, user)
    result = db.session.execute(q.execution_options(yield_per=batch, stream_results=True))
    for row in result:
        yield tuple(row)


def export(path: str, fmt: str, user=None) -> int:
    """Write the export to ``path`` as xlsx or csv; returns the number of rows."""
    from ..exports import Sheet, write_csv, write_xlsx

    if fmt == "csv":
        return write_csv(path, headers(), rows(user))
    sheet = Sheet(title=str(_l("Workers")), headers=headers(), rows=rows(user),
                  widths=[14, 18, 14, 18, 5, 12, 9, 12])
    return write_xlsx(path, [sheet])[0]
