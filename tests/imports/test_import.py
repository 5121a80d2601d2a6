"""Bulk import (issue 16): the acceptance tests of the issue, on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from profreg.certificates.models import Certificate
from profreg.education.models import EducationDocument
from profreg.imports.models import ImportRun
from profreg.workers.models import Employment, Worker
from tests.imports.conftest import report_rows
from tests.imports.workbook import BAD, CERT_KEYS, build, write_csv, write_xlsx


def _counts(db):
    return tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                 for m in (Worker, Employment, Certificate, EducationDocument))


#: A fragment of each bad row's reason, per language.
EXPECTED = {
    "en": {"bad_check_digit": "IIN has a wrong check digit", "birth_mismatch": "IIN does not match the date of birth",
           "unknown_position": "Position: unknown value “Космонавт”",
           "no_id_document": "Identity document: Required when a worker is registered",
           "physician_no_certificate": "No specialist certificate valid on"},
    "ru": {"bad_check_digit": "ИИН: неверная контрольная цифра", "birth_mismatch": "ИИН не соответствует дате рождения",
           "unknown_position": "Космонавт", "no_id_document": "Обязательно при регистрации работника",
           "physician_no_certificate": "Терапия"},
    "kk": {"bad_check_digit": "ЖСН: бақылау цифры қате", "birth_mismatch": "ЖСН туған күнге сәйкес келмейді",
           "unknown_position": "Космонавт", "no_id_document": "Қызметкерді тіркеу кезінде міндетті",
           "physician_no_certificate": "Терапия"},
}


def _world(factory, institution, n=50, bad=True):
    org = factory.org()
    hr = factory.user("hr", org=org)
    workers, certs, edu, bad_iins = build(n, org.bin, institution.name, bad=bad)
    return org, hr, workers, certs, edu, bad_iins


def test_fifty_workers_five_bad_rows_then_reimport_changes_nothing(db, factory, institution, run_import, tmp_path,
                                                                   today):
    org, hr, workers, certs, edu, bad_iins = _world(factory, institution)
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    before = _counts(db)
    code, out = run_import(path, hr.email, tmp_path / "r1.xlsx", "--lang", "en")
    assert code == 1, out
    rows = report_rows(tmp_path / "r1.xlsx")
    rejected = {iin: reasons for iin, status, reasons in rows if status == "rejected"}
    assert set(rejected) == set(bad_iins.values())
    for kind, iin in bad_iins.items():
        assert EXPECTED["en"][kind] in rejected[iin], (kind, rejected[iin])
    assert [s for _i, s, _r in rows].count("create") == 45
    assert "workers: create 45, update 0, unchanged 0, rejected 5" in out
    after = _counts(db)
    assert after[0] - before[0] == 45 and after[1] - before[1] == 45 and after[3] - before[3] == 45
    assert after[2] - before[2] == 45  # the 4 bad rows with a certificate row do not write it either
    # the imported workers' certificate status is stored for the list filter (COPY fires no flush events)
    from profreg.workers.search import certificate_status_case

    stored = db.session.execute(select(Worker.cert_status, certificate_status_case(today), Worker.cert_status_on)
                                .where(Worker.iin.in_([w["iin"] for w in workers]))).all()
    assert len(stored) == 45 and all(s == live and on == today for s, live, on in stored), stored[:3]
    # re-import: everything unchanged, the same five rejected, no count moves
    code, out = run_import(path, hr.email, tmp_path / "r2.xlsx", "--lang", "en")
    assert code == 1
    rows2 = report_rows(tmp_path / "r2.xlsx")
    assert {i for i, s, _r in rows2 if s == "rejected"} == set(bad_iins.values())
    assert [s for _i, s, _r in rows2].count("unchanged") == 45
    assert "certificates: create 0, update 0, unchanged 45" in out
    assert _counts(db) == after
    runs = db.session.execute(select(ImportRun).order_by(ImportRun.id)).scalars().all()
    assert [(r.created, r.unchanged, r.rejected) for r in runs][-1][1] > 0
    assert runs[-1].sha256 == runs[-2].sha256 and len(runs[-1].sha256) == 64


def test_reasons_in_kazakh_and_russian(db, factory, institution, run_import, tmp_path, today):
    org, hr, workers, certs, edu, bad_iins = _world(factory, institution, n=6)
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    for lang in ("ru", "kk"):
        code, _out = run_import(path, hr.email, tmp_path / f"{lang}.xlsx", "--lang", lang, "--dry-run")
        assert code == 1
        word = {"ru": "отклонено", "kk": "қабылданбады"}[lang]
        rejected = {i: r for i, s, r in report_rows(tmp_path / f"{lang}.xlsx") if s == word}
        assert set(rejected) == set(bad_iins.values()), (lang, rejected)
        for kind, iin in bad_iins.items():
            assert EXPECTED[lang][kind] in rejected[iin], (lang, kind, rejected[iin])


def test_dry_run_and_atomic_write_nothing(db, factory, institution, run_import, tmp_path, today):
    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=12)
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    before = _counts(db)
    code, out = run_import(path, hr.email, tmp_path / "dry.xlsx", "--dry-run")
    assert code == 1 and "workers: create 7, update 0, unchanged 0, rejected 5" in out
    assert _counts(db) == before
    code, out = run_import(path, hr.email, tmp_path / "atomic.xlsx", "--atomic")
    assert code == 1 and _counts(db) == before
    # a clean file with --atomic is written
    good = tmp_path / "good.xlsx"
    write_xlsx(good, workers[5:], certs[4:], edu[5:])
    code, out = run_import(good, hr.email, tmp_path / "ok.xlsx", "--atomic")
    assert code == 0, out
    assert _counts(db)[0] == before[0] + 7


def test_hr_of_a_cannot_import_into_b(db, factory, institution, run_import, tmp_path, today):
    org_a, hr_a, workers, certs, edu, _bad = _world(factory, institution, n=3, bad=False)
    org_b = factory.org()
    workers[1]["org_bin"] = org_b.bin
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    code, _out = run_import(path, hr_a.email, tmp_path / "r.xlsx", "--lang", "en")
    assert code == 1
    rows = report_rows(tmp_path / "r.xlsx")
    assert [s for _i, s, _r in rows] == ["create", "rejected", "create"]
    assert f"The organization {org_b.bin} is outside your area of responsibility" in rows[1][2]
    assert db.session.execute(select(func.count()).select_from(Employment)
                              .where(Employment.organization_id == org_b.id)).scalar() == 0


def test_association_and_heads_cannot_import(db, factory, institution, run_import, tmp_path, today):
    org, _hr, workers, certs, edu, _bad = _world(factory, institution, n=2, bad=False)
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    for role in ("org_head", "association"):
        user = factory.user(role, org=org if role == "org_head" else None, specialties=("THERAPY",)
                            if role == "association" else ())
        code, out = run_import(path, user.email, tmp_path / "r.xlsx", "--lang", "en")
        assert code == 1 and "You are not allowed to do this." in out


def test_region_imports_into_its_region_only(db, factory, institution, run_import, tmp_path, today, ref):
    from profreg.reference.models import AdminUnit

    org_here = factory.org()
    org_there = factory.org(region="750000000")
    region = factory.user("region", region=ref(AdminUnit, "710000000"))
    workers, certs, edu, _bad = build(2, org_here.bin, institution.name, bad=False, start=300)
    workers[1]["org_bin"] = org_there.bin
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    code, _out = run_import(path, region.email, tmp_path / "r.xlsx", "--lang", "en")
    assert [s for _i, s, _r in report_rows(tmp_path / "r.xlsx")] == ["create", "rejected"]


def test_windows_1251_csv_imports_like_the_xlsx(db, factory, institution, run_import, tmp_path, today):
    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=6, bad=False)
    write_xlsx(tmp_path / "staff.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "staff.xlsx", hr.email, tmp_path / "r0.xlsx")[0] == 0
    renewals = [dict(c, number=c["number"] + "-R", issued_on="01.03.2025") for c in certs]
    ru_headers = {"iin": "ИИН", "number": "Номер сертификата", "specialty": "Специальность", "issuer": "Кем выдан",
                  "issued_on": "Дата выдачи", "valid_until": "Действителен до"}
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "certificates"
    wb.active.append([ru_headers[k] for k in CERT_KEYS])
    for c in renewals:
        wb.active.append([c[k] for k in CERT_KEYS])
    wb.save(tmp_path / "renew.xlsx")
    write_csv(tmp_path / "renew.csv", [{ru_headers[k]: c[k] for k in CERT_KEYS} for c in renewals],
              [ru_headers[k] for k in CERT_KEYS])
    assert (tmp_path / "renew.csv").read_bytes().decode("cp1251").startswith("ИИН;")
    code_x, out_x = run_import(tmp_path / "renew.xlsx", hr.email, tmp_path / "rx.xlsx", "--dry-run")
    code_c, out_c = run_import(tmp_path / "renew.csv", hr.email, tmp_path / "rc.xlsx", "--dry-run")
    assert code_x == code_c == 0
    assert "encoding cp1251, delimiter ';'" in out_c
    assert report_rows(tmp_path / "rx.xlsx", "certificates") == report_rows(tmp_path / "rc.xlsx", "renew")
    before = _counts(db)
    assert run_import(tmp_path / "renew.csv", hr.email, tmp_path / "rc2.xlsx")[0] == 0
    assert _counts(db)[2] == before[2] + 6


def test_a_saved_certificate_is_not_overwritten(db, factory, institution, run_import, tmp_path, today):
    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=2, bad=False)
    write_xlsx(tmp_path / "a.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "a.xlsx", hr.email, tmp_path / "r.xlsx")[0] == 0
    certs[0]["valid_until"] = "2040-01-01"
    write_xlsx(tmp_path / "b.xlsx", workers, certs, edu)
    code, out = run_import(tmp_path / "b.xlsx", hr.email, tmp_path / "r2.xlsx", "--lang", "en")
    assert code == 1
    rows = report_rows(tmp_path / "r2.xlsx", "certificates")
    assert rows[0][1] == "rejected" and "A saved record is not changed" in rows[0][2]
    assert report_rows(tmp_path / "r2.xlsx")[0][1] == "rejected"  # the worker's rows go together
    assert db.session.execute(select(Certificate.valid_until).where(
        Certificate.number == certs[0]["number"])).scalar().isoformat() != "2040-01-01"


def test_an_update_reports_the_changed_fields(db, factory, institution, run_import, tmp_path, today):
    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=2, bad=False)
    write_xlsx(tmp_path / "a.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "a.xlsx", hr.email, tmp_path / "r.xlsx")[0] == 0
    workers[0]["phone"], workers[0]["department"] = "+77770000000", "Хирургия"
    write_xlsx(tmp_path / "b.xlsx", workers, certs, edu)
    code, _out = run_import(tmp_path / "b.xlsx", hr.email, tmp_path / "r2.xlsx", "--lang", "en")
    assert code == 0
    rows = report_rows(tmp_path / "r2.xlsx")
    assert rows[0][1] == "update" and rows[0][2] == "Phone, Department" and rows[1][1] == "unchanged"
    w = db.session.execute(select(Worker).where(Worker.iin == workers[0]["iin"])).scalar_one()
    assert w.phone == "+77770000000" and w.employments[0].department == "Хирургия"


def test_the_audit_names_the_importer_and_the_file(db, factory, institution, run_import, tmp_path, today):
    from profreg.audit.models import AuditLog

    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=1, bad=False)
    write_xlsx(tmp_path / "staff.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "staff.xlsx", hr.email, tmp_path / "r.xlsx")[0] == 0
    run = db.session.execute(select(ImportRun)).scalar_one()
    entries = db.session.execute(select(AuditLog).where(AuditLog.table_name == "worker")).scalars().all()
    assert entries and all(e.user_id == hr.id and e.detail == f"import {run.sha256} staff.xlsx" for e in entries)
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "import")).scalar_one().user_id == hr.id


def test_bad_list_is_complete():
    assert len(BAD) == 5


def test_new_workers_take_the_bulk_path(db, factory, institution, run_import, tmp_path, today):
    """A first import of 40 workers reads the database a few times per chunk, not ~15 times per worker
    (the one-worker path): the admission rule is asked once per specialty, the scope once per organization.
    (How many INSERTs it takes depends on the driver: the ORM batches them on PostgreSQL.)"""
    from sqlalchemy import event

    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=40, bad=False)
    write_xlsx(tmp_path / "staff.xlsx", workers, certs, edu)
    statements = []
    engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement[:60])

    event.listen(engine, "before_cursor_execute", count)
    try:
        code, out = run_import(tmp_path / "staff.xlsx", hr.email, tmp_path / "r.xlsx")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert code == 0 and "workers: create 40" in out
    from collections import Counter

    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) < 40, Counter(reads).most_common(8)  # the one-worker path reads ~15 times per worker


def _cert_reasons(path):
    return {iin: (status, reasons) for iin, status, reasons in report_rows(path, "certificates")}


def test_a_certificate_number_on_two_workers_is_caught_by_the_dry_run_too(db, factory, institution, run_import,
                                                                         tmp_path, today):
    """Two workers of one file with the same certificate number: the second is rejected, in the dry run as
    in the import, in the same chunk (the bulk path) and across chunks; the first is created."""
    from profreg.imports import services

    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=6, bad=False)
    certs[3]["number"] = certs[1]["number"]
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    before = _counts(db)
    code, out = run_import(path, hr.email, tmp_path / "dry.xlsx", "--dry-run", "--lang", "en")
    assert code == 1 and "workers: create 5, update 0, unchanged 0, rejected 1" in out, out
    reasons = _cert_reasons(tmp_path / "dry.xlsx")
    assert reasons[certs[3]["iin"]][0] == "rejected"
    assert "This number is already registered" in reasons[certs[3]["iin"]][1]
    assert reasons[certs[1]["iin"]][0] == "create"
    assert _counts(db) == before
    code, out = run_import(path, hr.email, tmp_path / "real.xlsx", "--lang", "en")
    assert code == 1 and "workers: create 5, update 0, unchanged 0, rejected 1" in out, out
    assert _cert_reasons(tmp_path / "real.xlsx") == reasons
    assert _counts(db)[0] == before[0] + 5
    # across chunks: the one-worker path of a later chunk knows the number claimed by an earlier chunk
    org2 = factory.org()
    hr2 = factory.user("hr", org=org2)
    workers2, certs2, edu2, _bad = build(4, org2.bin, institution.name, bad=False, start=100)
    certs2[3]["number"] = certs2[0]["number"]
    path2 = tmp_path / "staff2.xlsx"
    write_xlsx(path2, workers2, certs2, edu2)
    chunk = services.CHUNK
    services.CHUNK = 2
    try:
        code, out = run_import(path2, hr2.email, tmp_path / "dry2.xlsx", "--dry-run", "--lang", "en")
    finally:
        services.CHUNK = chunk
    assert code == 1 and "workers: create 3, update 0, unchanged 0, rejected 1" in out, out
    assert _cert_reasons(tmp_path / "dry2.xlsx")[certs2[3]["iin"]][0] == "rejected"


def test_the_bulk_path_audits_every_record_as_the_listener_does(db, factory, institution, run_import, tmp_path,
                                                                 today):
    """The set-based audit entries of the bulk path: one 'create' entry per record (worker, episode,
    certificate, diploma) with the importer, the file's name and SHA-256, the record and worker ids, the
    organization and region, and the values written."""
    from profreg.audit.models import AuditLog

    org, hr, workers, certs, edu, _bad = _world(factory, institution, n=4, bad=False)
    write_xlsx(tmp_path / "staff.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "staff.xlsx", hr.email, tmp_path / "r.xlsx")[0] == 0
    run = db.session.execute(select(ImportRun)).scalar_one()
    entries = db.session.execute(select(AuditLog).where(AuditLog.action == "create",
                                                        AuditLog.detail.like("import %"))).scalars().all()
    by_table = {}
    for e in entries:
        by_table.setdefault(e.table_name, []).append(e)
    assert {t: len(v) for t, v in by_table.items()} == {"worker": 4, "employment": 4, "certificate": 4,
                                                         "education_document": 4}
    for e in entries:
        assert e.user_id == hr.id and e.detail == f"import {run.sha256} staff.xlsx"
        assert e.organization_id == org.id and e.region_id == org.region_id
        assert e.actor_organization_id == org.id and e.record_id is not None and e.worker_id is not None
    worker = db.session.execute(select(Worker).where(Worker.iin == workers[0]["iin"])).scalar_one()
    entry = next(e for e in by_table["worker"] if e.record_id == worker.id)
    assert entry.worker_id == worker.id
    assert entry.changes["iin"] == [None, worker.iin] and entry.changes["surname"] == [None, worker.surname]
    assert entry.changes["birth_date"] == [None, worker.birth_date.isoformat()]
    assert "version" not in entry.changes and "surname_folded" not in entry.changes
    episode = next(e for e in by_table["employment"] if e.worker_id == worker.id)
    assert episode.record_id == worker.employments[0].id
    assert episode.changes["organization_id"] == [None, org.id]
