"""Bulk import of staffing tables (issue 16, item 1): the ``staffing`` kind, on SQLite and PostgreSQL.

Who may import lines follows ``access.MATRIX`` (resource ``staffing``, C/E): ``hr_chief`` in its own
organization and the ``ministry`` in any (the issue's "staffing for heads/ministry": the head of the
personnel service, and the ministry loading a region's tables at rollout); ``hr`` and ``region`` import
workers but read staffing tables only; ``org_head`` neither imports nor writes them (issue 16.5)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from profreg.audit.models import AuditLog
from profreg.imports.columns import COLUMNS, STAFFING, kind_label, label
from profreg.imports.models import ImportRun
from profreg.imports.reader import open_book
from profreg.imports.services import CREATE, REJECTED, STATUS_LABELS, UNCHANGED
from profreg.imports.template import write_template
from profreg.orgs.models import StaffingPosition
from profreg.orgs.services import staffing_line_errors
from profreg.reference.models import AdminUnit, Position, Specialty
from tests.conftest import csrf_token, login, logout
from tests.imports.workbook import write_csv

KEYS = [c.key for c in COLUMNS[STAFFING]]


def write_staffing(path, rows, lang=None, sheet=None):
    """A staffing sheet: headers as canonical keys (``lang`` None) or the labels in ``lang``."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet or (kind_label(STAFFING, lang) if lang else STAFFING)
    ws.append([label(c, lang) + (" *" if c.required else "") if lang else c.key for c in COLUMNS[STAFFING]])
    for row in rows:
        ws.append([row.get(k) for k in KEYS])
    wb.save(path)


def outcomes(path):
    """[(status, reasons)] of the report's staffing sheet (its two last columns)."""
    wb = load_workbook(path, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return [(r[-2], r[-1] or "") for r in rows[1:]]


def lines(db, org=None):
    q = select(func.count()).select_from(StaffingPosition)
    if org is not None:
        q = q.where(StaffingPosition.organization_id == org.id)
    return db.session.execute(q).scalar()


def good_and_bad(own, other):
    """Four good rows (codes, names in kk/ru/en, every date form, no BIN = the default organization),
    then one bad row of each kind."""
    return [
        {"org_bin": own.bin, "position": "NURSE", "specialty": "NURSING", "department": "Терапия",
         "approved_fte": "2,5", "valid_from": "01.01.2026"},
        {"position": "Дәрігер", "specialty": "Internal medicine", "approved_fte": 3, "valid_from": "2026-01-01"},
        {"org_bin": own.bin, "position": "Врач", "department": "Хирургия", "approved_fte": "1.25",
         "valid_from": datetime(2026, 1, 1)},
        {"org_bin": own.bin, "position": "Midwife", "specialty": "мейіргер ісі", "approved_fte": 0,
         "valid_from": 46023},  # an Excel serial: 01.01.2026
        # the bad rows
        {"org_bin": own.bin, "position": "NURSE", "department": "Педиатрия", "approved_fte": "-1"},
        {"org_bin": own.bin, "position": "NURSE", "department": "Неврология", "approved_fte": "два"},
        {"org_bin": own.bin, "position": "Космонавт", "approved_fte": 1},
        {"org_bin": own.bin, "position": "NURSE", "specialty": "Астрология", "approved_fte": 1},
        {"org_bin": other.bin, "position": "NURSE", "approved_fte": 1},
        {"org_bin": own.bin, "position": "Медицинская сестра", "specialty": "Сестринское дело", "department": "Терапия",
         "approved_fte": "2,5", "valid_from": "01.01.2026"},  # the first row's line again
        {"org_bin": own.bin, "position": "NURSE", "department": "Приёмное", "approved_fte": "0,125"},
        {"org_bin": own.bin, "specialty": "NURSING", "approved_fte": 1},
    ]


#: A fragment of each bad row's reason, per language (rows 5-12 of ``good_and_bad``).
EXPECTED = {
    "en": ["Approved FTE: Enter a number that is not negative.", "Approved FTE: Not a number: два.",
           "Position: unknown value “Космонавт”", "Specialty: unknown value “Астрология”",
           "Organization BIN: The organization {other} is outside your area of responsibility.",
           "is on several rows of the sheet (first: row 2)", "Approved FTE: At most two decimal places.",
           "Position: Required."],
    "ru": ["Утверждённые штатные единицы: Введите неотрицательное число.", "Не число: два.", "Космонавт",
           "Астрология", "Организация {other} вне вашей зоны ответственности.", "(впервые: строка 2)",
           "Не более двух знаков после запятой.", "Должность: Обязательно."],
    "kk": ["Бекітілген штат бірліктері: Теріс емес сан енгізіңіз.", "Сан емес: два.", "Космонавт", "Астрология",
           "{other} ұйымы сіздің жауапкершілік аймағыңыздан тыс.", "(алғаш рет: 2-жол)",
           "Үтірден кейін екі таңбадан артық емес.", "Лауазымы:"],
}


@pytest.fixture
def staffing_world(db, factory, today):
    own, other = factory.org(), factory.org()
    return own, other, factory.user("hr_chief", org=own)


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_good_and_bad_rows_in_each_language_then_reimport_is_unchanged(db, staffing_world, run_import, tmp_path,
                                                                       lang, ref):
    own, other, chief = staffing_world
    path = tmp_path / f"staffing-{lang}.xlsx"
    write_staffing(path, good_and_bad(own, other), lang=lang)
    assert open_book(path).sheets[0].kind == STAFFING  # the localized sheet name, the localized headers
    code, out = run_import(path, chief.email, tmp_path / "r1.xlsx", "--lang", lang)
    assert code == 1, out
    assert "staffing: create 4, update 0, unchanged 0, rejected 8" in out
    with force_locale(lang):
        statuses = [str(STATUS_LABELS[s]) for s in (CREATE, UNCHANGED, REJECTED)]
    rows = outcomes(tmp_path / "r1.xlsx")
    assert [s for s, _r in rows] == [statuses[0]] * 4 + [statuses[2]] * 8, rows
    for (_status, reasons), expected in zip(rows[4:], EXPECTED[lang], strict=True):
        assert expected.format(other=other.bin) in reasons, (lang, expected, reasons)
    assert lines(db, own) == 4 and lines(db, other) == 0
    saved = db.session.execute(select(StaffingPosition).where(StaffingPosition.organization_id == own.id)
                               .order_by(StaffingPosition.id)).scalars().all()
    assert [(s.position.code, s.specialty.code if s.specialty else None, s.department, s.approved_fte,
             s.valid_from.isoformat()) for s in saved] == [
        ("NURSE", "NURSING", "Терапия", Decimal("2.5"), "2026-01-01"),
        ("DOCTOR", "THERAPY", None, Decimal("3"), "2026-01-01"),
        ("DOCTOR", None, "Хирургия", Decimal("1.25"), "2026-01-01"),
        ("MIDWIFE", "NURSING", None, Decimal("0"), "2026-01-01")]
    # the same file again: the saved lines are unchanged, the bad rows rejected again, nothing written
    code, out = run_import(path, chief.email, tmp_path / "r2.xlsx", "--lang", lang)
    assert code == 1 and "staffing: create 0, update 0, unchanged 4, rejected 8" in out
    assert [s for s, _r in outcomes(tmp_path / "r2.xlsx")][:4] == [statuses[1]] * 4
    assert lines(db, own) == 4


def test_a_changed_fte_updates_the_line_of_the_key_and_is_audited(db, staffing_world, run_import, tmp_path, ref):
    own, _other, chief = staffing_world
    line = StaffingPosition(organization=own, position=ref(Position, "NURSE"), specialty=ref(Specialty, "NURSING"),
                            department="Терапия", approved_fte=Decimal("2"), valid_from=datetime(2026, 1, 1).date())
    db.session.add(line)
    db.session.commit()
    before = db.session.execute(select(func.max(AuditLog.id))).scalar() or 0
    rows = [{"position": "NURSE", "specialty": "NURSING", "department": " Терапия ", "approved_fte": "2,75",
             "valid_from": "01.01.2026"},
            # another start date is another line (the key), not a change of the saved one
            {"position": "NURSE", "specialty": "NURSING", "department": "Терапия", "approved_fte": "3",
             "valid_from": "01.07.2026"}]
    write_staffing(tmp_path / "s.xlsx", rows)
    code, out = run_import(tmp_path / "s.xlsx", chief.email, tmp_path / "r.xlsx", "--lang", "en")
    assert code == 0, out
    assert outcomes(tmp_path / "r.xlsx") == [("update", "Approved FTE"), ("create", "")]
    db.session.refresh(line)
    assert line.approved_fte == Decimal("2.75") and lines(db, own) == 2
    run = db.session.execute(select(ImportRun)).scalar_one()
    entries = db.session.execute(select(AuditLog).where(AuditLog.table_name == "staffing_position",
                                                        AuditLog.id > before)).scalars().all()
    assert len(entries) == 2, entries  # the change of the saved line, the new line
    assert all(e.user_id == chief.id and e.detail == f"import {run.sha256} s.xlsx" for e in entries)
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "import")).scalar_one().user_id == chief.id


def test_dry_run_and_atomic_write_nothing(db, staffing_world, run_import, tmp_path):
    own, other, chief = staffing_world
    write_staffing(tmp_path / "s.xlsx", good_and_bad(own, other))
    code, out = run_import(tmp_path / "s.xlsx", chief.email, tmp_path / "dry.xlsx", "--dry-run")
    assert code == 1 and "staffing: create 4, update 0, unchanged 0, rejected 8" in out and "dry run" in out
    assert lines(db) == 0
    assert db.session.execute(select(AuditLog).where(AuditLog.table_name == "staffing_position")).first() is None
    code, _out = run_import(tmp_path / "s.xlsx", chief.email, tmp_path / "atomic.xlsx", "--atomic")
    assert code == 1 and lines(db) == 0
    write_staffing(tmp_path / "good.xlsx", good_and_bad(own, other)[:4])
    code, out = run_import(tmp_path / "good.xlsx", chief.email, tmp_path / "ok.xlsx", "--atomic")
    assert code == 0, out
    assert lines(db, own) == 4


def test_hr_and_region_read_staffing_only_org_head_cannot_import(db, factory, staffing_world,
                                                                  run_import, tmp_path, ref):
    own, _other, _chief = staffing_world
    rows = [{"org_bin": own.bin, "position": "NURSE", "approved_fte": 1}]
    write_staffing(tmp_path / "s.xlsx", rows)
    for user in (factory.user("hr", org=own), factory.user("region", region=ref(AdminUnit, "710000000"))):
        code, _out = run_import(tmp_path / "s.xlsx", user.email, tmp_path / "r.xlsx", "--lang", "en")
        assert code == 1
        assert outcomes(tmp_path / "r.xlsx") == [("rejected", "You may not change staffing tables.")], user.role
    head = factory.user("org_head", org=own)
    code, _out = run_import(tmp_path / "s.xlsx", head.email, tmp_path / "h.xlsx", "--lang", "en")
    assert code != 0  # no right to import at all
    assert lines(db) == 0


def test_the_ministry_writes_any_organizations_staffing_lines_naming_the_organization(db, factory, staffing_world,
                                                                                      run_import, tmp_path):
    """The ministry (C/E on staffing in ``access.MATRIX``) writes any organization's lines; a row
    without a BIN needs the default organization."""
    own, other, _chief = staffing_world
    ministry = factory.user("ministry")
    rows = [{"org_bin": own.bin, "position": "NURSE", "approved_fte": 1},
            {"org_bin": other.bin, "position": "NURSE", "approved_fte": 2},
            {"position": "NURSE", "department": "Хирургия", "approved_fte": 3}]  # no BIN, no own organization
    write_staffing(tmp_path / "s.xlsx", rows)
    code, _out = run_import(tmp_path / "s.xlsx", ministry.email, tmp_path / "r.xlsx", "--lang", "en")
    assert code == 1
    assert outcomes(tmp_path / "r.xlsx") == [
        ("create", ""), ("create", ""),
        ("rejected", "Organization BIN: Give the organization's BIN (or choose the default organization of the "
                     "import).")]
    assert (lines(db, own), lines(db, other)) == (1, 1)
    # with a default organization (--org, the page's choice) the row without a BIN lands there
    code, out = run_import(tmp_path / "s.xlsx", ministry.email, tmp_path / "r2.xlsx", "--org", other.bin)
    assert code == 0, out
    assert "staffing: create 1, update 0, unchanged 2, rejected 0" in out
    assert (lines(db, own), lines(db, other)) == (1, 2)


def test_a_csv_of_canonical_keys_is_a_staffing_file(db, staffing_world, run_import, tmp_path):
    own, _other, chief = staffing_world
    write_csv(tmp_path / "s.csv", [{"position": "NURSE", "approved_fte": "1,5", "valid_from": "01.02.2026"}], KEYS)
    code, out = run_import(tmp_path / "s.csv", chief.email, tmp_path / "r.xlsx")
    assert code == 0, out
    assert "staffing: create 1" in out and lines(db, own) == 1


def test_the_staffing_template_has_its_headers_and_allowed_values(app, db, tmp_path):
    path = tmp_path / "t.xlsx"
    result = app.test_cli_runner().invoke(args=["profreg", "import", "template", "--kind", "staffing", "--lang", "ru",
                                                "--out", str(path)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    assert wb.sheetnames == ["Штатное расписание", "Допустимые значения"]
    headers = [c.value for c in wb.worksheets[0][1]]
    assert headers == ["БИН организации", "Должность *", "Специальность", "Отделение",
                       "Утверждённые штатные единицы *", "Действует с"]
    assert wb.worksheets[0].data_validations.dataValidation, "position and specialty have drop-down lists"
    values = [c.value for c in wb.worksheets[1][1] if c.value]
    assert values == ["Должность", "Имя", "Специальность", "Имя"]  # no sex or education kind here
    codes = {c.value for c in wb.worksheets[1]["A"]}
    assert {"NURSE", "DOCTOR"} <= codes
    # the template, filled in, is read back as a staffing sheet with its own headers
    sheet = open_book(path).sheets[0]
    assert sheet.kind == STAFFING and sheet.keys == KEYS
    # "all" stays the HR file of a worker's record: no staffing sheet
    write_template(tmp_path / "all.xlsx", ("workers", "education", "certificates", "cpd"), "en")
    result = app.test_cli_runner().invoke(args=["profreg", "import", "template", "--kind", "all", "--lang", "en",
                                                "--out", str(tmp_path / "all2.xlsx")])
    assert result.exit_code == 0
    assert "Staffing table" not in load_workbook(tmp_path / "all2.xlsx").sheetnames


def test_the_page_offers_the_staffing_template_to_who_may_import_it(db, factory, staffing_world, client):
    own, _other, chief = staffing_world
    login(client, chief)
    page = client.get("/admin/imports/?lang=en").get_data(as_text=True)
    assert "/admin/imports/template/?kind=staffing" in page and "Staffing table" in page
    assert client.get("/admin/imports/template/?kind=staffing").status_code == 200
    logout(client)
    login(client, factory.user("hr", org=own))  # imports workers, does not write staffing tables
    page = client.get("/admin/imports/?lang=en").get_data(as_text=True)
    assert "kind=workers" in page and "kind=staffing" not in page
    assert client.get("/admin/imports/template/?kind=staffing").status_code == 404
    logout(client)
    login(client, factory.user("ministry"))
    page = client.get("/admin/imports/?lang=en").get_data(as_text=True)
    assert "kind=workers" in page and "kind=staffing" in page


def test_the_rule_of_a_line_is_the_panels(app):
    assert staffing_line_errors(Decimal("1.5")) == {} and staffing_line_errors(0) == {}
    with app.test_request_context():
        assert set(staffing_line_errors(None)) == {"approved_fte"}
        for bad in (Decimal("-0.5"), Decimal("0.125"), Decimal("100000"), float("nan")):
            assert set(staffing_line_errors(bad)) == {"approved_fte"}, bad


@pytest.mark.parametrize(("fte", "message"), [("0.125", "At most two decimal places."),
                                              ("-1", "Enter a number that is not negative.")])
def test_the_panel_refuses_the_lines_the_import_refuses(db, staffing_world, client, ref, fte, message):
    own, _other, chief = staffing_world
    login(client, chief)
    data = {"csrf_token": csrf_token(client, "/admin/staffing/new/?lang=en"), "position": ref(Position, "NURSE").id,
            "approved_fte": fte}
    page = client.post("/admin/staffing/new/?lang=en", data=data, follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert lines(db) == 0
    data.update(approved_fte="0.25", csrf_token=csrf_token(client, "/admin/staffing/new/?lang=en"))
    client.post("/admin/staffing/new/?lang=en", data=data)
    assert lines(db, own) == 1
