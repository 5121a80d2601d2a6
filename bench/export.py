"""Streamed export of all workers (xlsx and csv, in a child process: time and peak RSS) against
PostgreSQL ``COPY ... TO STDOUT`` CSV of the same columns (the throughput ceiling)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import adder

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = "iin, surname, name, patronymic, sex, birth_date, status, registration_date"

_CHILD = r"""
import json, resource, sys, time
from profreg import create_app
fmt, url, out = sys.argv[1:4]
app = create_app({"SQLALCHEMY_DATABASE_URI": url})
t0 = time.perf_counter()
res = app.test_cli_runner().invoke(args=["profreg", "export", "workers", "--format", fmt, "--out", out])
print(json.dumps({"ok": res.exit_code == 0, "out": res.output[-500:], "seconds": time.perf_counter() - t0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(fmt: str, url: str, out: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, fmt, url, out], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        return {"ok": False, "out": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # seconds: the export itself, app start excluded


def _copy(url: str, out: str) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, "wb") as fh:
        with cur.copy(f"COPY (SELECT {COLUMNS} FROM worker ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)") as cp:
            for chunk in cp:
                fh.write(chunk)
    return time.perf_counter() - t0


def run(table=None, url: str | None = None, workers: int | None = None) -> dict:
    add = adder(table)

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy_s = _copy(url, str(Path(tmp) / "copy.csv"))
        figures["copy"] = copy_s
        add("export: PostgreSQL COPY csv (ceiling)", f"{copy_s:.2f} s")
        for fmt in ("csv", "xlsx"):
            out = str(Path(tmp) / f"workers.{fmt}")
            r = _child(fmt, url, out)
            figures[fmt] = r
            if not r.get("ok"):
                add(f"export: workers {fmt}", "FAILED", r.get("out", "")[-200:].replace("\n", " "))
                continue
            size = Path(out).stat().st_size / 1e6
            add(f"export: workers {fmt}, streamed (child process)", f"{r['seconds']:.1f} s",
                f"peak RSS {r['maxrss_mb']:.0f} MB, {size:.1f} MB file, "
                f"throughput {copy_s / r['seconds']:.2f} of COPY (target >= 0.33 for xlsx)")
    return figures
