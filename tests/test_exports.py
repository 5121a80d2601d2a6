"""The shared export writers: formula neutralisation, BOM, xlsx structure, Kazakh glyphs in PDF."""
from datetime import date

import openpyxl

from profreg.exports import Sheet, csv_rows, safe, write_csv, write_xlsx

KAZAKH = "ә ғ қ ң ө ұ ү һ і Ә Ғ Қ Ң Ө Ұ Ү Һ І"


def test_safe_neutralises_formulas_only():
    assert safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for s in ("+1", "-2", "@SUM(A1)", "\tx"):
        assert safe(s).startswith("'")
    assert safe("Қасымова") == "Қасымова"
    assert safe(-5) == -5


def test_csv_has_bom_and_inert_cells(tmp_path):
    path = tmp_path / "x.csv"
    n = write_csv(path, ["ЖСН", "Тегі"], [["850315300019", "=HYPERLINK(\"x\")"], ["870412400711", "Әбенова"]])
    raw = path.read_bytes()
    assert n == 2
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "Әбенова" in text
    assert b"".join(csv_rows(["a"], [])) .startswith(b"\xef\xbb\xbf")


def test_xlsx_structure(tmp_path):
    path = tmp_path / "x.xlsx"
    counts = write_xlsx(path, [Sheet("Тізім", ["ЖСН", "Тегі", "Күні", "Сағат"],
                                     [["850315300019", "=HYPERLINK(\"x\")", date(2026, 1, 2), 36]],
                                     heading=["Аурухана № 1", "БСН 150440001236"], totals=["", "", "", 36])])
    assert counts == [1]
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws["A1"].value == "Аурухана № 1"
    assert ws["A4"].value == "ЖСН" and ws.freeze_panes == "A5"
    assert ws["B5"].value == "'=HYPERLINK(\"x\")" and ws["B5"].data_type == "s"
    assert ws["D6"].value == 36


def test_pdf_keeps_kazakh_letters(app, tmp_path, monkeypatch):
    from jinja2 import ChoiceLoader, FileSystemLoader
    from pypdf import PdfReader

    from profreg.exports import render_pdf

    # the shared app's Jinja environment gets a loader for the test template, restored afterwards
    if "current_lang" not in app.jinja_env.globals:
        monkeypatch.setitem(app.jinja_env.globals, "current_lang", lambda: "kk")
    tpl = tmp_path / "t.html"
    tpl.write_text("{% extends 'exports/base.html' %}{% block body %}<h1>" + KAZAKH + "</h1>{% endblock %}")
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([app.jinja_env.loader, FileSystemLoader(str(tmp_path))]))
    pdf = render_pdf("t.html")
    (tmp_path / "t.pdf").write_bytes(pdf)
    text = PdfReader(str(tmp_path / "t.pdf")).pages[0].extract_text()
    for letter in KAZAKH.split():
        assert letter in text
