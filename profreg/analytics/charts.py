"""Charts rendered on the server as inline SVG (no JavaScript, no CDN), each with its data table.

``chart_data(scope, today)`` gathers the figures with set-based SQL; the ``*_svg`` functions draw
them. Labels are escaped; the SVG is returned as ``Markup``.
"""
from __future__ import annotations

import math
from datetime import date, timedelta

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import and_, case, distinct, func, literal, select

from .. import clock, replica
from ..dates import add_months
from ..extensions import db
from ..i18n import fmt_month, fmt_number, fmt_period
from ..monitoring.services import Scope
from ..monitoring.sql import minus_years, year_month
from ..monitoring.tables import district_label, name_of
from ..orgs.models import Organization
from ..reference.models import AdminUnit
from ..reference.services import names_by_id
from ..workers.models import Employment, Worker
from .forecast import Quarter, certificate_calendar, next_quarter, vacancies

W, H, PAD_L, PAD_B, PAD_T = 720, 260, 60, 40, 20
COLORS = ("#2e6da4", "#c0392b", "#27ae60", "#e67e22")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0

    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _axes(ymax: float, title: str) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(title)}" style="width:100%;max-width:{W}px;font:11px sans-serif">']
    for i in range(5):
        y = PAD_T + (H - PAD_T - PAD_B) * i / 4
        val = ymax * (4 - i) / 4
        parts.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{PAD_L - 5}" y="{y + 4:.1f}" text-anchor="end">{fmt_number(round(val))}</text>')
    return parts


def _legend(names) -> str:
    return "".join(f'<rect x="{PAD_L + 150 * i}" y="{H - 12}" width="10" height="10" fill="{COLORS[i % 4]}"/>'
                   f'<text x="{PAD_L + 150 * i + 14}" y="{H - 3}">{escape(n)}</text>' for i, n in enumerate(names))


def line_svg(title: str, labels: list[str], series: list[tuple[str, list[float]]]) -> Markup:
    ymax = _nice_max(max((v for _n, vals in series for v in vals), default=0))
    parts = _axes(ymax, title)
    n = max(len(labels), 2)
    xs = [PAD_L + (W - PAD_L - 20) * i / (n - 1) for i in range(len(labels))]
    for k, (_name, vals) in enumerate(series):
        pts = " ".join(f"{x:.1f},{PAD_T + (H - PAD_T - PAD_B) * (1 - v / ymax):.1f}" for x, v in zip(xs, vals, strict=False))
        parts.append(f'<polyline fill="none" stroke="{COLORS[k % 4]}" stroke-width="2" points="{pts}"/>')
    for x, lab in zip(xs, labels, strict=False):
        parts.append(f'<text x="{x:.1f}" y="{H - PAD_B + 14}" text-anchor="middle">{escape(lab)}</text>')
    parts.append(_legend([s[0] for s in series]) + "</svg>")
    return Markup("".join(parts))


def bars_svg(title: str, labels: list[str], series: list[tuple[str, list[float]]]) -> Markup:
    ymax = _nice_max(max((v for _n, vals in series for v in vals), default=0))
    parts = _axes(ymax, title)
    slot = (W - PAD_L - 20) / max(len(labels), 1)
    bw = slot * 0.8 / max(len(series), 1)
    for i, lab in enumerate(labels):
        x0 = PAD_L + slot * i + slot * 0.1
        for k, (_name, vals) in enumerate(series):
            h = (H - PAD_T - PAD_B) * (vals[i] / ymax)
            parts.append(f'<rect x="{x0 + bw * k:.1f}" y="{H - PAD_B - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                         f'fill="{COLORS[k % 4]}"><title>{escape(lab)}: {vals[i]:,.1f}</title></rect>')
        parts.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{H - PAD_B + 14}" text-anchor="middle">'
                     f'{escape(lab[:18])}</text>')
    if len(series) > 1:
        parts.append(_legend([s[0] for s in series]))
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars_svg(title: str, labels: list[str], values: list[float], left: list[float] | None = None,
              names: tuple[str, str] = ("", "")) -> Markup:
    """Horizontal bars; with ``left`` a two-sided pyramid (left bars grow leftwards from the middle)."""
    row_h = 22
    height = PAD_T + row_h * len(labels) + 30
    vmax = _nice_max(max(values + (left or []), default=0))
    mid = W / 2 if left is not None else 200
    span = (W / 2 - 90) if left is not None else (W - 220)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" role="img" '
             f'aria-label="{escape(title)}" style="width:100%;max-width:{W}px;font:11px sans-serif">']
    for i, lab in enumerate(labels):
        y = PAD_T + row_h * i
        wv = span * values[i] / vmax
        parts.append(f'<rect x="{mid:.1f}" y="{y}" width="{wv:.1f}" height="{row_h - 4}" fill="{COLORS[1 if left is not None else 0]}">'
                     f'<title>{escape(lab)}: {values[i]:,.1f}</title></rect>')
        parts.append(f'<text x="{mid + wv + 4:.1f}" y="{y + 13}">{fmt_number(round(values[i]))}</text>')
        if left is not None:
            wl = span * left[i] / vmax
            parts.append(f'<rect x="{mid - wl:.1f}" y="{y}" width="{wl:.1f}" height="{row_h - 4}" fill="{COLORS[0]}">'
                         f'<title>{escape(lab)}: {left[i]:,.0f}</title></rect>')
            parts.append(f'<text x="{mid - wl - 4:.1f}" y="{y + 13}" text-anchor="end">{fmt_number(round(left[i]))}</text>')
            parts.append(f'<text x="10" y="{y + 13}">{escape(lab)}</text>')
        else:
            parts.append(f'<text x="{mid - 6:.1f}" y="{y + 13}" text-anchor="end">{escape(lab[:30])}</text>')
    if left is not None:
        parts.append(f'<text x="{mid - 10:.1f}" y="{height - 8}" text-anchor="end">{escape(names[0])}</text>'
                     f'<text x="{mid + 10:.1f}" y="{height - 8}">{escape(names[1])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------------------------- data
AGE_BANDS = [(20, 24), (25, 29), (30, 34), (35, 39), (40, 44), (45, 49), (50, 54), (55, 59), (60, 64), (65, 200)]


@replica.reading
def chart_data(scope: Scope, today: date | None = None, months: int = 12) -> dict:
    """Figures of the five charts for ``scope`` (set-based SQL)."""
    today = today or clock.today()
    first_month = add_months(today.replace(day=1), -(months - 1))
    month_ends = [add_months(first_month, k + 1) - timedelta(days=1) for k in range(months)]
    month_ends[-1] = min(month_ends[-1], today)
    in_scope = scope.covers(Employment.organization_id)
    trend = []
    for me in month_ends:  # one indexed count per month
        n = db.session.execute(select(func.count(distinct(Employment.worker_id)))
                               .where(Employment.held_at_end_of(me), in_scope)).scalar()
        trend.append((f"{me:%Y-%m}", n or 0))
    hires = dict(db.session.execute(select(year_month(Employment.hire_date), func.count())
                                    .where(Employment.hire_date >= first_month, Employment.hire_date <= today,
                                           in_scope).group_by(year_month(Employment.hire_date))).all())
    ends = dict(db.session.execute(select(year_month(Employment.end_date), func.count())
                                   .where(Employment.end_date >= first_month, Employment.end_date <= today,
                                          in_scope).group_by(year_month(Employment.end_date))).all())
    flows = [(lab, hires.get(lab, 0), ends.get(lab, 0)) for lab, _n in trend]
    band = case(*[(and_(Worker.birth_date <= minus_years(today, lo), Worker.birth_date > minus_years(today, hi + 1)),
                   literal(i)) for i, (lo, hi) in enumerate(AGE_BANDS)], else_=literal(-1))
    rows = db.session.execute(select(band, Worker.sex, func.count(distinct(Worker.id)))
                              .select_from(Employment).join(Worker, Worker.id == Employment.worker_id)
                              .where(Employment.held_at_end_of(today), in_scope).group_by(band, Worker.sex)).all()
    pyramid = {i: {"M": 0, "F": 0} for i in range(-1, len(AGE_BANDS))}
    for b, sex, n in rows:
        pyramid[int(b)][sex] += n
    q0 = next_quarter(today).next(-1)
    quarters = [q0.next(k) for k in range(8)]
    certs = certificate_calendar(quarters, today, scope)
    vac = vacancies(today, scope)
    districts = _by_district(scope, today) if scope.by_district else None
    return {"trend": trend, "flows": flows, "districts": districts,
            "pyramid": [(AGE_BANDS[i], pyramid[i]["M"], pyramid[i]["F"]) for i in range(len(AGE_BANDS))],
            "certificates": list(zip([q.label for q in quarters], certs["totals"], strict=True)),
            "vacancies": [(name_of(r["specialty_names"], r["specialty"]), r["vacant"])
                          for r in vac["by_specialty"] if r["vacant"] > 0][:15]}


def _by_district(scope: Scope, today: date) -> list[tuple[dict, int]]:
    """Headcount today per district of the scope (rule 4.1): each worker once, in the district of his
    first (lowest id) episode held today, so the bars add up to the headcount; the organizations
    without a district on the "district not set" bar, last."""
    first = (select(Employment.worker_id, func.min(Employment.id).label("episode_id"))
             .where(Employment.held_at_end_of(today), scope.covers(Employment.organization_id))
             .group_by(Employment.worker_id).subquery("first_held"))
    rows = db.session.execute(
        select(Organization.district_id, func.count()).select_from(first)
        .join(Employment, Employment.id == first.c.episode_id)
        .join(Organization, Organization.id == Employment.organization_id)
        .group_by(Organization.district_id)).all()
    names = names_by_id(AdminUnit, [d for d, _n in rows])
    out = [({"code": names.get(d, {}).get("code", ""), "names": names.get(d, {}).get("names"),
             "district_not_set": d is None}, n) for d, n in rows]
    return sorted(out, key=lambda x: (x[0]["district_not_set"], x[0]["code"]))


def age_label(band) -> str:
    lo, hi = band
    return f"{lo}+" if hi >= 200 else f"{lo}–{hi}"


def render_charts(data: dict) -> list[dict]:
    """[{title, svg, headers, rows}] for the template."""
    out = []
    # months and quarters in words of the reader's language, short on the axes (issue 15, item 5)
    data = {**data, "trend": [(fmt_month(m), n) for m, n in data["trend"]],
            "flows": [(fmt_month(m), a, b) for m, a, b in data["flows"]],
            "certificates": [(fmt_period(q), n) for q, n in data["certificates"]]}
    labels = [t[0] for t in data["trend"]]
    out.append({"title": _("Headcount at month end"),
                "svg": line_svg(_("Headcount at month end"), labels, [(_("Headcount"), [t[1] for t in data["trend"]])]),
                "headers": [_("Month"), _("Headcount")], "rows": data["trend"]})
    out.append({"title": _("Inflow and outflow"),
                "svg": bars_svg(_("Inflow and outflow"), [f[0] for f in data["flows"]],
                                [(_("Episodes started"), [f[1] for f in data["flows"]]),
                                 (_("Episodes ended"), [f[2] for f in data["flows"]])]),
                "headers": [_("Month"), _("Episodes started"), _("Episodes ended")], "rows": data["flows"]})
    pyr = list(reversed(data["pyramid"]))
    out.append({"title": _("Age pyramid"),
                "svg": hbars_svg(_("Age pyramid"), [age_label(p[0]) for p in pyr], [float(p[2]) for p in pyr],
                                 left=[float(p[1]) for p in pyr], names=(_("Men"), _("Women"))),
                "headers": [_("Age"), _("Men"), _("Women")],
                "rows": [(age_label(p[0]), p[1], p[2]) for p in data["pyramid"]]})
    out.append({"title": _("Certificates expiring per quarter"),
                "svg": bars_svg(_("Certificates expiring per quarter"), [c[0] for c in data["certificates"]],
                                [(_("Certificates"), [float(c[1]) for c in data["certificates"]])]),
                "headers": [_("Quarter"), _("Certificates")], "rows": data["certificates"]})
    if data.get("districts") is not None:
        dist = [(district_label(d), n) for d, n in data["districts"]]
        out.append({"title": _("Headcount by district"),
                    "svg": hbars_svg(_("Headcount by district"), [d[0] for d in dist], [float(d[1]) for d in dist]),
                    "headers": [_("District"), _("Headcount")], "rows": dist})
    out.append({"title": _("Vacancies by specialty"),
                "svg": hbars_svg(_("Vacancies by specialty"), [v[0] for v in data["vacancies"]],
                                 [float(v[1]) for v in data["vacancies"]]),
                "headers": [_("Specialty"), _("Vacant FTE")], "rows": data["vacancies"]})
    return out


__all__ = ["Quarter", "chart_data", "render_charts"]
