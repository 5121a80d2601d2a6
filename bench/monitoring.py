"""Monitoring benchmark: the monthly report for the whole country (target < 5 s on 300,000 workers on
PostgreSQL) and the xlsx exports of the report and of the forecast, each in a child process that
reports its own time and peak RSS (``ru_maxrss``; target: < 300 MB).

    python -c "from bench.monitoring import run; run()"        # dataset in DATABASE_URL
    python -m bench.monitoring [--period 2026-10] [--repeat 3]

``bench/__main__.py`` calls ``run(table=..., url=..., workers=...)``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import adder

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
from profreg import create_app
kind, url, arg, out = sys.argv[1:5]
app = create_app({"SQLALCHEMY_DATABASE_URI": url})
runner = app.test_cli_runner()
t0 = time.perf_counter()
opt = "--period" if kind == "monitoring" else "--quarter"
res = runner.invoke(args=["profreg", "export", kind, opt, arg, "--format", "xlsx", "--out", out, "--live"]
                    if kind == "monitoring" else
                    ["profreg", "export", kind, opt, arg, "--format", "xlsx", "--out", out])
elapsed = time.perf_counter() - t0
print(json.dumps({"ok": res.exit_code == 0, "out": res.output, "seconds": elapsed,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _url(url: str | None) -> str:
    url = url or os.environ.get("DATABASE_URL") or ""
    if not url:
        raise SystemExit("set DATABASE_URL to the benchmark database (PostgreSQL)")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def _child_export(kind: str, url: str, arg: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"{kind}.xlsx")
        proc = subprocess.run([sys.executable, "-c", _CHILD, kind, url, arg, out], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"ok": False, "out": proc.stderr[-2000:]}
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["size_kb"] = Path(out).stat().st_size / 1024 if Path(out).exists() else 0
        return result


def run(table=None, url: str | None = None, workers: int | None = None, period: str | None = None,
        repeat: int = 3) -> dict:
    """Time the country report (cold, then median of ``repeat`` warm runs) and the two xlsx exports."""
    url = _url(url)

    add = adder(table)

    from profreg import create_app
    from profreg.analytics.forecast import compute_forecast, next_quarter
    from profreg.extensions import db
    from profreg.monitoring.services import Scope, compute_report, previous_period

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    figures: dict = {}
    with app.app_context():
        n = db.session.execute(db.text("SELECT count(*) FROM worker")).scalar()
        period = period or previous_period()
        quarter = next_quarter().label
        label = f"{(workers or n) // 1000}k"
        times = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            rep = compute_report(period, Scope())
            times.append(time.perf_counter() - t0)
            db.session.rollback()
        figures["report_cold_s"], figures["report_warm_s"] = times[0], statistics.median(times[1:])
        add(f"monthly report {period}, whole country ({label}), cold", f"{times[0]:.2f} s", "target < 5 s")
        add(f"monthly report {period}, whole country ({label}), warm median", f"{figures['report_warm_s']:.2f} s",
            f"{repeat} runs; headcount {rep['recordkeeping']['totals']['headcount']:,}")
        t0 = time.perf_counter()
        fc = compute_forecast(quarter, Scope())
        figures["forecast_s"] = time.perf_counter() - t0
        db.session.rollback()
        add(f"quarterly forecast from {quarter}, whole country", f"{figures['forecast_s']:.2f} s",
            f"{len(fc['cells'])} region x specialty cells")
    for kind, arg in (("monitoring", period), ("forecast", quarter)):
        res = _child_export(kind, url, arg)
        if not res.get("ok"):
            add(f"xlsx export {kind}", "FAILED", res.get("out", "")[-200:].replace("\n", " "))
            continue
        figures[f"{kind}_xlsx_s"], figures[f"{kind}_xlsx_rss_mb"] = res["seconds"], res["maxrss_mb"]
        add(f"xlsx export {kind} (child process), time", f"{res['seconds']:.2f} s", f"{res['size_kb']:.0f} KiB file")
        add(f"xlsx export {kind} (child process), peak RSS", f"{res['maxrss_mb']:.0f} MB", "target < 300 MB")
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.monitoring", description=__doc__.split("\n")[0])
    p.add_argument("--period", help="YYYY-MM (default: the previous month)")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    run(period=a.period, repeat=a.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
