"""Quarterly forecast (rule 7): cohort projection per region × specialty over 8 quarters, the
qualification-confirmation calendar and the staffing need (vacancies).

Method (shown on the page and in docs/monitoring.md). For the first projected quarter Q:

* base date ``b`` = the day before Q starts; stock ``S0`` = distinct workers of the cell (region of
  the organization × specialty of the episode) in the stock at the end of ``b``;
* observation window = the 12 months ending on ``min(b, today)``;
  ``E`` = episodes started in the window, ``X`` = episodes ended in the window for a reason other
  than retirement; ``S̄`` = mean of the stock before and at the end of the window;
* quarterly entries ``n = E / 4``; quarterly exit rate ``x = X / 4 / S̄`` (0 when ``S̄`` is 0);
* ``R⁰q`` = workers of the base stock whose pension date falls in quarter q (pension age: men 63;
  women 61 until 2027, then +0.5 year per year from 2028 to 63 in 2031; a woman retires on the first
  date on which her age reaches the age in force in that year); those already past it are not retired;
* ``Rq = R⁰q · (1 − x)^(q−1)`` (share of the cohort still there); ``Sq = S(q−1) + n − x·S(q−1) − Rq``
  (never below 0). Entrants are assumed not to reach pension age within the horizon.

Need: staffing lines (latest ``valid_from`` per organization × position × specialty, on or before
``b``) give approved FTE; occupied FTE = stock episodes on that line at ``b``; vacancy =
``max(approved − occupied, 0)`` per line. Projected need = vacancies + max(0, S0 − S8).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from .. import clock
from ..certificates.models import Certificate
from ..dates import add_months
from ..education.models import QualificationCategory
from ..errors import DomainError
from ..extensions import db
from ..monitoring.services import Scope
from ..monitoring.sql import minus_years
from ..orgs.models import Organization, StaffingPosition
from ..reference.models import AdminUnit, Specialty
from ..reference.services import names_by_id
from ..workers.models import END_RETIREMENT, Employment, Worker

HORIZON = 8
ZERO = literal_column("0")  # a literal, not a bound parameter: it appears in GROUP BY


# ----------------------------------------------------------------------------------- pension age
def pension_age(sex: str, year: int) -> float:
    """Statutory pension age in ``year``: men 63; women 61 until 2027, +0.5 a year from 2028, 63 from 2031."""
    if sex == "M":
        return 63.0
    if year <= 2027:
        return 61.0
    return min(63.0, 61.0 + 0.5 * (year - 2027))


def _add_age(birth: date, age: float) -> date:
    return add_months(birth, int(round(age * 12)))


def pension_date(birth: date, sex: str) -> date:
    """First date on which the worker's age reaches the pension age in force that year."""
    for age in (61.0, 61.5, 62.0, 62.5, 63.0):
        d = _add_age(birth, age)
        if pension_age(sex, d.year) <= age:
            return d
    return _add_age(birth, 63.0)


def birth_range(sex: str, first: date, last: date) -> tuple[date, date] | None:
    """Birth dates whose pension date falls in [first, last] (an interval: the map is monotonic)."""
    lo_b, hi_b = minus_years(first, 64), minus_years(last, 60)

    def search(pred):  # smallest birth in [lo_b, hi_b] with pred true (pred monotonic false→true)
        lo, hi = lo_b.toordinal(), hi_b.toordinal() + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(date.fromordinal(mid)):
                hi = mid
            else:
                lo = mid + 1
        return lo

    start = search(lambda b: pension_date(b, sex) >= first)
    end = search(lambda b: pension_date(b, sex) > last) - 1
    if end < start:
        return None
    return date.fromordinal(start), date.fromordinal(end)


# -------------------------------------------------------------------------------------- quarters
@dataclass(frozen=True)
class Quarter:
    year: int
    q: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> date:
        return add_months(self.start, 3) - timedelta(days=1)

    def next(self, k: int = 1) -> Quarter:
        n = self.year * 4 + self.q - 1 + k
        return Quarter(n // 4, n % 4 + 1)


def parse_quarter(text: str) -> Quarter:
    """'2027Q1' → Quarter; a translated error otherwise."""
    t = str(text or "").strip().upper()
    try:
        y, q = t.split("Q")
        quarter = Quarter(int(y), int(q))
    except ValueError:
        raise DomainError(_("The quarter must look like 2027Q1.")) from None
    if not (1 <= quarter.q <= 4 and 2000 <= quarter.year <= 2100):
        raise DomainError(_("The quarter must look like 2027Q1."))
    return quarter


def next_quarter(today: date | None = None) -> Quarter:
    today = today or clock.today()
    return Quarter(today.year, (today.month - 1) // 3 + 1).next()


# ------------------------------------------------------------------------------------- figures
def _cell_counts(query) -> dict[tuple, float]:
    return {(r[0], r[1]): r[2] for r in db.session.execute(query)}


def _stock_by_cell(on: date, scope: Scope) -> dict[tuple, int]:
    return _cell_counts(
        select(Organization.region_id, Employment.specialty_id, func.count(distinct(Employment.worker_id)))
        .select_from(Employment).join(Organization, Organization.id == Employment.organization_id)
        .where(Employment.held_at_end_of(on), scope.covers(Employment.organization_id))
        .group_by(Organization.region_id, Employment.specialty_id))


def compute_forecast(quarter: str | Quarter, scope: Scope, today: date | None = None) -> dict:
    """The forecast for 8 quarters from ``quarter`` (JSON-ready dict with method inputs per cell)."""
    first = parse_quarter(quarter) if isinstance(quarter, str) else quarter
    today = today or clock.today()
    quarters = [first.next(k) for k in range(HORIZON)]
    base = first.start - timedelta(days=1)
    obs_end = min(base, today)
    obs_start = minus_years(obs_end, 1) + timedelta(days=1)
    in_scope = scope.covers(Employment.organization_id)
    org_join = (Organization, Organization.id == Employment.organization_id)
    cell = (Organization.region_id, Employment.specialty_id)

    s0 = _stock_by_cell(base, scope)
    s_before = _stock_by_cell(obs_start - timedelta(days=1), scope)
    s_after = _stock_by_cell(obs_end, scope)
    entries = _cell_counts(select(*cell, func.count()).select_from(Employment).join(*org_join)
                           .where(Employment.hire_date >= obs_start, Employment.hire_date <= obs_end, in_scope)
                           .group_by(*cell))
    exits = _cell_counts(select(*cell, func.count()).select_from(Employment).join(*org_join)
                         .where(Employment.end_date >= obs_start, Employment.end_date <= obs_end, in_scope,
                                or_(Employment.end_category.is_(None), Employment.end_category != END_RETIREMENT))
                         .group_by(*cell))

    # base-stock workers reaching pension age, per quarter (birth-date intervals per sex and quarter)
    whens = []
    for i, q in enumerate(quarters):
        for sex in ("M", "F"):
            rng = birth_range(sex, q.start, q.end)
            if rng:
                whens.append((and_(Worker.sex == sex, Worker.birth_date >= rng[0], Worker.birth_date <= rng[1]),
                              literal(i)))
    retire: dict[tuple, list[int]] = {}
    if whens:
        bucket = case(*whens, else_=literal(-1))
        rows = db.session.execute(
            select(*cell, bucket.label("b"), func.count(distinct(Employment.worker_id)))
            .select_from(Employment).join(*org_join).join(Worker, Worker.id == Employment.worker_id)
            .where(Employment.held_at_end_of(base), in_scope, bucket >= 0).group_by(*cell, bucket)).all()
        for reg, spec, b, n in rows:
            retire.setdefault((reg, spec), [0] * HORIZON)[int(b)] += n

    cells = sorted(set(s0) | set(entries) | set(exits) | set(retire), key=lambda k: (k[0] or 0, k[1] or 0))
    regions = names_by_id(AdminUnit, [c[0] for c in cells])
    specs = names_by_id(Specialty, [c[1] for c in cells])
    rows_out = []
    totals = {"stock": [0.0] * (HORIZON + 1), "retirements": [0.0] * HORIZON, "entries": [0.0] * HORIZON,
              "exits": [0.0] * HORIZON}
    for key in cells:
        proj = project(s0.get(key, 0), entries.get(key, 0), exits.get(key, 0),
                       (s_before.get(key, 0) + s_after.get(key, 0)) / 2, retire.get(key, [0] * HORIZON))
        reg, spec = regions.get(key[0], {}), specs.get(key[1], {})
        rows_out.append({"region": reg.get("code", ""), "region_names": reg.get("names"),
                         "specialty": spec.get("code", ""), "specialty_names": spec.get("names"), **proj})
        for i in range(HORIZON + 1):
            totals["stock"][i] += proj["stock"][i]
        for i in range(HORIZON):
            totals["retirements"][i] += proj["retirements"][i]
            totals["entries"][i] += proj["entries_per_quarter"]
            totals["exits"][i] += proj["exits"][i]
    totals = {k: [round(v, 1) for v in vals] for k, vals in totals.items()}
    return {
        "quarter": first.label, "quarters": [q.label for q in quarters],
        "quarter_bounds": [[q.start.isoformat(), q.end.isoformat()] for q in quarters],
        "base_date": base.isoformat(), "observation": [obs_start.isoformat(), obs_end.isoformat()],
        "scope": scope.describe(), "computed_at": clock.utcnow_naive().isoformat(timespec="seconds"),
        "cells": rows_out, "totals": totals,
        "by_specialty": _by_specialty(rows_out),
        "certificates": certificate_calendar(quarters, base, scope),
        "categories": category_calendar(quarters, base, scope),
        "vacancies": vacancies(base, scope),
    }


def project(s0: float, entries_year: float, exits_year: float, mean_stock: float, retire0: list[int]) -> dict:
    """The cohort recursion for one cell (see the module docstring); floats, rounded to 0.1 on output."""
    n = entries_year / 4.0
    x = exits_year / 4.0 / mean_stock if mean_stock else 0.0
    x = min(x, 1.0)
    stock, rets, outs = [float(s0)], [], []
    for q in range(HORIZON):
        prev = stock[-1]
        ret = retire0[q] * (1 - x) ** q
        out = x * prev
        stock.append(max(0.0, prev + n - out - ret))
        rets.append(ret)
        outs.append(out)
    return {"stock0": s0, "entries_year": entries_year, "exits_year": exits_year, "mean_stock": round(mean_stock, 1),
            "entries_per_quarter": round(n, 2), "exit_rate": round(x, 4), "reaching_pension_age": list(retire0),
            "stock": [round(v, 1) for v in stock], "retirements": [round(v, 1) for v in rets],
            "exits": [round(v, 1) for v in outs]}


def _by_specialty(cells: list[dict]) -> list[dict]:
    agg: dict[str, dict] = {}
    for c in cells:
        a = agg.setdefault(c["specialty"], {"specialty": c["specialty"], "specialty_names": c["specialty_names"],
                                            "stock": [0.0] * (HORIZON + 1)})
        a["stock"] = [x + y for x, y in zip(a["stock"], c["stock"], strict=True)]
    out = []
    for a in agg.values():
        a["stock"] = [round(v, 1) for v in a["stock"]]
        a["change"] = round(a["stock"][-1] - a["stock"][0], 1)
        out.append(a)
    return sorted(out, key=lambda a: (a["specialty"] == "", a["specialty"]))


def certificate_calendar(quarters: list[Quarter], base: date, scope: Scope) -> dict:
    """Certificates (latest per worker and specialty) of base-stock workers ending in each quarter."""

    stock_workers = select(Employment.worker_id).where(Employment.held_at_end_of(base),
                                                       scope.covers(Employment.organization_id))
    bucket = case(*[(and_(Certificate.valid_until >= q.start, Certificate.valid_until <= q.end), literal(i))
                    for i, q in enumerate(quarters)], else_=literal(-1))
    rows = db.session.execute(
        select(Certificate.specialty_id, bucket, func.count())
        .where(Certificate.valid_until >= quarters[0].start, Certificate.valid_until <= quarters[-1].end,
               Certificate.is_latest(), Certificate.worker_id.in_(stock_workers))
        .group_by(Certificate.specialty_id, bucket)).all()
    specs = names_by_id(Specialty, [r[0] for r in rows])
    by_spec: dict[int, list[int]] = {}
    for spec, b, n in rows:
        if b >= 0:
            by_spec.setdefault(spec, [0] * len(quarters))[int(b)] += n
    out = [{"specialty": specs.get(k, {}).get("code", ""), "specialty_names": specs.get(k, {}).get("names"),
            "counts": v} for k, v in by_spec.items()]
    out.sort(key=lambda a: a["specialty"])
    totals = [sum(r["counts"][i] for r in out) for i in range(len(quarters))]
    return {"by_specialty": out, "totals": totals}


def category_calendar(quarters: list[Quarter], base: date, scope: Scope) -> dict:
    """Qualification categories (rule 7's "timing of qualification confirmation" beyond the certificate)
    of base-stock workers whose ``valid_until`` falls in each quarter: categories in force, the latest
    awarded per worker and specialty (a renewed category replaces the earlier one), per specialty."""
    stock_workers = select(Employment.worker_id).where(Employment.held_at_end_of(base),
                                                       scope.covers(Employment.organization_id))
    later = aliased(QualificationCategory)
    renewed = select(later.id).where(
        later.worker_id == QualificationCategory.worker_id,
        func.coalesce(later.specialty_id, ZERO) == func.coalesce(QualificationCategory.specialty_id, ZERO),
        later.superseded_by_id.is_(None), later.annulled_at.is_(None),
        or_(later.award_date > QualificationCategory.award_date,
            and_(later.award_date == QualificationCategory.award_date, later.id > QualificationCategory.id))).exists()
    bucket = case(*[(and_(QualificationCategory.valid_until >= q.start, QualificationCategory.valid_until <= q.end),
                      literal(i)) for i, q in enumerate(quarters)], else_=literal(-1))
    rows = db.session.execute(
        select(QualificationCategory.specialty_id, bucket, func.count())
        .where(QualificationCategory.valid_until >= quarters[0].start,
               QualificationCategory.valid_until <= quarters[-1].end,
               QualificationCategory.superseded_by_id.is_(None), QualificationCategory.annulled_at.is_(None),
               ~renewed, QualificationCategory.worker_id.in_(stock_workers))
        .group_by(QualificationCategory.specialty_id, bucket)).all()
    specs = names_by_id(Specialty, [r[0] for r in rows if r[0] is not None])
    by_spec: dict[int | None, list[int]] = {}
    for spec, b, n in rows:
        if b >= 0:
            by_spec.setdefault(spec, [0] * len(quarters))[int(b)] += n
    out = [{"specialty": specs.get(k, {}).get("code", ""), "specialty_names": specs.get(k, {}).get("names"),
            "counts": v} for k, v in by_spec.items()]
    out.sort(key=lambda a: (a["specialty"] == "", a["specialty"]))
    totals = [sum(r["counts"][i] for r in out) for i in range(len(quarters))]
    return {"by_specialty": out, "totals": totals}


def vacancies(on: date, scope: Scope) -> dict:
    """Approved FTE (staffing tables) minus occupied FTE (stock episodes on the line) per specialty."""
    sp2 = aliased(StaffingPosition)
    key_spec = func.coalesce(StaffingPosition.specialty_id, ZERO)
    newer = select(sp2.id).where(
        sp2.organization_id == StaffingPosition.organization_id, sp2.position_id == StaffingPosition.position_id,
        func.coalesce(sp2.specialty_id, ZERO) == key_spec,
        or_(sp2.valid_from.is_(None), sp2.valid_from <= on),
        func.coalesce(sp2.valid_from, date(1900, 1, 1)) > func.coalesce(StaffingPosition.valid_from, date(1900, 1, 1)),
    ).exists()
    lines = (select(StaffingPosition.organization_id.label("org"), StaffingPosition.position_id.label("pos"),
                    key_spec.label("spec"), func.sum(StaffingPosition.approved_fte).label("approved"))
             .where(or_(StaffingPosition.valid_from.is_(None), StaffingPosition.valid_from <= on), ~newer,
                    scope.covers(StaffingPosition.organization_id))
             .group_by(StaffingPosition.organization_id, StaffingPosition.position_id, key_spec).subquery("lines"))
    occ = (select(Employment.organization_id.label("org"), Employment.position_id.label("pos"),
                  func.coalesce(Employment.specialty_id, ZERO).label("spec"), func.sum(Employment.fte).label("fte"))
           .where(Employment.held_at_end_of(on), scope.covers(Employment.organization_id))
           .group_by(Employment.organization_id, Employment.position_id, func.coalesce(Employment.specialty_id, ZERO))
           .subquery("occ"))
    occupied = func.coalesce(occ.c.fte, 0)
    vacancy = case((lines.c.approved > occupied, lines.c.approved - occupied), else_=0)
    rows = db.session.execute(
        select(lines.c.spec, func.sum(lines.c.approved), func.sum(occupied), func.sum(vacancy))
        .select_from(lines).outerjoin(occ, and_(occ.c.org == lines.c.org, occ.c.pos == lines.c.pos,
                                                occ.c.spec == lines.c.spec))
        .group_by(lines.c.spec)).all()
    specs = names_by_id(Specialty, [r[0] for r in rows])
    out = [{"specialty": specs.get(s, {}).get("code", ""), "specialty_names": specs.get(s, {}).get("names"),
            "approved": round(float(a or 0), 2), "occupied": round(float(o or 0), 2),
            "vacant": round(float(v or 0), 2)} for s, a, o, v in rows]
    out.sort(key=lambda r: (-r["vacant"], r["specialty"]))
    tot = {k: round(sum(r[k] for r in out), 2) for k in ("approved", "occupied", "vacant")}
    return {"by_specialty": out, "totals": tot}


def need_by_specialty(fc: dict) -> list[dict]:
    """Vacancies plus the projected net loss of headcount over the horizon, per specialty."""
    vac = {r["specialty"]: r for r in fc["vacancies"]["by_specialty"]}
    out = []
    for s in fc["by_specialty"]:
        v = vac.get(s["specialty"], {})
        loss = max(0.0, s["stock"][0] - s["stock"][-1])
        out.append({"specialty": s["specialty"], "specialty_names": s["specialty_names"],
                    "vacant": v.get("vacant", 0.0), "projected_loss": round(loss, 1),
                    "need": round(v.get("vacant", 0.0) + loss, 1)})
    seen = {o["specialty"] for o in out}
    for code, v in vac.items():
        if code not in seen:
            out.append({"specialty": code, "specialty_names": v["specialty_names"], "vacant": v["vacant"],
                        "projected_loss": 0.0, "need": v["vacant"]})
    return sorted(out, key=lambda r: (-r["need"], r["specialty"]))
