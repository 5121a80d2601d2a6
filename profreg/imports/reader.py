"""Reading an uploaded file safely: xlsx read with python-calamine (Rust: the cells of one sheet at a
time, formulas as their cached values, never evaluated) or csv (UTF-8 with or without BOM, or Windows-1251; ``;`` or ``,``), with limits on the
file size, the uncompressed size of an xlsx (zip bombs: checked from the zip directory before anything
is decompressed), the rows and the columns. Control characters are stripped from every text cell
(``hygiene.strip_control``). A file that breaks a limit is refused as a whole (``FileRefused``)."""
from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

from ..errors import DomainError
from ..hygiene import strip_control
from .columns import IMPORT_LAYOUT, Layout, guess_kind, header_map, norm, sheet_kind

DEFAULT_LIMITS = {"IMPORT_MAX_BYTES": 50 * 1024 * 1024, "IMPORT_MAX_UNCOMPRESSED": 400 * 1024 * 1024,
                  "IMPORT_MAX_ROWS": 200_000, "IMPORT_MAX_COLUMNS": 100, "IMPORT_MAX_RATIO": 200}


class FileRefused(DomainError):
    """The file as a whole cannot be imported (too big, a zip bomb, not a spreadsheet, no known sheet)."""


def limit(name: str) -> int:
    try:
        return int(current_app.config.get(name, DEFAULT_LIMITS[name]))
    except RuntimeError:
        return DEFAULT_LIMITS[name]


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


@dataclass
class SheetData:
    """One sheet of the file: its name, kind, headers (as written) and the canonical key per column
    (None for a column that is not imported); ``rows()`` streams (row number, values) afresh."""

    name: str
    kind: str
    headers: list
    keys: list
    _rows: object = field(repr=False, default=None)
    _estimate: object = field(repr=False, default=None)

    def rows(self) -> Iterator[tuple[int, list]]:
        return self._rows()

    def estimate(self) -> int:
        """The number of data rows as far as it is known without reading them (for the progress bar)."""
        return self._estimate() if self._estimate is not None else 0


@dataclass
class Book:
    path: Path
    format: str  # xlsx / csv
    sheets: list[SheetData]
    encoding: str | None = None
    delimiter: str | None = None


def check_size(path: Path) -> int:
    size = path.stat().st_size
    if size > limit("IMPORT_MAX_BYTES"):
        raise FileRefused(_l("The file is %(size)s MB; at most %(limit)s MB can be imported at once. Split it "
                             "into several files.", size=_mb(size), limit=_mb(limit("IMPORT_MAX_BYTES"))))
    return size


def check_zip(path: Path) -> None:
    """A zip bomb is refused from the zip's directory alone: the sum of the members' uncompressed sizes
    and each member's compression ratio, before any member is opened."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise FileRefused(_l("The file is not a valid xlsx workbook. Save it again in Excel as .xlsx, or as "
                             ".csv.")) from None
    total = sum(i.file_size for i in infos)
    if total > limit("IMPORT_MAX_UNCOMPRESSED"):
        raise FileRefused(_l("The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed (a "
                             "damaged or malicious file?). Split it into several files.",
                             size=_mb(total), limit=_mb(limit("IMPORT_MAX_UNCOMPRESSED"))))
    ratio = limit("IMPORT_MAX_RATIO")
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > ratio * max(i.compress_size, 1):
            raise FileRefused(_l("The workbook is compressed suspiciously well (a damaged or malicious file?) "
                                 "and was not opened."))


def clean(value):
    """A cell as the import reads it: text stripped of control characters and outer spaces (empty →
    None); dates, numbers kept."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.isprintable():  # only then can it hold a control character (a cheap test first)
            value = strip_control(value)
        return value.strip() or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)  # a whole number cell (the reader gives every number as a float)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()
    return value


def _check_columns(headers: list) -> None:
    if len(headers) > limit("IMPORT_MAX_COLUMNS"):
        raise FileRefused(_l("A sheet has %(n)d columns; at most %(limit)d are read.", n=len(headers),
                             limit=limit("IMPORT_MAX_COLUMNS")))


def _too_many_rows():
    return FileRefused(_l("The file has more than %(limit)d rows; split it into several files.",
                          limit=limit("IMPORT_MAX_ROWS")))


def _sheet(name, kind_hint, headers, rows_fn, layout: Layout) -> SheetData | None:
    headers = [clean(h) for h in headers]
    while headers and headers[-1] is None:
        headers.pop()
    _check_columns(headers)
    kind = kind_hint or guess_kind([str(h) for h in headers if h is not None], layout)
    if kind is None:
        return None
    hm = header_map(kind, layout)
    keys = [hm.get(norm(h)) if h is not None else None for h in headers]
    return SheetData(str(name), kind, headers, keys, rows_fn)


# ---------------------------------------------------------------------------------------------- xlsx
def _xlsx_rows(path: Path, sheet_name: str, width: int):
    """The data rows of a sheet (row 1 is the header), read by python-calamine: some ten times faster than
    openpyxl's XML parsing in Python (docs/performance.md, bulk import). Only the cells' stored values are
    read: a formula gives its cached value and is never evaluated."""
    def rows():
        max_rows = limit("IMPORT_MAX_ROWS")
        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet_name)
        except (CalamineError, PasswordError, XmlError, ZipError, OSError, ValueError):
            raise FileRefused(_l("The file is not a valid xlsx workbook. Save it again in Excel as .xlsx, or as "
                                 ".csv.")) from None
        if sheet.height - 1 > max_rows:
            raise _too_many_rows()
        it = iter(sheet.iter_rows())
        next(it, None)  # the header
        for n, values in enumerate(it, start=2):
            values = [clean(v) for v in values[:width]]
            if any(v is not None for v in values):
                yield n, values + [None] * (width - len(values))
    return rows


def read_xlsx(path: Path, layout: Layout = IMPORT_LAYOUT) -> Book:
    check_zip(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except (CalamineError, PasswordError, XmlError, ZipError, OSError, ValueError):
        raise FileRefused(_l("The file is not a valid xlsx workbook. Save it again in Excel as .xlsx, or as "
                             ".csv.")) from None
    sheets = []
    for name in names:
        try:
            data = wb.get_sheet_by_name(name)
        except (CalamineError, XmlError, ValueError):
            raise FileRefused(_l("The file is not a valid xlsx workbook. Save it again in Excel as .xlsx, or as "
                                 ".csv.")) from None
        header = next(iter(data.iter_rows()), None)
        if not header:
            continue
        sheet = _sheet(name, sheet_kind(name, layout), list(header), None, layout)
        if sheet is not None:
            rows_hint = max(data.height - 1, 0)
            sheet._estimate = lambda n=rows_hint: n
            sheet._rows = _xlsx_rows(path, name, len(sheet.headers))
            sheets.append(sheet)
        del data
    return Book(path, "xlsx", sheets)


# ----------------------------------------------------------------------------------------------- csv
def detect_encoding(head: bytes) -> str:
    """utf-8-sig with a BOM; utf-8 when the first bytes decode as UTF-8; else Windows-1251 (what Excel
    writes for "CSV" on a Russian or Kazakh Windows)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def detect_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") >= first_line.count(",") else ","


def read_csv(path: Path, name: str | None = None, layout: Layout = IMPORT_LAYOUT) -> Book:
    with open(path, "rb") as fh:
        head = fh.read(256 * 1024)
    encoding = detect_encoding(head)
    first = head.decode(encoding, errors="ignore").splitlines()[0] if head else ""
    delimiter = detect_delimiter(first)

    def open_reader():
        fh = open(path, encoding=encoding, newline="", errors="replace")  # noqa: SIM115 - closed by the caller
        return fh, csv.reader(fh, delimiter=delimiter)

    fh, reader = open_reader()
    try:
        header = next(reader, [])
    finally:
        fh.close()
    sheet = _sheet(Path(name or path.name).stem[:31], None, header, None, layout)
    if sheet is None:
        raise FileRefused(layout.unrecognised or _l("The columns of the file were not recognised. Use the "
                                                    "template's headers or the column keys of docs/import.md."))
    width = len(sheet.headers)

    def rows():
        fh, reader = open_reader()
        try:
            next(reader, None)
            max_rows = limit("IMPORT_MAX_ROWS")
            for n, values in enumerate(reader, start=2):
                if n - 1 > max_rows:
                    raise _too_many_rows()
                values = [clean(v) for v in values[:width]]
                if any(v is not None for v in values):
                    yield n, values + [None] * (width - len(values))
        finally:
            fh.close()

    def estimate():
        with open(path, "rb") as fh:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1024 * 1024), b"")) - 1, 0)

    sheet._rows, sheet._estimate = rows, estimate
    return Book(path, "csv", [sheet], encoding=encoding, delimiter=delimiter)


def open_book(path, file_name: str | None = None, layout: Layout = IMPORT_LAYOUT) -> Book:
    """The sheets of an uploaded file (checked against the limits first); ``layout``: the kinds of sheet
    recognised (the import's, or a registry extract's: ``reconciliation.adapters``)."""
    path = Path(path)
    check_size(path)
    name = (file_name or path.name).lower()
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"PK"):
        book = read_xlsx(path, layout)
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        raise FileRefused(_l("The file is not a valid xlsx workbook. Save it again in Excel as .xlsx, or as "
                             ".csv."))
    else:
        book = read_csv(path, file_name, layout)
    if not book.sheets:
        raise FileRefused(layout.unrecognised or _l("No sheet of the file has recognised columns. Use the "
                                                    "template's headers or the column keys of docs/import.md."))
    return book


def file_digest(path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = ["Book", "FileRefused", "SheetData", "check_size", "check_zip", "clean", "detect_delimiter",
           "detect_encoding", "file_digest", "open_book"]

