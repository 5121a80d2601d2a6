"""The token API and FHIR at national scale (issue 17, item 5), side by side with the bare indexed query.

* **floor** — ``/bench/api-floor?iin=…``: the one indexed lookup of a worker by IIN returned as JSON by a
  bare Flask route of the same app (no token, no scope): what any JSON answer about one worker costs.
* **admission** — ``GET /api/v1/admission?iin=…&specialty=…&on=…`` with an ``integration`` token (the
  medical information system's call) and with a ministry token.
* **FHIR identifier search** — ``GET /fhir/Practitioner?identifier=<system>|<iin>`` with the same tokens.
  Each request asks for another worker (a ring of IINs), so no answer is served from a warm row.
* **$export** — every Practitioner as the ``integration`` account, written by the real job code
  (``fhir_export.run``) in a child process (time and peak RSS), against ``COPY`` of the same rows: the
  worker columns the resources carry plus each worker's certificates and education documents in force.

Targets: admission and identifier search p95 ≤ 3× the floor's p95; ``$export`` ≥ 1/3 of COPY throughput.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from .common import adder, stats

ROOT = Path(__file__).resolve().parent.parent
IIN_SYSTEM = "https://profreg.kz/fhir/sid/iin"
RATELIMIT_REDIS = "redis://127.0.0.1:6379/14"

FLOOR_SQL = text("SELECT id, iin, surname, name, patronymic, sex, birth_date, status FROM worker WHERE iin = :iin")

#: The rows a Practitioner export carries, as PostgreSQL copies them: the person, then each of his
#: certificates and education documents in force (with the names of their codes).
COPY_SQL = """
COPY (
  SELECT w.id, w.iin, w.surname, w.name, w.patronymic, w.sex, w.birth_date,
         greatest(w.updated_at, w.confirmed_at), w.annulled_at,
         NULL::text, NULL::text, NULL::date, NULL::date, NULL::text
    FROM worker w WHERE w.annulled_at IS NULL
  UNION ALL
  SELECT c.worker_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         c.number, s.code || ' ' || s.name_ru, c.issue_date, c.valid_until, c.issuer
    FROM certificate c JOIN specialty s ON s.id = c.specialty_id
   WHERE c.annulled_at IS NULL AND c.superseded_by_id IS NULL
  UNION ALL
  SELECT d.worker_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         coalesce(d.series, '') || d.number, l.code || ' ' || l.name_ru, d.issue_date, NULL, i.name
    FROM education_document d LEFT JOIN education_level l ON l.id = d.level_id
         LEFT JOIN education_institution i ON i.id = d.institution_id
   WHERE d.annulled_at IS NULL AND d.superseded_by_id IS NULL
) TO STDOUT WITH (FORMAT csv)
"""

_CHILD = r"""
import json, resource, sys, time
from profreg import create_app
from profreg.extensions import db
url, user_email = sys.argv[1:3]
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EXPORT_FOLDER": sys.argv[3]})
with app.app_context():
    from sqlalchemy import select
    from profreg.api import fhir_export
    from profreg.auth.models import User
    from profreg.uow import unit_of_work
    user = db.session.execute(select(User).where(User.email == user_email)).scalar_one()
    with unit_of_work():
        group = fhir_export.start(user, ["Practitioner"], "ru")
    t0 = time.perf_counter()
    n = fhir_export.run(group)
    seconds = time.perf_counter() - t0
    path = fhir_export.files(group)[0].path
print(json.dumps({"rows": n, "seconds": seconds, "path": path,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _ensure_users(app):
    """An ``integration`` service account and tokens for it and for the demo ministry user."""
    from sqlalchemy import select

    from profreg.api.services import create_token
    from profreg.auth.models import User
    from profreg.auth.services import create_user
    from profreg.demo.generator import DEMO_PASSWORD
    from profreg.extensions import db
    from profreg.uow import unit_of_work

    with app.app_context(), unit_of_work():
        mis = db.session.execute(select(User).where(User.email == "bench-mis@profreg.kz")).scalar_one_or_none()
        if mis is None:
            mis = create_user("bench-mis@profreg.kz", "integration", DEMO_PASSWORD, must_change=False)
        ministry = db.session.execute(select(User).where(User.email == "ministry@profreg.kz")).scalar_one()
        tokens = {"integration": create_token(mis, "bench")[1], "ministry": create_token(ministry, "bench")[1]}
    return tokens


def _samples(url: str, n: int):
    """``n`` (IIN, specialty code) pairs of workers with a certificate, spread over the register."""
    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(text(
            "SELECT w.iin, s.code FROM worker w JOIN certificate c ON c.worker_id = w.id "
            "JOIN specialty s ON s.id = c.specialty_id WHERE w.annulled_at IS NULL "
            "ORDER BY md5(w.iin) LIMIT :n"), {"n": n}).all()
    eng.dispose()
    return [(r.iin, r.code) for r in rows]


def _time_rings(client, pages: dict, n: int, rounds: int = 5) -> dict:
    """(median, p95) per page. ``pages``: name -> (urls, headers). Each round times every page in its own
    block of ``n`` requests (each asking for the next worker of its ring), so the drift of a shared
    machine's speed spreads over all pages alike instead of favouring the one measured first."""
    import gc

    samples = {name: [] for name in pages}
    for urls, headers in pages.values():
        for u in urls[:5]:
            client.get(u, headers=headers).get_data()
    for r in range(rounds):
        for name, (urls, headers) in pages.items():
            gc.collect()
            for i in range(n):
                u = urls[(r * n + i) % len(urls)]
                t0 = time.perf_counter()
                resp = client.get(u, headers=headers)
                resp.get_data()
                samples[name].append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    raise RuntimeError(f"GET {u} -> {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return {name: stats(v) for name, v in samples.items()}


def _copy(url: str, out: str) -> tuple[float, int]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    t0 = time.perf_counter()
    size = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, "wb") as fh:
        with cur.copy(COPY_SQL) as cp:
            for chunk in cp:
                size += len(chunk)
                fh.write(chunk)
    return time.perf_counter() - t0, size


def run(table=None, url: str | None = None, workers: int | None = None, requests: int = 50) -> dict:
    from flask import jsonify

    from profreg.extensions import db

    from .web import make_app

    add = adder(table)

    # The API's per-token limits count in Redis, as in production (the memory storage of the demo
    # takes a lock per request that production does not have).
    app = make_app(url, RATELIMIT_STORAGE_URI=RATELIMIT_REDIS, REQUEST_LOG=False)

    @app.route("/bench/api-floor")
    def bench_api_floor():
        from flask import request

        row = db.session.execute(FLOOR_SQL, {"iin": request.args["iin"]}).one()
        return jsonify({"id": row.id, "iin": row.iin, "surname": row.surname, "name": row.name,
                        "sex": row.sex, "birth_date": row.birth_date.isoformat(), "status": row.status})

    tokens = _ensure_users(app)
    pairs = _samples(url, max(requests * 3, 200))
    on = time.strftime("%Y-%m-%d")
    client = app.test_client()
    figures = {}
    pages = {"floor": ([f"/bench/api-floor?iin={iin}" for iin, _ in pairs], {})}
    for who, token in tokens.items():
        h = {"Authorization": f"Bearer {token}", "Accept-Language": "ru"}
        pages[f"admission_{who}"] = ([f"/api/v1/admission?iin={iin}&specialty={spec}&on={on}" for iin, spec in pairs], h)
        pages[f"fhir_{who}"] = ([f"/fhir/Practitioner?identifier={IIN_SYSTEM}|{iin}" for iin, _ in pairs], h)
    measured = _time_rings(client, pages, max(requests // 5, 10))
    figures.update(measured)
    floor = measured["floor"]
    add("api floor (1 indexed lookup by IIN, JSON)", f"{floor[0]:.1f} / {floor[1]:.1f} ms", "median / p95")
    for who in tokens:
        for label, key in (("admission check", f"admission_{who}"), ("FHIR Practitioner?identifier=", f"fhir_{who}")):
            m = measured[key]
            ratio = m[1] / floor[1]
            add(f"{label} as {who}", f"{m[0]:.1f} / {m[1]:.1f} ms",
                f"p95 / floor {ratio:.2f}x (target <= 3x: {'met' if ratio <= 3 else 'NOT met'})")

    with tempfile.TemporaryDirectory() as tmp:
        copy_s, copy_bytes = _copy(url, str(Path(tmp) / "copy.csv"))
        add("COPY of the rows a Practitioner export carries", f"{copy_s:.2f} s", f"{copy_bytes / 1e6:.0f} MB csv")
        proc = subprocess.run([sys.executable, "-c", _CHILD, url, "bench-mis@profreg.kz", tmp], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            add("$export Practitioner", "failed", proc.stderr[-300:])
            return figures
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        size = Path(res["path"]).stat().st_size
        ratio = copy_s / res["seconds"]
        figures.update(export=res["seconds"], copy=copy_s, export_ratio=ratio)
        add(f"$export Practitioner ({res['rows']:,} resources, NDJSON)", f"{res['seconds']:.2f} s",
            f"{size / 1e6:.0f} MB, peak RSS {res['maxrss_mb']:.0f} MB; {ratio:.2f} of COPY throughput "
            f"(target >= 0.33: {'met' if ratio >= 1 / 3 else 'NOT met'})")
    return figures
