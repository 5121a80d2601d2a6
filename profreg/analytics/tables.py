"""Forecast and data-currency figures → translated tables (page, xlsx, csv)."""
from __future__ import annotations

from flask_babel import gettext as _

from ..i18n import fmt_period
from ..monitoring.tables import Table, name_of
from .forecast import need_by_specialty


def forecast_tables(fc: dict) -> list[Table]:
    qs = [fmt_period(q) for q in fc["quarters"]]  # "I квартал 2027 г.", never "2027Q1"
    totals = Table("totals", _("Projection by quarter"), [_("Indicator"), "", "", _("Base")] + qs)
    t = fc["totals"]
    totals.rows = [[_("Projected headcount"), "", "", *t["stock"]],
                   [_("Entries"), "", "", None, *t["entries"]],
                   [_("Exits (other than retirement)"), "", "", None, *t["exits"]],
                   [_("Retirements by age"), "", "", None, *t["retirements"]]]
    # specialties by name only: the register's own codes (THERAPY) are never shown (issue 15, item 5)
    need = Table("need", _("Need by specialty"),
                 ["", _("Specialty"), "", _("Vacant FTE (staffing tables)"),
                  _("Projected net loss of headcount"), _("Need")])
    for r in need_by_specialty(fc):
        need.rows.append(["", name_of(r["specialty_names"], r["specialty"]), "", r["vacant"],
                          r["projected_loss"], r["need"]])
    vac = Table("vacancies", _("Vacancies"), ["", _("Specialty"), "", _("Approved FTE"),
                                              _("Occupied FTE"), _("Vacant FTE")])
    for r in fc["vacancies"]["by_specialty"]:
        vac.rows.append(["", name_of(r["specialty_names"], r["specialty"]), "", r["approved"],
                         r["occupied"], r["vacant"]])
    vt = fc["vacancies"]["totals"]
    vac.totals = [_("Total"), "", "", vt["approved"], vt["occupied"], vt["vacant"]]
    cert = Table("certificates", _("Qualification confirmation calendar"),
                 ["", _("Specialty"), ""] + qs)
    for r in fc["certificates"]["by_specialty"]:
        cert.rows.append(["", name_of(r["specialty_names"], r["specialty"]), "", *r["counts"]])
    cert.totals = [_("Total"), "", "", *fc["certificates"]["totals"]]
    cats = fc.get("categories")  # forecasts frozen before qualification categories were counted lack it
    cat = Table("categories", _("Qualification categories ending (confirmation calendar)"),
                ["", _("Specialty"), ""] + qs)
    for r in (cats or {}).get("by_specialty", []):
        cat.rows.append(["", name_of(r["specialty_names"], r["specialty"]) if r["specialty"] else
                         _("No specialty"), "", *r["counts"]])
    if cats:
        cat.totals = [_("Total"), "", "", *cats["totals"]]
    cells = Table("cells", _("Method inputs by region and specialty"),
                  [_("Region"), _("Specialty"), "", _("Stock at base date"),
                   _("Entries in 12 months"), _("Exits in 12 months (not retirement)"), _("Mean stock"),
                   _("Entries per quarter"), _("Quarterly exit rate")]
                  + [f"{_('Reaching pension age')} {q}" for q in qs] + [f"{_('Projected headcount')} {q}" for q in qs])
    for c in fc["cells"]:
        cells.rows.append([f"{c['region']} {name_of(c['region_names'], c['region'])}",
                           name_of(c["specialty_names"], c["specialty"]), "", c["stock0"],
                           c["entries_year"], c["exits_year"], c["mean_stock"], c["entries_per_quarter"],
                           c["exit_rate"], *c["reaching_pension_age"], *c["stock"][1:]])
    return [totals, need, vac, cert, cat, cells]
