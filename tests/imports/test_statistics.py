"""The bulk import keeps the planner's statistics of the tables it fills (``bulk.Statistics``): an
``ANALYZE`` each time they have doubled, so that the per-chunk look-ups of a first import into empty
tables keep their index plans (docs/performance.md, bulk import)."""
from __future__ import annotations

from sqlalchemy import text

from profreg.bulk import Statistics


def _reltuples(db, table: str) -> float:
    return db.session.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar()


def test_analyze_runs_each_time_the_written_rows_double_on_postgresql(db, factory):
    stats = Statistics("worker", first=3)
    postgres = db.engine.dialect.name == "postgresql"
    for _i in range(3):
        factory.worker()
    assert stats.check(2) is False  # 2 < 3
    assert stats.check(1) is postgres  # 3 reached: ANALYZE (PostgreSQL only; SQLite plans without it)
    if postgres:
        assert _reltuples(db, "worker") >= 3  # the planner now knows the rows written in this unit
        assert stats.next_at == 6
        assert stats.check(2) is False and stats.check(1) is True and stats.next_at == 12
