"""Exports of large queries written by PostgreSQL through ``COPY ... TO STDOUT``.

``write_query_xlsx``: the database renders the rows as worksheet XML; Python only wraps them in the
workbook parts and deflates them. ``write_query_csv``: the database writes the CSV itself.

Why: the whole-register export (300,000 workers) took 16 s with xlsxwriter — Python formatting one
cell at a time, about 18,000 rows/s — against 0.4 s for ``COPY`` of the same columns as CSV. Here
the per-cell work (escaping, formula neutralisation, date serials) happens in the database's C
code and the sheet costs about as much as the CSV (docs/performance.md). xlsxwriter stays the writer
for everything else (reports with headings, totals and several sheets, SQLite).

The CSV follows ``profreg.exports.csv_rows``: UTF-8 with BOM, the header row, text neutralised like
``safe``, dates as ISO ``YYYY-MM-DD``, ``labels`` columns in the reader's language.

The cells follow ``profreg.exports.write_xlsx``: text as inline strings, neutralised like ``safe``
(a leading ``= + - @`` tab or CR gets an apostrophe); dates as date serials shown dd.mm.yyyy;
numbers as numbers; ``labels`` columns (codes such as sex or status) as shared strings in the
reader's language. The sheet has a bold shaded header row, frozen, repeated on printed pages, A4
landscape fitted to the page width.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from flask import current_app, has_app_context
from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import Select

from . import csv_dialect

# The database escapes &, < and >. COPY's text format then escapes backslash and the control
# characters \b \f \n \r \t \v itself and passes the others through raw; Python turns those escapes
# into characters or references (``_unescape``) and drops the control characters XML 1.0 forbids.
_COPY_ESCAPE = re.compile(rb"\\([\\bfnrtv])")
_COPY_UNESCAPED = {b"\\": b"\\", b"n": b"&#10;", b"r": b"&#13;", b"t": b"&#9;", b"b": b"", b"f": b"", b"v": b""}
_INVALID_XML_BYTES = bytes(c for c in range(1, 32) if c not in (9, 10, 13))
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass
class Column:
    """One column: a SQL expression of the query, its header and how its cells are written."""

    expr: object
    header: str
    kind: str = "text"  # text | date | number | label
    width: int = 12
    labels: Mapping[str, str] = field(default_factory=dict)  # kind "label": stored code -> shown text


def _text_cell(expr):
    value = cast(expr, String)
    value = case((func.left(value, 1).in_(_FORMULA_PREFIXES), literal("'") + value), else_=value)
    # "_x0041_" in a cell means "A" to a spreadsheet (OOXML's escape): a literal "_x" is escaped too
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("_x", "_x005F_x")):
        value = func.replace(value, old, new)
    return literal('<c t="inlineStr"><is><t>') + value + literal("</t></is></c>")


def _unescape(match) -> bytes:
    return _COPY_UNESCAPED[match.group(1)]


def clean_block(block: bytes) -> bytes:
    """COPY text output (rows of worksheet XML, one per line) as XML: escapes undone, forbidden
    control characters dropped. Line breaks between rows stay: whitespace between elements."""
    if b"\\" in block:
        block = _COPY_ESCAPE.sub(_unescape, block)
    return block.translate(None, _INVALID_XML_BYTES)


def _cell(col: Column, shared: dict[str, int]):
    """SQL text of one cell (``<c/>`` when the value is NULL)."""
    if col.kind == "date":
        serial = cast(col.expr - literal(_EXCEL_EPOCH), String)
        xml = literal('<c s="2"><v>') + serial + literal("</v></c>")
    elif col.kind == "number":
        xml = literal("<c><v>") + cast(col.expr, String) + literal("</v></c>")
    elif col.kind == "label":
        whens = []
        for code, text in col.labels.items():
            index = shared.setdefault(str(text), len(shared))
            whens.append((col.expr == code, literal(f'<c t="s"><v>{index}</v></c>')))
        xml = case(*whens, else_=_text_cell(col.expr)) if whens else _text_cell(col.expr)
    else:
        xml = _text_cell(col.expr)
    return func.coalesce(xml, literal("<c/>"))


def row_xml(columns: Sequence[Column]):
    """SQL expression of one row's worksheet XML, and the shared strings (headers first, then the
    labels) its cells refer to."""
    shared: dict[str, int] = {str(c.header): i for i, c in enumerate(columns)}
    row = literal("<row>")
    for col in columns:
        row = row + _cell(col, shared)
    return row + literal("</row>"), list(shared)


def chunked_sql(query: Select, columns: Sequence[Column], key, dialect, step: int = 1000):
    """(SQL, parameters, shared strings): one text value per ``step`` values of the integer ``key``
    — the query's rows in key order as worksheet XML, concatenated in the database. Fewer, larger
    COPY messages: with one row per message (the database renders 300,000 workers in 0.4 s) Python
    needed 0.8 s just to receive them; in ranges of 256–4,000 keys the whole export takes 0.8–0.9 s."""
    row, shared = row_xml(columns)
    table = key.class_ if hasattr(key, "class_") else key.table
    # The ranges are ordered before the chunks are rendered (ORDER BY in the subquery, none outside):
    # each chunk is then sent as soon as it is made, instead of all of them after a final sort.
    lo = func.generate_series(
        func.coalesce(select(func.min(key)).select_from(table).scalar_subquery(), 0),
        func.coalesce(select(func.max(key)).select_from(table).scalar_subquery(), -1),
        step).label("lo")
    bounds = select(lo).order_by(lo).subquery("bounds")
    chunk = (query.with_only_columns(func.string_agg(row, aggregate_order_by(literal(""), key)))
             .where(key >= bounds.c.lo, key < bounds.c.lo + step).order_by(None).scalar_subquery())
    stmt = select(func.coalesce(chunk, literal(""))).select_from(bounds)
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), compiled.params, shared


def _col_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="styles.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
# cellXfs: 0 normal, 1 header (bold, shaded, bordered, wrapped), 2 date dd.mm.yyyy
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd.mm.yyyy"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border>'
    '</borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _sheet_name(title: str) -> str:
    return "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "Sheet"


def write_query_xlsx(path: str | Path, title: str, query: Select, columns: Sequence[Column], session, key) -> int:
    """Write the rows of ``query`` (PostgreSQL; its WHERE is kept, its columns are replaced by
    ``columns``) in the order of the integer column ``key`` as a one-sheet workbook at ``path``;
    returns the number of data rows."""
    sql, params, shared = chunked_sql(query, columns, key, session.get_bind().dialect)
    name = _sheet_name(title)
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
        f"'{escape(name.replace(chr(39), chr(39) * 2))}'!$1:$1</definedName></definedNames></workbook>")
    strings = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in shared)
    shared_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                  f'count="{len(shared)}" uniqueCount="{len(shared)}">{strings}</sst>')
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
                   for i, c in enumerate(columns))
    header = "".join(f'<c r="{_col_name(i)}1" s="1" t="s"><v>{i}</v></c>' for i in range(len(columns)))
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData><row r="1">{header}</row>\n')
    tail = ('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')

    rows = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for part, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                           ("xl/styles.xml", _STYLES), ("xl/sharedStrings.xml", shared_xml)):
            zf.writestr(part, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            raw = session.connection().connection.dbapi_connection
            # One COPY line per key range (its rows, in key order). Deflating a block runs in a
            # second thread while the database renders the next one (zlib releases the GIL).
            pending: deque = deque()
            with raw.cursor() as cur:
                _parallel(cur)
            with ThreadPoolExecutor(max_workers=1) as writer, raw.cursor() as cur, \
                    cur.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for block in copy:
                    block = bytes(block)
                    rows += block.count(b"</row>")
                    pending.append(writer.submit(lambda b: sheet.write(clean_block(b)), block))
                    while len(pending) > 8 or (pending and pending[0].done()):
                        pending.popleft().result()  # in order; raises the writer's error here
                while pending:
                    pending.popleft().result()
            sheet.write(tail.encode())
    return rows


def _csv_cell(col: Column, decimal_mark: str = "."):
    if col.kind == "date":
        return func.to_char(col.expr, "DD.MM.YYYY")  # as every page and export shows a date
    if col.kind == "number":  # as the csv writer writes a Decimal: its digits, the reader's decimal mark
        return col.expr if decimal_mark == "." else func.replace(cast(col.expr, String), ".", decimal_mark)
    value = cast(col.expr, String)
    value = case((func.left(value, 1).in_(_FORMULA_PREFIXES), literal("'") + value), else_=value)
    if col.kind == "label" and col.labels:
        return case(*[(col.expr == code, literal(str(text))) for code, text in col.labels.items()], else_=value)
    return value


def _parallel(cur) -> None:
    """A file is written in the background (the queue), where a parallel plan costs no user a core: the
    COPY gets ``EXPORT_PARALLEL_WORKERS`` (2) per query for its transaction, against the app sessions' 0
    (``POSTGRES_PARALLEL_WORKERS``). The association's CPD file: 1.8 s with them, 2.4 s without."""
    workers = str(current_app.config.get("EXPORT_PARALLEL_WORKERS", "2") or "").strip() if has_app_context() else ""
    if workers:
        cur.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)", (str(int(workers)),))


def write_query_csv(path: str | Path, query: Select, columns: Sequence[Column], session) -> int:
    """Write the rows of ``query`` (PostgreSQL; WHERE and ORDER BY kept, columns replaced by
    ``columns``) as CSV at ``path``; returns the number of data rows."""

    delimiter, decimal_mark = csv_dialect()
    stmt = query.with_only_columns(*[_csv_cell(c, decimal_mark).label(f"c{i}") for i, c in enumerate(columns)])
    compiled = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    head = io.StringIO()
    csv.writer(head, delimiter=delimiter).writerow([safe_header(c.header) for c in columns])
    raw = session.connection().connection.dbapi_connection
    with open(path, "wb") as fh, raw.cursor() as cur:
        _parallel(cur)
        fh.write(("\ufeff" + head.getvalue()).encode("utf-8"))
        with cur.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')",
                      compiled.params) as copy:
            for block in copy:
                fh.write(block)
        return cur.rowcount  # from the COPY command tag


def safe_header(text) -> str:
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text
