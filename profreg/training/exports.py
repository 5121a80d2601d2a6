"""Exports of a training list (xlsx, csv, pdf) and of the CPD assessment (xlsx), through the shared
writers in ``profreg.exports`` (formula-safe, BOM for csv, constant-memory xlsx, DejaVu Sans PDF).

Headers and reasons are rendered in the current language (the user's, or ``--lang`` in the CLI).
"""
from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from .. import exports
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, fmt_period
from ..reference.models import Specialty
from ..workers.models import Worker
from . import services
from .models import TrainingList, TrainingListItem

FORMATS = ("xlsx", "csv", "pdf")


def list_headers() -> list[str]:
    return [_("No."), _("IIN"), _("Full name"), _("Position"), _("Department"), _("Specialty"),
            _("Reasons"), _("Completed"), _("Hours")]


def list_rows(lst: TrainingList, names=None) -> list[list]:
    """The list's rows (removed workers left out), ordered by surname and name."""
    names = names or services.reference_names()
    q = (select(TrainingListItem, Worker).join(Worker, Worker.id == TrainingListItem.worker_id)
         .where(TrainingListItem.list_id == lst.id, TrainingListItem.removed.is_(False))
         .order_by(Worker.surname_key, Worker.name, Worker.id))
    rows = []
    for n, (item, worker) in enumerate(db.session.execute(q), start=1):
        rows.append([n, worker.iin, worker.full_name, names.get(("position", item.position_id), ""),
                     item.department or "", names.get(("specialty", item.specialty_id), ""),
                     services.reasons_text(item.reasons, names), item.completed_at,
                     item.cpd_record.hours if item.cpd_record is not None else None])
    return rows


def list_heading(lst: TrainingList) -> list[str]:
    org = lst.organization
    lines = [org.name, _("BIN: %(bin)s", bin=org.bin),
             _("List of employees for advanced training, period %(period)s", period=fmt_period(lst.period))]
    if lst.approved_at:
        lines.append(_("Approved on %(date)s", date=fmt_date(lst.approved_at)))
    else:
        lines.append(_("Draft (not approved)"))
    return lines


def signature_lines(lst: TrainingList) -> list[str]:
    """The signature block under the list: the head's name (``services.signatory``) beside the line
    to sign on (the date is written by hand when signed)."""
    head = services.signatory(lst)
    name = (head.full_name or head.email) if head is not None else ""
    return [_("Head of organization") + ": ____________________ " + (f"/ {name} /" if name else "/ ____________ /"),
            _("Date") + ": ____________"]


def write_list(lst: TrainingList, fmt: str, path: str | Path) -> int:
    """Write the list to ``path`` in ``fmt`` (xlsx, csv or pdf); returns the number of workers."""
    if fmt not in FORMATS:
        raise DomainError(_("Unknown export format."))
    rows = list_rows(lst)
    headers = list_headers()
    completed = sum(1 for r in rows if r[7] is not None)
    hours = sum((r[8] or 0) for r in rows)
    if fmt == "csv":
        exports.write_csv(path, headers, rows)  # ';' and a decimal comma for kk/ru readers, ',' for en
    elif fmt == "xlsx":
        totals = [_("Total"), None, _("Workers: %(n)s", n=len(rows)), None, None, None, None,
                  _("Completed: %(n)s", n=completed), hours]
        exports.write_xlsx(path, [exports.Sheet(title=fmt_period(lst.period), headers=headers, rows=rows,
                                                heading=list_heading(lst), totals=totals,
                                                widths=[5, 14, 32, 24, 18, 24, 60, 12, 8],
                                                footer=signature_lines(lst))])
    else:
        exports.write_pdf(path, "training/list_pdf.html", lst=lst, headers=headers,
                          rows=[[exports.safe(c) if isinstance(c, str) else c for c in r] for r in rows],
                          heading=list_heading(lst), completed=completed, hours=hours,
                          signature=signature_lines(lst))
    return len(rows)


def assessment_headers() -> list[str]:
    return [_("IIN"), _("Full name"), _("Region"), _("Specialty"), _("Cycle start"), _("Cycle end"),
            _("Hours"), _("Hours required"), _("Credits"), _("Credits required"), _("Hours missing"),
            _("Progress") + ", %"]


def write_assessment(user, filters: services.AssessmentFilters, path: str | Path) -> int:
    """The association's CPD assessment as xlsx (IINs masked), streamed in chunks."""
    spec_names = dict(db.session.execute(select(Specialty.id, Specialty.name_column())).all())

    def rows():
        for r in services.assessment_rows(user, filters):
            yield [r["iin"], r["full_name"], r["region"], spec_names.get(r["specialty_id"], ""), r["cycle_start"],
                   r["cycle_end"], r["hours"], r["hours_required"], r["credits"], r["credits_required"],
                   r["hours_deficit"], r["progress"]]

    sheet = exports.Sheet(title=_("CPD assessment"), headers=assessment_headers(), rows=rows(),
                          heading=[_("Continuous professional development: assessment")],
                          widths=[15, 32, 24, 26, 12, 12, 8, 10, 8, 10, 10, 10])
    (count,) = exports.write_xlsx(path, [sheet])
    return count
