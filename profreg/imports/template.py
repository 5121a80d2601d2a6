"""The import template: one sheet per kind with the headers in the chosen language and an example
row, a sheet of the allowed reference values, and data-validation lists on the reference columns."""
from __future__ import annotations

import xlsxwriter
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..reference import models as reference
from ..workers.models import END_CATEGORY_LABELS
from .columns import COLUMNS, EDUCATION_KIND_LABELS, ENDING, KIND, REF, SEX, WORKER_KINDS, Column, kind_label

#: Rows of the template that carry data validation (an Excel limit is far above it).
VALIDATED_ROWS = 5000


def _ref_values(model_name: str, lang: str) -> list[tuple[str, str]]:
    model = getattr(reference, model_name)
    rows = db.session.execute(select(model).where(model.is_active.is_(True)).order_by(model.code)).scalars()
    return [(row.code, getattr(row, f"name_{lang}") or row.name_ru) for row in rows]


def write_template(path, kinds, lang: str) -> None:
    """Write the template of ``kinds`` (one sheet each) in ``lang`` to ``path``."""
    with force_locale(lang):
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                             "strings_to_urls": False})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        required = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True})
        text = wb.add_format({"num_format": "@"})
        sheets = {kind: wb.add_worksheet(kind_label(kind, lang)[:31]) for kind in kinds}
        values = wb.add_worksheet(str(_l("Allowed values"))[:31])
        # the allowed values: one pair of columns (code, name) per classifier, then sex and education kind
        lists: dict[str, str] = {}
        col = 0
        refs = sorted({c.ref for kind in kinds for c in COLUMNS[kind] if c.type == REF})
        extra = {"__sex": [("M", str(_l("Male"))), ("F", str(_l("Female")))],
                 "__kind": [(k, str(v)) for k, v in EDUCATION_KIND_LABELS.items()],
                 "__ending": [(k, str(v)) for k, v in END_CATEGORY_LABELS.items()]}
        # only the lists the kinds' columns use (a staffing template has no sex or education kind)
        used = {c.type for kind in kinds for c in COLUMNS[kind]}
        extra = {name: pairs for name, pairs in extra.items()
                 if {"__sex": SEX, "__kind": KIND, "__ending": ENDING}[name] in used}
        for name in [*refs, *extra]:
            pairs = extra[name] if name in extra else _ref_values(name, lang)
            title = str(_ref_title(name))
            values.write_string(0, col, title, head)
            values.write_string(0, col + 1, str(_l("Name")), head)
            for r, (code, label) in enumerate(pairs, start=1):
                values.write_string(r, col, code)
                values.write_string(r, col + 1, label)
            letter = xlsxwriter.utility.xl_col_to_name(col)
            lists[name] = f"='{values.get_name()}'!${letter}$2:${letter}${max(len(pairs), 1) + 1}"
            values.set_column(col, col, 18)
            values.set_column(col + 1, col + 1, 40)
            col += 3
        for kind, ws in sheets.items():
            for c, column in enumerate(COLUMNS[kind]):
                ws.write_string(0, c, str(column.label) + (" *" if column.required else ""),
                                required if column.required else head)
                ws.set_column(c, c, max(14, len(str(column.label)) + 4), text)
                ws.write_string(1, c, str(column.example or ""))
                source = _validation(column, lists)
                if source:
                    ws.data_validation(1, c, VALIDATED_ROWS, c, {"validate": "list", "source": source,
                                                                   "error_type": "warning"})
            ws.freeze_panes(1, 0)
        wb.close()


def _validation(column: Column, lists: dict) -> str | None:
    if column.type == REF:
        return lists.get(column.ref)
    if column.type == SEX:
        return lists.get("__sex")
    if column.key == "kind":
        return lists.get("__kind")
    if column.type == ENDING:
        return lists.get("__ending")
    return None


_REF_TITLES = {"Country": _l("Citizenship"), "IdentityDocumentType": _l("Identity document"),
               "Position": _l("Position"), "Specialty": _l("Specialty"), "EducationLevel": _l("Level of education"),
               "TrainingActivityType": _l("Type of activity"), "__sex": _l("Sex"), "__kind": _l("Kind of education"),
               "LabourCodeGround": _l("Labour Code ground"), "__ending": _l("Category of leaving")}


def _ref_title(name: str):
    return _REF_TITLES.get(name, name)


def template_kinds(kind: str) -> tuple[str, ...]:
    """The sheets of a template: ``all`` is the four kinds of a worker's record (the HR file); the
    staffing table, for other users and not tied to a worker, has a template of its own."""
    return WORKER_KINDS if kind == "all" else (kind,)
