"""Set-based INSERT of many rows of one table in the current unit of work (the session's connection and
transaction, SAVEPOINTs included): ``COPY ... FROM STDIN`` on PostgreSQL, a Core ``executemany``
elsewhere (SQLite in tests). Used where a chunk of thousands of rows is written at once (the bulk
import); the caller has checked every row with the domain's rules beforehand. No ORM event runs:
the caller writes what the listeners would (the audit entries: ``audit.services.log_created``)."""
from __future__ import annotations

import json

from sqlalchemy import JSON, Table, text

from .extensions import db


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def new_ids(table: Table, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table`` from its sequence (PostgreSQL), in order."""
    if n == 0:
        return []
    return list(db.session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                                        "FROM generate_series(1, :n)"), {"t": table.name, "n": n}).scalars())


def insert_rows(table: Table, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts of column values, every row with the same keys; a missing column takes its
    Python-side default, as with Core) into ``table``. With ``ids``, returns the new rows' ids in order."""
    if not rows:
        return []
    columns = list(rows[0])
    defaults = {c.name: c.default.arg for c in table.columns
                if c.name not in columns and c.default is not None and c.name != "id"}
    if not _postgres():
        if ids:
            result = db.session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
            return [r[0] for r in result]
        db.session.execute(table.insert(), rows)
        return []
    new = new_ids(table, len(rows)) if ids else []
    names = (["id"] if ids else []) + columns + list(defaults)
    evaluated = {c.name: (c.default.arg(None) if c.default.is_callable else c.default.arg)
                 for c in table.columns if c.name in defaults}
    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    cursor = db.session.connection().connection.driver_connection.cursor()
    quoted = ", ".join(f'"{n}"' for n in names)
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for n, row in enumerate(rows):
            values = [row[c] for c in columns] + list(evaluated.values())
            if as_json:
                values = [json.dumps(v, ensure_ascii=False) if name in as_json and v is not None else v
                          for name, v in zip(names[1 if ids else 0:], values, strict=True)]
            copy.write_row(([new[n]] if ids else []) + values)
    return new


class Statistics:
    """Keeps the planner's statistics of tables a long bulk write grows (PostgreSQL): ``ANALYZE`` of
    ``tables`` each time they have doubled since the last one (from 1,000 rows on), at most a few times
    per import. Without it, tables filled from empty (a region's first import; autovacuum is minutes
    behind, or off) keep the estimate of an empty table, and the per-chunk look-ups (the admission
    rule's anti-join, the registered IINs) chose plans that read everything written so far: each chunk
    slower than the last (100,000 workers: 149 s, docs/performance.md). ``check`` is called between
    chunks, outside their SAVEPOINTs."""

    def __init__(self, *tables: str, first: int = 1_000):
        self.tables, self.next_at, self.written = tables, first, 0

    def check(self, written: int) -> bool:
        """Note ``written`` more rows; ANALYZE when the total has reached the next threshold."""
        self.written += written
        if self.written < self.next_at or not _postgres():
            return False
        db.session.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in self.tables)))
        self.next_at = self.written * 2
        return True


__all__ = ["Statistics", "insert_rows", "new_ids"]
