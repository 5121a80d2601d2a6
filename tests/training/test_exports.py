"""Exports of a training list: xlsx structure and rows, csv BOM, pdf Kazakh glyphs, formula injection, CLI."""
from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from profreg.training import exports
from profreg.training.services import Rules, approve, create_draft

KAZAKH = "ә ғ қ ң ө ұ ү һ і".split()


@pytest.fixture
def approved(ds, db):
    lst = create_draft(ds.org_a.id, "2027Q1", Rules(), None, ds.users["hr_a"])
    approve(lst, ds.users["head_a"])
    db.session.commit()
    return lst


def test_xlsx_rows_headers_totals(approved, ds, tmp_path):
    path = tmp_path / "l.xlsx"
    with force_locale("kk"):
        n = exports.write_list(approved, "xlsx", path)
    assert n == 6
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == ds.org_a.name_kk and ds.org_a.bin in ws["A2"].value and "2027 ж. I тоқсан" in ws["A3"].value.replace("\u202f", " ")
    header_row = 6
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.cell(header_row, 2).value == "ЖСН"
    rows = list(ws.iter_rows(min_row=header_row + 1, max_row=header_row + 6, values_only=True))
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {r[1] for r in rows} == {ds.w[k].iin for k in ("expiring", "deficit", "oldtraining", "newspecialty",
                                                           "newposition", "multi")}
    multi = next(r for r in rows if r[1] == ds.w["multi"].iin)
    assert multi[2].startswith("'=HYPERLINK")
    assert ws.cell(header_row + 7, 1).value  # totals row
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
    assert ws.column_dimensions["G"].width > 30


def test_csv_bom_and_inert(approved, tmp_path, ds):
    path = tmp_path / "l.csv"
    with force_locale("ru"):
        exports.write_list(approved, "csv", path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "ИИН" in text and "'=HYPERLINK" in text and ";=HYPERLINK" not in text  # ';' for ru readers


def test_pdf_has_kazakh_letters_and_signature(approved, tmp_path, db, ds):
    w = ds.w["deficit"]
    w.surname, w.name = "Әбдіғұлұлы", "Өмірқаңһүл"  # every Kazakh-specific letter
    db.session.commit()
    path = tmp_path / "l.pdf"
    with force_locale("kk"):
        exports.write_list(approved, "pdf", path)
    reader = PdfReader(str(path))
    text = "".join(p.extract_text() for p in reader.pages)
    for letter in KAZAKH:
        assert letter in text, letter
    assert "Әбдіғұлұлы" in text and "'=HYPERLINK" in text
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape


def test_cli_exports(app, approved, ds, tmp_path):
    runner = app.test_cli_runner()
    for fmt in ("xlsx", "csv", "pdf"):
        out = tmp_path / f"l.{fmt}"
        r = runner.invoke(args=["profreg", "export", "training-list", "--org", ds.org_a.bin, "--period", "2027q1",
                                "--format", fmt, "--out", str(out), "--lang", "kk"])
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0 and "6 workers" in r.output
    r = runner.invoke(args=["profreg", "export", "training-list", "--org", ds.org_a.bin, "--period", "2030Q1",
                            "--format", "csv", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code != 0
    r = runner.invoke(args=["profreg", "export", "training-list", "--org", ds.org_a.bin, "--period", "Q9",
                            "--format", "csv", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code != 0 and "period" in r.output.lower()


def test_completed_row_in_export(approved, ds, db, ref, tmp_path):
    from profreg.reference.models import TrainingActivityType
    from profreg.training.services import Completion, complete_item

    item = next(i for i in approved.items if i.worker_id == ds.w["expiring"].id)
    complete_item(approved, item.id, Completion(ref(TrainingActivityType, "CERT_COURSE").id, "ҚазМУ", "Курс",
                                                date(2026, 11, 1), date(2026, 11, 20), 54), ds.users["hr_a"])
    db.session.commit()
    path = tmp_path / "l.xlsx"
    exports.write_list(approved, "xlsx", path)
    ws = openpyxl.load_workbook(path).active
    row = next(r for r in ws.iter_rows(values_only=True) if r[1] == ds.w["expiring"].iin)
    assert row[8] == 54 and row[7] is not None
