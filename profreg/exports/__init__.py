"""Shared export writers (csv, xlsx, pdf): streaming where possible, neutralised against formula injection.

Every export in profreg goes through these functions:

* ``safe(value)`` — a text cell starting with ``= + - @`` (or tab / carriage return) gets a leading
  apostrophe, so spreadsheet programs show it as text instead of running it (OWASP CSV injection).
* ``csv_rows(headers, rows)`` — generator of UTF-8 (with BOM, so Excel opens Cyrillic) CSV chunks,
  for streamed HTTP responses; ``write_csv(path, headers, rows)`` writes a file.
* ``write_xlsx(path, sheets)`` — xlsxwriter in constant-memory mode (rows are written in order and
  flushed), with a title block, headers in bold, a frozen header row, column widths, totals and print
  setup (A4 landscape, fit to width, header row repeated).
* ``write_pdf(path, html)`` / ``render_pdf(template, **context)`` — WeasyPrint from a Jinja template;
  the templates pin DejaVu Sans, which has every Kazakh letter (ә ғ қ ң ө ұ ү һ і).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from flask import after_this_request, render_template, send_file
from weasyprint import HTML

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    """Neutralise a cell value against formula injection; other types pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


_XML_FORBIDDEN = {c: None for c in range(0, 32) if c not in (9, 10, 13)}  # NUL included


def xml_text(text: str) -> str:
    """Text without the control characters XML 1.0 forbids (a spreadsheet cell cannot hold them)."""
    return text.translate(_XML_FORBIDDEN)


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return safe(str(value)) if not isinstance(value, (int, float, Decimal)) else value


def csv_rows(headers: Sequence, rows: Iterable[Sequence]) -> Iterator[bytes]:
    """Stream CSV as UTF-8 with BOM, in chunks of about 64 KiB."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe(str(h)) for h in headers])
    first = True
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        if buf.tell() > 65536:
            data = buf.getvalue()
            yield (("\ufeff" + data) if first else data).encode("utf-8")
            first = False
            buf.seek(0)
            buf.truncate()
    data = buf.getvalue()
    yield (("\ufeff" + data) if first else data).encode("utf-8")


def write_csv(path: str | Path, headers: Sequence, rows: Iterable[Sequence]) -> int:
    """Write a CSV file; returns the number of data rows written."""
    count = 0

    def counted():
        nonlocal count
        for r in rows:
            count += 1
            yield r

    with open(path, "wb") as fh:
        for chunk in csv_rows(headers, counted()):
            fh.write(chunk)
    return count


@dataclass
class Sheet:
    """One worksheet: a title block (lines above the table), headers, rows, optional totals row."""

    title: str
    headers: Sequence
    rows: Iterable[Sequence]
    heading: Sequence[str] = ()          # e.g. organization name and BIN, period
    totals: Sequence | None = None       # last row, bold
    widths: Sequence[int] | None = None  # column widths in characters
    footer: Sequence[str] = ()           # lines under the table (e.g. signature block)
    count: int = field(default=0, init=False)


def _sheet_name(title: str, used: set) -> str:
    name = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def write_xlsx(path: str | Path, sheets: Sequence[Sheet]) -> list[int]:
    """Write an xlsx workbook in constant memory; returns the data-row count per sheet."""

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False,
                                         "default_date_format": "dd.mm.yyyy"})
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    title_fmt = wb.add_format({"bold": True, "font_size": 12})
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    dt_fmt = wb.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    used: set = set()
    counts = []
    for sheet in sheets:
        ws = wb.add_worksheet(_sheet_name(sheet.title, used))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        r = 0
        for i, line in enumerate(sheet.heading):
            ws.write_string(r, 0, str(line), title_fmt if i == 0 else bold)
            r += 1
        if sheet.heading:
            r += 1
        widths = list(sheet.widths or [max(10, min(40, len(str(h)) + 2)) for h in sheet.headers])
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        for c, h in enumerate(sheet.headers):
            ws.write_string(r, c, str(h), head)
        ws.freeze_panes(r + 1, 0)
        ws.repeat_rows(r)
        r += 1
        n = 0
        for row in sheet.rows:
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, datetime):
                    ws.write_datetime(r, c, v, dt_fmt)
                elif isinstance(v, date):
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, float, Decimal)):
                    ws.write_number(r, c, float(v))
                else:
                    ws.write_string(r, c, xml_text(str(safe(str(v)))))
            r += 1
            n += 1
        if sheet.totals is not None:
            for c, v in enumerate(sheet.totals):
                if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(r, c, float(v), bold)
                elif v is not None:
                    ws.write_string(r, c, str(safe(str(v))), bold)
            r += 1
        for line in sheet.footer:
            r += 1
            ws.write_string(r, 0, str(line))
        sheet.count = n
        counts.append(n)
    wb.close()
    return counts


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template (inside the app) to PDF bytes with WeasyPrint."""

    html = render_template(template, **context)
    return HTML(string=html).write_pdf()


def write_pdf(path: str | Path, template: str, **context) -> None:
    Path(path).write_bytes(render_pdf(template, **context))


def send_tempfile(write, suffix: str, download_name: str):
    """Write an export to a temporary file (xlsxwriter cannot stream to HTTP), send it as an
    attachment and delete the file after the response. ``write(path)`` produces the file."""

    fd, name = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    path = Path(name)
    write(path)

    @after_this_request
    def _cleanup(response):
        path.unlink(missing_ok=True)
        return response

    return send_file(path, as_attachment=True, download_name=download_name, max_age=0)
