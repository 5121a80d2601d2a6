"""The rows of a worker's records (certificate, education and CPD sheets) waiting for their worker's
turn in an import, kept in a temporary SQLite file instead of memory: a national file's 200,000 such
rows held some 80 MB in memory beside the workers sheet (docs/performance.md, bulk import). Rows keep
the file's order per worker. The file is written and read by this process only and deleted at close
(so ``pickle`` reads back nothing but our own tuples)."""
from __future__ import annotations

import os
import pickle  # nosec B403
import sqlite3
import tempfile
from collections.abc import Iterator

BATCH = 2_000


class Waiting:
    """``add(iin, packed)``; ``take(iins)`` → {iin: [packed, ...]} (removed); ``rest(n)`` → the remaining
    groups, ``n`` IINs at a time, in IIN order. ``packed`` is any picklable tuple."""

    def __init__(self, folder: str | None = None):
        fd, self.path = tempfile.mkstemp(prefix="profreg-import-", suffix=".sqlite3", dir=folder)
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE waiting (n INTEGER PRIMARY KEY, iin TEXT NOT NULL, row BLOB NOT NULL)")
        self._batch: list[tuple[str, bytes]] = []
        self.count = 0
        self._indexed = False

    def add(self, iin: str, packed: tuple) -> None:
        self._batch.append((iin, pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)))
        self.count += 1
        if len(self._batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self.db.executemany("INSERT INTO waiting (iin, row) VALUES (?, ?)", self._batch)
            self._batch = []

    def _ready(self) -> None:
        self._flush()
        if not self._indexed:
            self.db.execute("CREATE INDEX ix_waiting_iin ON waiting (iin, n)")
            self._indexed = True

    def take(self, iins: list[str]) -> dict[str, list[tuple]]:
        """The waiting rows of ``iins`` (removed from the store), in the file's order."""
        if not self.count or not iins:
            return {}
        self._ready()
        out: dict[str, list[tuple]] = {}
        for start in range(0, len(iins), 900):  # SQLite's bound-parameter limit
            part = iins[start:start + 900]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT iin, row FROM waiting WHERE iin IN ({marks}) ORDER BY n", part).fetchall()
            if rows:
                self.db.execute(f"DELETE FROM waiting WHERE iin IN ({marks})", part)
            for iin, blob in rows:
                out.setdefault(iin, []).append(pickle.loads(blob))  # nosec B301
        self.count -= sum(len(v) for v in out.values())
        return out

    def rest(self, n: int) -> Iterator[list[tuple[str, list[tuple]]]]:
        """The rows no worker took, grouped by IIN, ``n`` IINs per list."""
        if not self.count:
            return
        self._ready()
        group: list[tuple[str, list[tuple]]] = []
        for iin, blob in self.db.execute("SELECT iin, row FROM waiting ORDER BY iin, n"):
            if not group or group[-1][0] != iin:
                if len(group) >= n:
                    yield group
                    group = []
                group.append((iin, []))
            group[-1][1].append(pickle.loads(blob))  # nosec B301
        if group:
            yield group

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
