"""The slow paths of issue 19 (item 5), each printed against its target (part of ``python -m bench all``):

* surname-prefix search and the certificate-status filter ("expiring") of the workers list, as the
  ministry (the whole country): p95 within 3x of the unfiltered list's p95, measured in the same rounds;
* the whole-country data-currency ranking (the ministry's currency page: every organization and the
  region ranking) under 1 s;
* the monthly report of the previous month for the whole country under 2 s cold (the first computation
  in a fresh process: no Python cache warm; PostgreSQL's buffers are whatever the machine has);
* the association's national CPD export as a background job (``admin/exporting.run_export``, what the
  RQ worker runs) at >= 1/3 of the rows per second of a ``COPY`` of the CPD records it reads.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from .common import ROOT, adder
from .web import _cert_filter, login, make_app, rounds_ms, sample_ids

_COLD_REPORT = r"""
import json, sys, time
from profreg import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "REQUEST_LOG": False})
with app.app_context():
    from profreg.monitoring.services import Scope, compute_report, previous_period
    from profreg.analytics.currency import organization_currency, region_ranking
    period = previous_period()
    t0 = time.perf_counter(); compute_report(period, Scope()); cold = time.perf_counter() - t0
    t0 = time.perf_counter(); rows = organization_currency(Scope(), 12); region_ranking(rows)
    currency_cold = time.perf_counter() - t0
    t0 = time.perf_counter(); rows = organization_currency(Scope(), 12); region_ranking(rows)
    currency_warm = time.perf_counter() - t0
print(json.dumps({"period": period, "report_cold": cold, "currency_cold": currency_cold,
                  "currency_warm": currency_warm, "organizations": len(rows)}))
"""

COPY_CPD = ("COPY (SELECT c.id, w.iin, w.surname, w.name, c.provider, c.topic, c.start_date, c.end_date, c.hours, "
            "c.credits, c.certificate_number FROM cpd_record c JOIN worker w ON w.id = c.worker_id "
            "WHERE c.superseded_by_id IS NULL AND c.annulled_at IS NULL ORDER BY c.id) TO STDOUT WITH (FORMAT csv)")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _copy_rows_per_s(url: str) -> tuple[float, int]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rows = 0
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(COPY_CPD) as cp:
        for chunk in cp:
            rows += bytes(chunk).count(b"\n")
    return rows / (time.perf_counter() - t0), rows


def run(table=None, url: str | None = None, workers: int | None = None, requests: int = 30) -> dict:
    add = adder(table)

    figures = {}
    app = make_app(url, REQUEST_LOG=False)
    client = login(app, "ministry@profreg.kz")
    _wid, _iin, surname = sample_ids(url)
    pages = {"list": (client, "/admin/workers/"),
             "surname": (client, f"/admin/workers/?search={surname[:4]}"),
             "expiring": (client, "/admin/workers/?" + _cert_filter(app))}
    m = rounds_ms(pages, requests)
    figures.update(m)
    base = m["list"][1]
    add("slow path: workers list, ministry (reference)", f"{m['list'][0]:.1f} / {base:.1f} ms", "median / p95")
    for key, label in (("surname", "surname-prefix search"), ("expiring", "certificate filter 'expiring'")):
        ratio = m[key][1] / base
        add(f"slow path: {label}, ministry", f"{m[key][0]:.1f} / {m[key][1]:.1f} ms",
            f"p95 / list p95 {ratio:.2f}x (target <= 3x: {_verdict(ratio <= 3)})")

    proc = subprocess.run([sys.executable, "-c", _COLD_REPORT, url], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        add("slow path: monthly report / data currency", "FAILED", proc.stderr[-300:].replace("\n", " "))
    else:
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        figures.update(res)
        add(f"slow path: monthly report {res['period']}, country, cold", f"{res['report_cold']:.2f} s",
            f"first computation in a fresh process (target < 2 s: {_verdict(res['report_cold'] < 2)})")
        add(f"slow path: data-currency ranking, country ({res['organizations']:,} organizations)",
            f"{res['currency_cold']:.2f} s", f"cold; warm {res['currency_warm']:.2f} s "
            f"(target < 1 s: {_verdict(res['currency_cold'] < 1)})")

    from .list_export import run as run_export

    copy_rps, copy_rows = _copy_rows_per_s(url)
    res = run_export(workers or 0, "csv", url, endpoint="cpd", email="association@profreg.kz",
                     title="Professional development", quiet=True)
    rps = res["rows"] / res["seconds"] if res["seconds"] else 0.0
    ratio = rps / copy_rps if copy_rps else 0.0
    figures.update(cpd_export_s=res["seconds"], cpd_rows=res["rows"], cpd_ratio=ratio)
    add("slow path: COPY of every CPD record (ceiling)", f"{copy_rps:,.0f} rows/s", f"{copy_rows:,} rows")
    add(f"slow path: association CPD export, background job ({res['rows']:,} rows, csv)", f"{res['seconds']:.1f} s",
        f"{rps:,.0f} rows/s = {ratio:.2f} of COPY (target >= 0.33: {_verdict(ratio >= 1 / 3)}); "
        f"peak RSS {res['peak_rss_mb']:.0f} MB")
    return figures
