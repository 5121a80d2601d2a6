"""Report figures (a snapshot dict) → translated tables, shared by the page, xlsx and csv exports.

Each section of the monthly report is one table whose first ``dims`` columns describe the row
(breakdown, code, item) and the rest are measures; the xlsx export writes one sheet per section,
the csv export writes every section in long form (section, breakdown, code, item, measure, value).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext

from ..exports import Sheet, csv_rows, write_xlsx
from ..i18n import current_lang, fmt_date, fmt_month
from ..workers.models import END_CATEGORY_LABELS


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    dims: int = 3
    totals: list | None = None


def name_of(names: dict | None, code: str = "") -> str:
    """Trilingual name stored in a snapshot, in the current language (ru as fallback)."""
    if not names:
        return code or _("not stated")
    return names.get(current_lang()) or names.get("ru") or code


def district_label(row: dict) -> str:
    """A district line's name; the organizations without a district are on the "district not set" line."""
    if row.get("district_not_set") or not row.get("code"):
        return _("District not set")
    return name_of(row.get("names"), row.get("code", ""))


def position_group_label(code: str) -> str:
    return {"doctor": _("Physicians"), "nurse": _("Nursing staff"), "pharmacist": _("Pharmacists"),
            "manager": _("Managers"), "other": _("Other staff")}.get(code, code)


def sex_label(code: str) -> str:
    return {"M": _("Men"), "F": _("Women")}.get(code, code)


def age_label(code: str) -> str:
    return {"<30": _("under 30"), "60+": _("60 and over")}.get(code, code)


def outflow_label(code: str) -> str:
    """The outflow categories: those of the ending (issue 20.6) and, for snapshots frozen before it, the
    categories of the old reasons' flags."""
    if code in END_CATEGORY_LABELS:
        return str(END_CATEGORY_LABELS[code])
    return {"voluntary": _("Voluntary"), "involuntary": _("Involuntary"), "emigration": _("Emigration"),
            "not_stated": _("Reason not stated"),
            "total": _("Total exits from the register")}.get(code, code)


def migration_label(code: str) -> str:
    return {"within_region_out": _("Transfers between organizations within a region (moves out)"),
            "within_region_in": _("Transfers between organizations within a region (moves in)"),
            "between_regions_out": _("Transfers to other regions"),
            "between_regions_in": _("Transfers from other regions"),
            "abroad": _("Departures abroad"),
            "transfer_unmatched": _("Transfers without a registered destination")}.get(code, code)


def scope_label(scope: dict) -> str:
    if scope.get("kind") == "country":
        return _("Kazakhstan (whole country)")
    label = f"{name_of(scope.get('names'), scope.get('code', ''))} ({scope.get('code', '')})"
    region = scope.get("region")
    if scope.get("kind") == "district" and region:
        label = f"{label}, {name_of(region.get('names'), region.get('code', ''))}"
    return label


def _share(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def report_tables(snap: dict) -> list[Table]:
    """The five sections of the monthly report as translated tables."""
    reg = snap["registration"]
    t_reg = Table("registration", _("Registration"),
                  [_("Breakdown"), _("Code"), _("Region or district") if "by_district" in reg else _("Region"),
                   _("Entered during the month"),
                   _("Within 3 working days"), _("Late"), _("On time, %")])
    for r in reg["by_region"]:
        t_reg.rows.append([_("Region"), r["code"], name_of(r["names"], r["code"]), r["entered"], r["on_time"],
                           r["late"], _share(r["on_time"], r["entered"])])
    for r in reg.get("by_district", ()):
        t_reg.rows.append([_("District"), r["code"], district_label(r), r["entered"], r["on_time"], r["late"],
                           _share(r["on_time"], r["entered"])])
    contracts = reg.get("contracts")  # snapshots frozen before issue 20.7 have no contracts
    if contracts is not None:
        t_reg.rows.append([_("Labour contracts (ESUTD)"), "",
                           _("Registered within 3 working days, measured against contracts"), contracts["contracts"],
                           contracts["on_time"], contracts["late"] + contracts["not_entered"],
                           _share(contracts["on_time"], contracts["contracts"])])
        t_reg.rows.append([_("Labour contracts (ESUTD)"), "", _("Contracts not entered in the register"),
                           contracts["not_entered"], None, None, None])
    tot = reg["totals"]
    t_reg.totals = [_("Total"), "", "", tot["entered"], tot["on_time"], tot["late"], _share(tot["on_time"], tot["entered"])]

    rk = snap["recordkeeping"]
    t_rk = Table("recordkeeping", _("Recordkeeping"),
                 [_("Breakdown"), _("Code"), _("Item"), _("Headcount at month end"), _("FTE at month end"),
                  _("Population"), _("Per 10,000 population")])
    for r in rk["by_region"]:
        t_rk.rows.append([_("Region"), r["code"], name_of(r["names"], r["code"]), r["headcount"], r["fte"],
                          r.get("population"), r.get("density")])
    for r in rk.get("by_district", ()):
        t_rk.rows.append([_("District"), r["code"], district_label(r), r["headcount"], r["fte"], None, None])
    # Only a region's or district's code (KATO, the national classifier) is shown: the register's own codes of
    # specialties, organization types, position groups, sexes and ages are never (issue 15, item 5).
    simple = (("by_org_type", _("Organization type"), lambda r: name_of(r["names"], r["code"])),
              ("by_specialty", _("Specialty"), lambda r: name_of(r["names"], r["code"])),
              ("by_position_group", _("Position group"), lambda r: position_group_label(r["code"])),
              ("by_sex", _("Sex"), lambda r: sex_label(r["code"])),
              ("by_age_group", _("Age group"), lambda r: age_label(r["code"])))
    for key, label, item in simple:
        for r in rk[key]:
            t_rk.rows.append([label, "", item(r), r["headcount"], r["fte"], None, None])
    tot = rk["totals"]
    t_rk.totals = [_("Total"), "", "", tot["headcount"], tot["fte"], None, tot.get("density")]

    mig = snap["migration"]
    t_mig = Table("migration", _("Migration"), [_("Breakdown"), _("From"), _("To"), _("Moves")])
    for code, n in mig["totals"].items():
        t_mig.rows.append([migration_label(code), "", "", n])
    for f in mig["flows"]:
        t_mig.rows.append([_("Between regions"), f"{f['from']} {name_of(f['from_names'], f['from'])}",
                           f"{f['to']} {name_of(f['to_names'], f['to'])}", f["count"]])

    out = snap["outflow"]
    t_out = Table("outflow", _("Outflow"), [_("Breakdown"), _("Code"), _("Item"), _("Workers")])
    if "by_ground" in out:  # version 2: the category of the ending and the Labour Code ground (issue 20.6)
        for code in ("leaves_sector", "abroad", "retirement", "death", "in_sector", "not_stated"):
            t_out.rows.append([_("Category of leaving"), "", outflow_label(code), out["totals"][code]])
        for r in out["by_ground"]:
            article = _("Labour Code, art. %(article)s", article=r["article"]) if r.get("article") else ""
            t_out.rows.append([_("Labour Code ground"), article, name_of(r["names"], _("not stated")), r["count"]])
    else:  # a snapshot frozen before the split keeps its own categories and reasons
        for code in ("voluntary", "involuntary", "retirement", "death", "emigration", "not_stated"):
            t_out.rows.append([_("Category"), "", outflow_label(code), out["totals"][code]])
        for r in out["by_reason"]:
            t_out.rows.append([_("Reason") + f" ({outflow_label(r['category'])})", "",
                               name_of(r["names"], _("not stated")), r["count"]])
    for r in out.get("by_district", ()):
        t_out.rows.append([_("District"), r["code"], district_label(r), r["total"]])
    t_out.totals = [_("Total"), "", outflow_label("total"), out["totals"]["total"]]

    cert = snap["certificates"]
    months = cert.get("warning_months", 2)  # snapshots before it was stored used 2
    t_cert = Table("certificates", _("Certificates"),
                   [_("Breakdown"), _("Code"), _("Region or district") if "by_district" in cert else _("Region"),
                    ngettext("Expiring within %(num)d month", "Expiring within %(num)d months", months),
                    _("Expired during the month"), _("Blocked (no valid certificate)")])
    for r in cert["by_region"]:
        t_cert.rows.append([_("Region"), r["code"], name_of(r["names"], r["code"]), r["expiring"], r["expired"],
                            r["blocked"]])
    for r in cert.get("by_district", ()):
        t_cert.rows.append([_("District"), r["code"], district_label(r), r["expiring"], r["expired"], r["blocked"]])
    tot = cert["totals"]
    t_cert.totals = [_("Total"), "", "", tot["expiring"], tot["expired"], tot["blocked"]]
    return [t_reg, t_rk, t_mig, t_out, t_cert]


def heading_lines(snap: dict, title: str, status_line: str | None = None) -> list[str]:
    lines = [title, f"{_('Period')}: {fmt_month(snap['period'])}  ·  {scope_label(snap['scope'])}",
             f"{_('Due date')}: {fmt_date(snap['due_date'])}"]
    if status_line:
        lines.append(status_line)
    return lines


def tables_to_xlsx(path: str | Path, tables: Sequence[Table], heading: Sequence[str] = ()) -> list[int]:
    """One sheet per table (section), headers in the current language."""
    sheets = [Sheet(t.title, t.headers, t.rows, heading=heading, totals=t.totals,
                    widths=[22, 12, 44] + [16] * (len(t.headers) - 3)) for t in tables]
    return write_xlsx(path, sheets)


def long_rows(tables: Sequence[Table]) -> Iterator[list]:
    """(section, breakdown, code, item, measure, value) rows."""
    for t in tables:
        rows = list(t.rows) + ([t.totals] if t.totals else [])
        for row in rows:
            dims = list(row[: t.dims]) + [""] * (3 - t.dims)
            for header, value in zip(t.headers[t.dims:], row[t.dims:], strict=False):
                if value is None:
                    continue
                yield [t.title, *dims[:3], header, value]


def long_headers() -> list[str]:
    return [_("Section"), _("Breakdown"), _("Code"), _("Item"), _("Measure"), _("Value")]


def tables_to_csv(path: str | Path, tables: Sequence[Table]) -> int:
    n = 0
    with open(path, "wb") as fh:
        for chunk in csv_rows(long_headers(), long_rows(tables)):
            fh.write(chunk)
            n += 1
    return n
