"""Dataset building and timing helpers shared by the benchmarks."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def db_url(workers: int) -> str:
    return f"{PG_BASE}/profreg_bench_{workers}"


def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PROFREG_CONFIG": "default"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)


def worker_count(url: str) -> int | None:
    try:
        eng = create_engine(url)
        with eng.connect() as c:
            n = c.execute(text("SELECT count(*) FROM worker")).scalar()
        eng.dispose()
        return n
    except Exception:
        return None


def ensure_dataset(workers: int, seed: int = 1, rebuild: bool = False) -> tuple[str, float | None]:
    """Reuse the demo dataset of this size or build it; returns (url, generation seconds or None)."""
    url = db_url(workers)
    if not rebuild and worker_count(url) == workers:
        _flask(url, "db", "upgrade")  # bring an older dataset to the current schema
        vacuum(url)  # an earlier run's sweep changed rows; this machine runs no autovacuum
        return url, None
    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _flask(url, "db", "upgrade")
    t0 = time.perf_counter()
    _flask(url, "profreg", "demo", "--workers", str(workers), "--seed", str(seed))
    elapsed = time.perf_counter() - t0
    return url, elapsed


def vacuum(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would have done on a production server (it is off here)."""
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text("VACUUM ANALYZE"))
    eng.dispose()


def stats(samples_ms: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    s = sorted(samples_ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return statistics.median(s), p95


def timed(fn, n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


class Table:
    """Collects result rows and prints them aligned."""

    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def add(self, name: str, value: str, note: str = ""):
        self.rows.append((name, value, note))
        print(f"  {name:<58} {value:>22}  {note}", flush=True)

    def print(self):
        print("\n" + "=" * 110)
        for name, value, note in self.rows:
            print(f"{name:<58} {value:>22}  {note}")
        print("=" * 110)


def adder(table: Table | None):
    """``add(name, value, note)`` of a benchmark module: into ``table`` (``python -m bench``), or printed
    aligned when the module runs alone."""
    if table is not None:
        return table.add

    def add(name: str, value: str, note: str = ""):
        print(f"{name:<58} {value:>22}  {note}", flush=True)

    return add

