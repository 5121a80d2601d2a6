"""Shared export writers (csv, xlsx, pdf): streaming where possible, neutralised against formula injection.

Every export in profreg goes through these functions:

* ``safe(value)`` — a text cell starting with ``= + - @`` (or tab / carriage return) gets a leading
  apostrophe, so spreadsheet programs show it as text instead of running it (OWASP CSV injection).
* ``csv_rows(headers, rows)`` — generator of UTF-8 (with BOM, so Excel opens Cyrillic) CSV chunks,
  for streamed HTTP responses; ``write_csv(path, headers, rows)`` writes a file. The reader's language
  (the request's, or the CLI's ``--lang``) sets the dialect Excel of that language opens without an
  import dialog: ``;`` between cells and a decimal comma for kk and ru, ``,`` and a decimal point for
  en (``csv_dialect``; docs/exports.md). Dates are dd.mm.yyyy, moments dd.mm.yyyy HH:MM in Almaty time.
* ``write_xlsx(path, sheets)`` — xlsxwriter in constant-memory mode (rows are written in order and
  flushed), with a title block, headers in bold, a frozen header row, column widths, long text wrapped,
  totals and print setup (A4 landscape, fit to one page wide, header row repeated on every page,
  page numbers in the footer), and lines under the table (a signature block).
* ``write_pdf(path, html)`` / ``render_pdf(template, **context)`` — WeasyPrint from a Jinja template;
  the templates pin DejaVu Sans, which has every Kazakh letter (ә ғ қ ң ө ұ ү һ і).
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from flask import after_this_request, render_template, send_file
from weasyprint import HTML

from ..i18n import current_lang, fmt_date, fmt_datetime, local_time

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


#: cell separator and decimal mark of a CSV file, by the reader's language: what Excel (and LibreOffice)
#: set to that language open in columns with a double click (a Russian Excel splits on ";" and reads
#: "1,5" as a number; an English one splits on "," and reads "1.5").
CSV_DIALECTS = {"kk": (";", ","), "ru": (";", ","), "en": (",", ".")}


def csv_dialect(lang: str | None = None) -> tuple[str, str]:
    """(delimiter, decimal mark) of the CSV files for ``lang`` (the current language by default)."""
    return CSV_DIALECTS.get(lang or current_lang(), CSV_DIALECTS["ru"])


def _csv_value(value, decimal_mark: str = "."):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (float, Decimal)):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        return text.replace(".", decimal_mark) if decimal_mark != "." else text
    if isinstance(value, int):
        return value
    return safe(str(value))


def csv_rows(headers: Sequence, rows: Iterable[Sequence], lang: str | None = None) -> Iterator[bytes]:
    """Stream CSV as UTF-8 with BOM, in chunks of about 64 KiB, in the dialect of ``lang``'s readers
    (the current language by default)."""
    delimiter, decimal_mark = csv_dialect(lang)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow([safe(str(h)) for h in headers])
    first = True
    for row in rows:
        writer.writerow([_csv_value(v, decimal_mark) for v in row])
        if buf.tell() > 65536:
            data = buf.getvalue()
            yield (("\ufeff" + data) if first else data).encode("utf-8")
            first = False
            buf.seek(0)
            buf.truncate()
    data = buf.getvalue()
    yield (("\ufeff" + data) if first else data).encode("utf-8")


def write_csv(path: str | Path, headers: Sequence, rows: Iterable[Sequence], lang: str | None = None) -> int:
    """Write a CSV file (the dialect of ``lang``'s readers); returns the number of data rows written."""
    count = 0

    def counted():
        nonlocal count
        for r in rows:
            count += 1
            yield r

    with open(path, "wb") as fh:
        for chunk in csv_rows(headers, counted(), lang):
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
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy", "valign": "top"})
    dt_fmt = wb.add_format({"num_format": "dd.mm.yyyy hh:mm", "valign": "top"})
    # long text wraps inside its column (a reason, an address) instead of running over the next ones
    text_fmt = wb.add_format({"text_wrap": True, "valign": "top"})
    num_fmt = wb.add_format({"valign": "top"})
    used: set = set()
    counts = []
    for sheet in sheets:
        ws = wb.add_worksheet(_sheet_name(sheet.title, used))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.set_footer("&C&P / &N")  # page numbers
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
                if isinstance(v, datetime):  # stored in UTC, read in Almaty time
                    ws.write_datetime(r, c, local_time(v).replace(tzinfo=None), dt_fmt)
                elif isinstance(v, date):
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, float, Decimal)):
                    ws.write_number(r, c, float(v), num_fmt)
                else:
                    ws.write_string(r, c, xml_text(str(safe(str(v)))), text_fmt)
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


# ------------------------------------------------------------------------- plain tables, fast
_XLSX_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '{sheets}</Types>')
_XLSX_SHEET_CT = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_XLSX_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_XLSX_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}'
            '</sheets></workbook>')
_XLSX_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                 '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'styles" Target="styles.xml"/></Relationships>')
# styles: 0 default, 1 date dd.mm.yyyy, 2 bold header (filled, wrapped), 3 wrapped text
_XLSX_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd\\.mm\\.yyyy"/></numFmts>'
                '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
                '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
                '<fills count="3"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill>'
                '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" '
                'applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>'
                '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
                '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                '</styleSheet>')
_EXCEL_EPOCH = date(1899, 12, 30)


def _column_letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_escape(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain_cell(ref: str, v, style_text: int = 3) -> str:
    if type(v) is str:
        text = _xml_escape("'" + v if v.startswith(FORMULA_PREFIXES) else v)
        if text[:1].isspace() or text[-1:].isspace():
            return f'<c r="{ref}" t="inlineStr" s="{style_text}"><is><t xml:space="preserve">{text}</t></is></c>'
        return f'<c r="{ref}" t="inlineStr" s="{style_text}"><is><t>{text}</t></is></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, datetime):
        v = v.date()
    if isinstance(v, date):
        return f'<c r="{ref}" s="1"><v>{(v - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(v, (int, float, Decimal)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    text = _xml_escape(str(safe(str(v))))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr" s="{style_text}"><is><t{space}>{text}</t></is></c>'


def write_plain_xlsx(path: str | Path, sheets: Sequence[Sheet]) -> list[int]:
    """A workbook of plain tables (a bold header row, then the rows: text, numbers, dates), streamed
    straight into the zip in constant memory. Some twenty times faster per cell than ``write_xlsx``
    (which formats pages for printing): for files of hundreds of thousands of rows, such as the report of a
    bulk import (docs/performance.md). Text is written as inline strings, never as formulas, and passes
    through ``safe`` like every export."""
    used: set = set()
    names = [_sheet_name(s.title, used) for s in sheets]
    counts = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _XLSX_CT.format(
            sheets="".join(_XLSX_SHEET_CT.format(n=i + 1) for i in range(len(sheets)))))
        zf.writestr("_rels/.rels", _XLSX_RELS)
        zf.writestr("xl/workbook.xml", _XLSX_WB.format(sheets="".join(
            f'<sheet name="{_xml_escape(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(names))))
        zf.writestr("xl/_rels/workbook.xml.rels", _XLSX_WB_RELS.format(rels="".join(
            f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))))
        zf.writestr("xl/styles.xml", _XLSX_STYLES)
        for i, sheet in enumerate(sheets):
            width = len(sheet.headers)
            letters = [_column_letters(c) for c in range(max(width, 1) + 64)]
            n = 0
            with zf.open(f"xl/worksheets/sheet{i + 1}.xml", "w", force_zip64=True) as raw:
                out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                out.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                          '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                          '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                          'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>')
                for c, h in enumerate(sheet.headers):
                    w = max(10, min(40, len(str(h)) + 2))
                    out.write(f'<col min="{c + 1}" max="{c + 1}" width="{w}" customWidth="1"/>')
                out.write('</cols><sheetData><row r="1">')
                out.write("".join(_plain_cell(f"{letters[c]}1", str(h), 2) for c, h in enumerate(sheet.headers)))
                out.write("</row>")
                r = 1
                for row in sheet.rows:
                    r += 1
                    n += 1
                    out.write(f'<row r="{r}">')
                    out.write("".join(_plain_cell(f"{letters[c]}{r}", v) for c, v in enumerate(row) if v is not None))
                    out.write("</row>")
                out.write("</sheetData></worksheet>")
                out.flush()
                out.detach()
            sheet.count = n
            counts.append(n)
    return counts
