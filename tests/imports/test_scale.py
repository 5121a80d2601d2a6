"""What keeps a national import fast and small: the planner's statistics of the tables it fills
(``bulk.Statistics``: an ``ANALYZE`` each time they have doubled, so that the per-chunk look-ups keep their
index plans) and the records waiting for their worker on disk (``imports.waiting``)."""
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


def test_records_wait_for_their_worker_on_disk_in_the_files_order(tmp_path):
    """``imports.waiting.Waiting``: the certificate/education/CPD rows of a worker, kept out of memory
    until the worker's chunk takes them (in the file's order), the rest grouped by IIN afterwards."""
    from datetime import date
    from pathlib import Path

    from profreg.imports.waiting import Waiting

    w = Waiting(str(tmp_path))
    rows = [("870412400711", (0, "certificates", 2, ("KZ-1", date(2026, 1, 5)))),
            ("990101300123", (1, "education", 2, ("D-1", None))),
            ("870412400711", (1, "education", 3, ("D-2", 1.5))),
            ("770101300456", (0, "certificates", 3, ("KZ-2", True)))]
    for iin, packed in rows:
        w.add(iin, packed)
    assert w.take(["870412400711", "000000000000"]) == {"870412400711": [rows[0][1], rows[2][1]]}
    assert w.take(["870412400711"]) == {}  # taken once
    assert list(w.rest(1)) == [[("770101300456", [rows[3][1]])], [("990101300123", [rows[1][1]])]]
    path = w.path
    w.close()
    assert not Path(path).exists()
