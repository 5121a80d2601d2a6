"""Reading import files safely (issue 16, "Input safety"): limits, zip bombs, encodings, delimiters,
formulas as cached values, control characters; values: dates, sex, reference values."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from profreg.imports.columns import norm
from profreg.imports.reader import FileRefused, detect_delimiter, detect_encoding, open_book
from profreg.imports.template import write_template
from profreg.imports.values import BadValue, Lookup, parse_date, parse_decimal, parse_sex
from profreg.reference.models import Position, Specialty

ROOT = Path(__file__).resolve().parents[2]

_PEAK_RSS = """
import resource, sys
from profreg.imports.reader import FileRefused, open_book
import openpyxl, openpyxl.reader.excel  # loaded before the baseline: the growth is the file's alone
print("base_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
try:
    open_book(sys.argv[1])
except FileRefused as exc:
    print("refused:", exc.message)
print("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _refused_in_subprocess(path) -> tuple[str, int]:
    """Open ``path`` in a fresh interpreter: the refusal's message and how far the process's peak RSS grew
    (MB) from its state after the imports."""
    out = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=120, check=True).stdout
    lines = out.strip().splitlines()
    return lines[1], int(lines[-1].split()[1]) - int(lines[0].split()[1])


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "huge.xlsx"
    with open(big, "wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(200 * 1024 * 1024)
    message, rss = _refused_in_subprocess(big)
    assert "The file is 200 MB; at most 50 MB can be imported at once" in message
    assert rss < 20, rss  # refused from the size / the zip directory: nothing decompressed


def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    zero = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(600):
                member.write(zero)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    message, rss = _refused_in_subprocess(bomb)
    assert "The workbook unpacks to 600 MB, more than the 400 MB allowed" in message
    assert rss < 20, rss  # refused from the size / the zip directory: nothing decompressed


def test_a_well_compressed_member_is_refused_under_the_total_limit(app, tmp_path):
    bomb = tmp_path / "ratio.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(FileRefused, match="compressed suspiciously well"):
        open_book(bomb)


def test_rows_and_columns_limits(app, tmp_path):
    wide = tmp_path / "wide.xlsx"
    wb = Workbook()
    wb.active.append([f"c{i}" for i in range(150)])
    wb.save(wide)
    with pytest.raises(FileRefused, match="150 columns; at most 100"):
        open_book(wide)
    long = tmp_path / "long.csv"
    long.write_text("iin;number;specialty;issued_on\n" + "1;2;3;4\n" * 30, encoding="utf-8")
    app.config["IMPORT_MAX_ROWS"] = 20
    try:
        book = open_book(long)
        with pytest.raises(FileRefused, match="more than 20 rows"):
            list(book.sheets[0].rows())
    finally:
        app.config.pop("IMPORT_MAX_ROWS")


def test_not_a_workbook(app, tmp_path):
    fake = tmp_path / "x.xlsx"
    fake.write_bytes(b"hello")
    with pytest.raises(FileRefused, match="not a valid xlsx"):
        open_book(fake)


def test_csv_encodings_and_delimiters():
    assert detect_encoding("ИИН;Фамилия".encode("cp1251")) == "cp1251"
    assert detect_encoding("ИИН;Фамилия".encode()) == "utf-8"
    assert detect_encoding("\ufeffИИН".encode()) == "utf-8-sig"
    assert detect_delimiter("iin;surname;name") == ";"
    assert detect_delimiter("iin,surname,name") == ","


@pytest.mark.parametrize("encoding,delimiter", [("utf-8-sig", ","), ("utf-8", ";"), ("cp1251", ";")])
def test_csv_with_bom_or_not_reads_the_same(app, tmp_path, encoding, delimiter):
    path = tmp_path / "c.csv"
    path.write_text(delimiter.join(["ИИН", "Номер сертификата", "Специальность", "Дата выдачи"]) + "\n"
                    + delimiter.join(["870412400014", "KZ-1", "Терапия", "01.02.2022"]) + "\n", encoding=encoding)
    book = open_book(path)
    sheet = book.sheets[0]
    assert sheet.kind == "certificates" and sheet.keys == ["iin", "number", "specialty", "issued_on"]
    assert list(sheet.rows()) == [(2, ["870412400014", "KZ-1", "Терапия", "01.02.2022"])]
    assert (book.encoding, book.delimiter) == (encoding if encoding != "utf-8-sig" else "utf-8-sig", delimiter)


def test_formulas_are_read_as_cached_values_and_control_characters_stripped(app, tmp_path):
    import xlsxwriter

    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("certificates")
    ws.write_row(0, 0, ["iin", "number", "specialty", "issued_on"])
    ws.write_string(1, 0, "870412400014")
    ws.write_formula(1, 1, '=HYPERLINK("http://evil")', None, "KZ-CACHED")  # read as its cached value
    ws.write_string(1, 2, "Терапия")
    ws.write_string(1, 3, "01.02.2022")
    wb.close()
    assert list(open_book(path).sheets[0].rows()) == [(2, ["870412400014", "KZ-CACHED", "Терапия", "01.02.2022"])]
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("iin;number;specialty;issued_on\n870412400014;KZ\x00-1\x07;Тера\x85пия;01.02.2022\n",
                        encoding="utf-8")
    assert list(open_book(csv_path).sheets[0].rows()) == [(2, ["870412400014", "KZ-1", "Терапия", "01.02.2022"])]


def test_dates_sex_and_numbers():
    assert parse_date("05.03.2024") == date(2024, 3, 5) == parse_date("2024-03-05") == parse_date(45356)
    with pytest.raises(BadValue):
        parse_date("31.02.2024")
    assert [parse_sex(v) for v in ("M", "f", "м", "Ж", "ер", "Әйел", None)] == ["M", "F", "M", "F", "M", "F", None]
    with pytest.raises(BadValue):
        parse_sex("x")
    assert parse_decimal("0,5") == Decimal("0.5")
    with pytest.raises(BadValue):
        parse_decimal("inf")


def test_reference_values_by_code_or_name_in_any_language(app, db, ref):
    positions = Lookup(Position)
    nurse = ref(Position, "NURSE")
    for value in ("NURSE", "nurse", " Медицинская  сестра ", "МЕЙІРБИКЕ", "Nurse"):
        assert positions.get(value, "Position") is nurse
    specialties = Lookup(Specialty)
    assert specialties.get("Мейіргер ісі", "Specialty") is ref(Specialty, "NURSING")
    # Kazakh letters are not folded into their Russian look-alikes (і ≠ и, ә ≠ а, ү ≠ у)
    for lookalike in ("Мейиргер ісі", "Мейіргер иси", "Мейiргер ісі"):
        with pytest.raises(BadValue, match="unknown value"):
            specialties.get(lookalike, "Specialty")
    assert norm("Әйел") != norm("Аиел")


def test_the_template_has_headers_values_and_validation(app, db, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path, ("workers", "education", "certificates", "cpd"), "ru")
    wb = load_workbook(path)
    assert len(wb.sheetnames) == 5
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[0].startswith("ИИН") and "Должность *" in headers
    assert ws.data_validations.dataValidation, "reference columns have drop-down lists"
    # the template, filled in, is read back with its own headers
    book = open_book(path)
    assert [s.kind for s in book.sheets] == ["workers", "education", "certificates", "cpd"]
    assert None not in book.sheets[0].keys
