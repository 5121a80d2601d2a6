"""The worker register export (``profreg export workers``): the same cells on every database — on
PostgreSQL written by COPY (profreg.exports.pgcopy), elsewhere by the Python writers — whatever the
names contain, in the reader's language, within the exporting user's scope."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from flask_babel import force_locale

from profreg.workers.exports import export

NASTY = [  # (surname, name, patronymic) as stored; what a spreadsheet must show
    ("Әбенова", "Гүлнұр", None),
    ("A&B <Ltd>", "=HYPERLINK(\"http://evil\")", "+7 701"),
    ("Back\\slash", "Line\nbreak", "Tab\there"),
    ("Ctrl\x01\x07char", "-minus", "@at"),
    ("Quote\"and'apostrophe", "Semi;colon,comma", "\rCR first"),
    ("Under_x0041_score", "_x", "x_"),
]


def _shown(text):
    """What the export shows for a stored text: formulas neutralised, forbidden characters dropped."""
    if text is None:
        return None
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        text = "'" + text
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)


@pytest.fixture
def people(db, factory, today):
    org = factory.org()
    other = factory.org(region="750000000")
    made = []
    for i, (surname, name, patronymic) in enumerate(NASTY):
        w = factory.worker(org, surname=surname, name=name, patronymic=patronymic, sex="MF"[i % 2],
                           birth=date(1980 + i, 1 + i, 10 + i))
        w.registration_date = date(2020, 2, 1 + i)
        made.append(w)
    made[1].status = "blocked"
    outsider = factory.worker(other, surname="Басқа")
    db.session.commit()
    return made, outsider


def _ooxml(value):
    """A cell as a spreadsheet program shows it: OOXML's _xHHHH_ escapes decoded (openpyxl keeps them)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def _expected(workers, lang="en"):
    sex = {"en": {"M": "Male", "F": "Female"}, "kk": {"M": "Ер", "F": "Әйел"}}[lang]
    status = {"en": {"active": "Active", "blocked": "Blocked"}}.get(lang)
    out = []
    for w in sorted(workers, key=lambda w: w.id):
        out.append((w.iin, _shown(w.surname), _shown(w.name), _shown(w.patronymic), sex[w.sex], w.birth_date,
                    status[w.status] if status else None, w.registration_date))
    return out


def _export_all(people, tmp_path, fmt):
    """The whole register exported in English; checks the row count."""
    made, outsider = people
    path = tmp_path / f"w.{fmt}"
    with force_locale("en"):
        n = export(str(path), fmt)
    assert n == len(made) + 1
    return path, made, outsider


def test_xlsx_cells_survive_any_text(app, people, tmp_path):
    path, made, outsider = _export_all(people, tmp_path, "xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("IIN", "Surname", "Name", "Patronymic", "Sex", "Date of birth", "Status",
                       "Date of registration")
    got = [tuple(v.date() if isinstance(v, datetime) else _ooxml(v) for v in r) for r in rows[1:]]
    assert got == _expected(made + [outsider])
    assert ws.freeze_panes == "A2"
    assert all(ws.cell(row=i, column=2).data_type == "s" for i in range(2, len(rows) + 1))  # never a formula
    assert ws.cell(row=2, column=6).number_format.lower() in ("dd.mm.yyyy", "dd/mm/yyyy")
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None


def test_csv_cells_survive_any_text(app, people, tmp_path):
    path, made, outsider = _export_all(people, tmp_path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "IIN"
    expected = [tuple("" if v is None else (v.strftime("%d.%m.%Y") if isinstance(v, date) else v) for v in row)
                for row in _expected(made + [outsider])]
    # csv keeps every character (it has no forbidden ones): compare against the stored text, neutralised
    stored = {w.iin: w for w in made + [outsider]}
    for row, exp in zip(rows[1:], expected, strict=True):
        w = stored[row[0]]
        neutral = [("'" + v if v.startswith(("=", "+", "-", "@", "\t", "\r")) else v) if v else ""
                   for v in (w.surname, w.name, w.patronymic)]
        assert tuple(row) == (exp[0], *neutral, *exp[4:])


def test_labels_follow_the_language_and_scope_limits_rows(app, people, tmp_path, factory, db):
    made, outsider = people
    hr = factory.user("hr", org=made[0].employments[0].organization)
    db.session.commit()
    path = tmp_path / "kk.xlsx"
    with force_locale("kk"):
        n = export(str(path), "xlsx", user=hr)
    assert n == len(made)  # the other organization's worker is not exported
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "ЖСН"
    assert {r[4] for r in rows[1:]} == {"Ер", "Әйел"}
    assert outsider.iin not in {r[0] for r in rows[1:]}
