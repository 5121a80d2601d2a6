"""``python -m bench import --rows 100000``: the bulk import of a workers workbook (workers, certificates
and education sheets, one row each per worker) on PostgreSQL, dry run and import, each in a child process
(time and peak RSS), against a plain ``COPY`` of the same rows into the same tables (worker, employment,
certificate, education_document) in a twin database: the throughput ceiling. Prints the ratio."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from .common import PG_BASE, ROOT

EMAIL = "hr@bench-import.kz"
#: The two databases the benchmark (re)creates: set ``BENCH_IMPORT_DB`` so that parallel runs do not collide.
DB_NAME = os.environ.get("BENCH_IMPORT_DB", "profreg_bench_import")

_SETUP = r"""
import sys
from profreg import create_app
from profreg.extensions import db
url = sys.argv[1]
app = create_app({"SQLALCHEMY_DATABASE_URI": url})
with app.app_context():
    db.create_all()
    from profreg.reference.services import load_reference
    from profreg.reference.models import AdminUnit, Country
    from profreg.orgs.models import Organization
    from profreg.education.models import EducationInstitution
    from profreg.auth.services import create_user
    load_reference()
    unit = db.session.query(AdminUnit).filter_by(code="710000000").one()
    org = Organization(bin="150440000019", name_kk="Бенч", name_ru="Бенч", name_en="Bench", unit=unit, region=unit)
    db.session.add(org)
    db.session.add(EducationInstitution(name="Медицинский колледж Астана",
                                        country=db.session.query(Country).filter_by(code="KZ").one()))
    db.session.flush()
    create_user(sys.argv[2], "hr", "Bench-import-1", organization=org, must_change=False)
    db.session.commit()
    print(org.bin)
"""

_CHILD = r"""
import json, resource, sys, time
from profreg import create_app
url, path, report, *extra = sys.argv[1:]
app = create_app({"SQLALCHEMY_DATABASE_URI": url})
t0 = time.perf_counter()
res = app.test_cli_runner().invoke(args=["profreg", "import", "run", path, "--as", "%s", "--report", report, *extra])
print(json.dumps({"code": res.exit_code, "out": res.output[-400:], "seconds": time.perf_counter() - t0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""" % EMAIL


def _fresh(name: str) -> str:
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{PG_BASE}/{name}"
    proc = subprocess.run([sys.executable, "-c", _SETUP, url, EMAIL], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return url, proc.stdout.strip().splitlines()[-1]


def rows(n: int, org_bin: str):
    """The same synthetic workers for the file and for COPY: (worker, certificate, diploma) dicts."""
    from profreg.identity import make_iin

    serial = 0
    today = date(2026, 11, 25)
    for i in range(n):
        sex = "F" if i % 3 else "M"
        birth = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        iin = None
        while iin is None:
            serial += 1
            iin = make_iin(birth, sex, serial)
        physician = i % 2 == 0
        yield ({"iin": iin, "surname": f"Импортова{i}", "name": "Айгүл", "sex": sex, "birth_date": birth,
                "birth_place": "г. Алматы", "citizenship": "KZ", "id_doc_type": "ID_CARD",
                "id_doc_number": f"{10_000_000 + i}", "id_doc_issuer": "МВД РК", "id_doc_issued_on": date(2020, 1, 1),
                "residence": "Астана", "registration_place": "Астана", "registration_date": date(2019, 9, 1),
                "org_bin": org_bin, "position": "DOCTOR" if physician else "NURSE",
                "specialty": "THERAPY" if physician else "NURSING", "hired_on": date(2024, 1, 10), "fte": 1},
               {"iin": iin, "number": f"KZ-B-{i:08d}", "specialty": "THERAPY" if physician else "NURSING",
                "issuer": "НЦНЭ", "issued_on": date(2022, 2, 1), "valid_until": today + timedelta(days=900)},
               {"iin": iin, "kind": "general", "level": "BACHELOR" if physician else "TVET",
                "institution": "Медицинский колледж Астана", "number": f"{1_000_000 + i}",
                "issued_on": date(2010, 6, 30)})


def write_file(path: Path, n: int, org_bin: str) -> None:
    """The workbook (text cells, date cells dd.mm.yyyy, number cells), written by the streaming writer."""
    from profreg.exports import Sheet, write_plain_xlsx

    def sheet_rows(i):
        return (list(triple[i].values()) for triple in rows(n, org_bin))

    first = next(rows(1, org_bin))
    write_plain_xlsx(path, [Sheet(title=name, headers=list(first[i]), rows=sheet_rows(i))
                            for i, name in enumerate(("workers", "certificates", "education"))])


def _child(url, path, report, *extra) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, url, str(path), str(report), *extra], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"code": proc.returncode, "out": proc.stderr[-1500:], "seconds": 0, "maxrss_mb": 0}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def copy_baseline(url: str, n: int, org_bin: str) -> float:
    """COPY the same rows into worker, employment, certificate and education_document (ids resolved in
    Python beforehand: only the COPY is timed)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        ids = {}
        for table in ("country", "identity_document_type", "position", "specialty", "education_level"):
            ids[table] = dict(conn.execute(f"SELECT code, id FROM {table}").fetchall())
        org_id, region_id = conn.execute("SELECT id, region_id FROM organization WHERE bin = %s", (org_bin,)).fetchone()
        inst = conn.execute("SELECT id FROM education_institution LIMIT 1").fetchone()[0]
        start = (conn.execute("SELECT coalesce(max(id), 0) FROM worker").fetchone()[0] or 0) + 1
        buffers = {t: io.StringIO() for t in ("worker", "employment", "certificate", "education_document")}
        now = "2026-11-25 12:00:00"
        for i, (w, c, e) in enumerate(rows(n, org_bin)):
            wid = start + i
            buffers["worker"].write("\t".join(map(str, (
                wid, w["iin"], w["surname"], w["name"], w["surname"].casefold(), w["surname"], w["sex"], w["birth_date"],
                w["birth_place"], ids["country"]["KZ"], ids["identity_document_type"]["ID_CARD"], w["id_doc_number"],
                w["id_doc_issuer"], w["id_doc_issued_on"], w["residence"], w["registration_place"],
                w["registration_date"], "active", now, now, 1))) + "\n")
            buffers["employment"].write("\t".join(map(str, (
                wid, org_id, region_id, w["surname"], ids["position"][w["position"]], ids["specialty"][w["specialty"]],
                "1.00", w["hired_on"], now, "f", "t"))) + "\n")
            buffers["certificate"].write("\t".join(map(str, (
                wid, c["number"], ids["specialty"][c["specialty"]], c["issuer"], c["issued_on"], c["valid_until"], now,
                now, org_id))) + "\n")
            buffers["education_document"].write("\t".join(map(str, (
                wid, e["kind"], ids["education_level"][e["level"]], inst, e["number"], e["issued_on"], now,
                org_id))) + "\n")
        columns = {
            "worker": "id, iin, surname, name, surname_folded, surname_key, sex, birth_date, birth_place, citizenship_id, "
                      "id_doc_type_id, id_doc_number, id_doc_issuer, id_doc_issued, residence_address, "
                      "registration_place, registration_date, status, created_at, updated_at, version",
            "employment": "worker_id, organization_id, region_id, worker_surname_key, position_id, specialty_id, fte, "
                          "hire_date, entered_at, concurrent, is_main",
            "certificate": "worker_id, number, specialty_id, issuer, issue_date, valid_until, created_at, entered_at, "
                           "entered_by_organization_id",
            "education_document": "worker_id, kind, level_id, institution_id, number, issue_date, entered_at, "
                                  "entered_by_organization_id",
        }
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for table, buf in buffers.items():
                with cur.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as cp:
                    cp.write(buf.getvalue())
        conn.commit()
        return time.perf_counter() - t0


def run(rows_n: int) -> int:
    print(f"bulk import benchmark: {rows_n:,} workers (+ as many certificate and education rows), PostgreSQL",
          flush=True)
    url, org_bin = _fresh(DB_NAME)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workers.xlsx"
        t0 = time.perf_counter()
        write_file(path, rows_n, org_bin)
        print(f"{'file written':<40} {time.perf_counter() - t0:>9.1f} s  {path.stat().st_size / 1e6:.1f} MB", flush=True)
        dry = _child(url, path, Path(tmp) / "dry.xlsx", "--dry-run")
        print(f"{'dry run':<40} {dry['seconds']:>9.1f} s  peak RSS {dry['maxrss_mb']:.0f} MB  exit {dry['code']}",
              flush=True)
        real = _child(url, path, Path(tmp) / "real.xlsx")
        print(f"{'import':<40} {real['seconds']:>9.1f} s  peak RSS {real['maxrss_mb']:.0f} MB  exit {real['code']}",
              flush=True)
        if real["code"] != 0:
            print(real["out"])
        twin, _bin = _fresh(f"{DB_NAME}_copy")
        copy_s = copy_baseline(twin, rows_n, org_bin)
        print(f"{'COPY of the same rows (ceiling)':<40} {copy_s:>9.2f} s", flush=True)
        if real["seconds"]:
            ratio = copy_s / real["seconds"]
            print(f"{'import throughput / COPY throughput':<40} {ratio:>9.4f}  (1/{1 / ratio:.0f}; target >= 1/10)")
            print(f"{'dry run time / import time':<40} {dry['seconds'] / real['seconds']:>9.2f}  (target <= 1)")
        print(f"{'rows per second (import)':<40} {rows_n / max(real['seconds'], 1e-9):>9.0f}")
    return 0
