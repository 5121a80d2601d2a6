"""Issue 15, item 6: exports for people (docs/exports.md "Files for people"): the xlsx wraps long text,
freezes its header, prints landscape one page wide with the header on every page and the head's name
on the signature line; the csv is split by ';' with a decimal comma for kk/ru readers and by ',' for
en, in the panel and in the CLI (--lang)."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale

from profreg.exports import csv_rows
from profreg.training import exports
from profreg.training.services import Rules, approve, create_draft
from tests.conftest import login


@pytest.fixture
def draft(ds, db):
    lst = create_draft(ds.org_a.id, "2027Q1", Rules(), None, ds.users["hr_a"])
    db.session.commit()
    return lst


def _named(user, db, name):
    user.full_name = name
    db.session.commit()
    return user


def _table_start(ws) -> int:
    return next(r for r in range(1, 20) if ws.cell(r, 2).value in ("ЖСН", "ИИН", "IIN"))


def test_the_training_list_xlsx_is_made_to_be_read_and_printed(draft, ds, db, tmp_path):
    _named(ds.users["head_a"], db, "Сейітқали Ә. Б.")
    approve(draft, ds.users["head_a"])
    db.session.commit()
    path = tmp_path / "list.xlsx"
    with force_locale("ru"):
        exports.write_list(draft, "xlsx", path)
    ws = openpyxl.load_workbook(path).active
    head = _table_start(ws)
    assert ws.freeze_panes == f"A{head + 1}"  # the header row stays while scrolling
    assert ws.print_title_rows.replace("$", "") == f"{head}:{head}"  # and is printed on every page
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # one page wide (fitToWidth's default in the file format is 1: xlsxwriter leaves it out), any length
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
    reasons = ws.cell(head + 1, 7)  # "Reasons": the longest text of a row
    assert len(str(reasons.value)) > 30 and reasons.alignment.wrap_text
    assert ws.cell(head, 7).alignment.wrap_text
    lines = [str(c.value) for row in ws.iter_rows(min_row=head + 1) for c in row if isinstance(c.value, str)]
    assert any("руководитель" in line.lower() and "Сейітқали Ә. Б." in line for line in lines), lines[-3:]
    assert "I квартал 2027 г." in str(ws["A3"].value).replace("\u202f", " ")  # the period in words, not 2027Q1


def test_a_draft_carries_the_organizations_head_on_its_signature_line(draft, ds, db, tmp_path):
    _named(ds.users["head_a"], db, "Нұрланов Е. К.")
    with force_locale("kk"):
        lines = exports.signature_lines(draft)
    assert "Нұрланов Е. К." in lines[0] and draft.status == "draft"
    assert "Нұрланов" not in " ".join(exports.signature_lines(
        create_draft(ds.org_b.id, "2027Q1", Rules(), None, ds.users["hr_b"])))  # another organization's head


@pytest.mark.parametrize("lang, delimiter", [("ru", ";"), ("kk", ";"), ("en", ",")])
def test_the_training_list_csv_follows_the_readers_language(draft, tmp_path, lang, delimiter):
    path = tmp_path / "list.csv"
    with force_locale(lang):
        n = exports.write_list(draft, "csv", path)
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert len(rows) == n + 1 and all(len(r) == len(rows[0]) == 9 for r in rows), rows[:2]


def test_numbers_dates_and_moments_in_a_csv_for_each_reader(app):
    rows = [[Decimal("0.50"), 1.25, 12, date(2026, 3, 2)]]
    with app.test_request_context(), force_locale("ru"):
        ru = b"".join(csv_rows(["a", "b", "c", "d"], rows)).decode("utf-8-sig")
    with app.test_request_context(), force_locale("en"):
        en = b"".join(csv_rows(["a", "b", "c", "d"], rows)).decode("utf-8-sig")
    assert ru.splitlines()[1] == "0,50;1,25;12;02.03.2026"
    assert en.splitlines()[1] == "0.50,1.25,12,02.03.2026"


def test_the_cli_exports_take_lang(app, draft, ds, tmp_path):
    runner = app.test_cli_runner()
    for lang, delimiter, header in (("ru", ";", "ИИН"), ("en", ",", "IIN"), ("kk", ";", "ЖСН")):
        out = tmp_path / f"list-{lang}.csv"
        r = runner.invoke(args=["profreg", "export", "training-list", "--org", ds.org_a.bin, "--period", "2027Q1",
                                "--format", "csv", "--out", str(out), "--lang", lang])
        assert r.exit_code == 0, r.output
        first = next(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=delimiter))
        assert header in first and len(first) == 9, (lang, first)
        out = tmp_path / f"workers-{lang}.csv"
        r = runner.invoke(args=["profreg", "export", "workers", "--format", "csv", "--out", str(out), "--lang", lang])
        assert r.exit_code == 0, r.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=delimiter))
        assert len(rows) > 1 and all(len(row) == 8 for row in rows), rows[:2]
        assert all(row[5].count(".") == 2 for row in rows[1:] if row[5])  # the birth date as dd.mm.yyyy


@pytest.mark.parametrize("lang, delimiter", [("ru", ";"), ("en", ",")])
def test_a_panel_list_export_follows_the_readers_language(client, ds, lang, delimiter):
    login(client, ds.users["hr_a"])
    resp = client.get(f"/admin/workers/export/csv/?lang={lang}")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig")), delimiter=delimiter))
    assert len(rows) > 1 and all(len(r) == len(rows[0]) > 3 for r in rows), rows[:2]
