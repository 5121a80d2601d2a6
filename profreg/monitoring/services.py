"""The monthly monitoring report (rule 6) and its reporting calendar.

Everything is computed from the register (employment episodes, workers, certificates) with SQL
aggregates; nothing is typed in. Definitions (also in docs/monitoring.md):

* **period** ``YYYY-MM``; ``ms``/``me`` = first/last day of the month; due on the 10th of the next month.
* **registration**: episodes whose ``entered_at`` (Asia/Almaty) falls in the month; late or on time by
  rule 8's deadline (``workdays.services.late_entry_clause``). Measured against contracts too
  (``registration.contracts``, issue 20.7): the labour contracts of the state registry (the latest ESUTD
  extract of each employer, ``reconciliation``) that started in the month: registered within 3 working
  days of the contract start, late, or not at all (``reconciliation.registration.contract_registration``).
* **stock at month end**: episodes held at the end of ``me`` (``Employment.held_at_end_of(me)``: hired by
  ``me`` and still current on the next day; an episode whose last day is ``me`` has left the stock).
  Headcount = distinct workers, each attributed to
  their primary episode (first main episode, else first episode), so breakdowns add up to the
  total; FTE = sum of every episode's FTE where it is held.
* **migration**: an episode ending in the month whose worker starts an episode in *another* organization
  between its end date and ``TRANSFER_WINDOW_DAYS`` later, or whose transfer names the new episode
  (``workers.models.Transfer``, not cancelled; it may start before the old one ended), is a move; the move is within
  a region or between regions by the two organizations' regions. Episodes ended with the transfer
  category after which the worker holds no episode at all are transfers without a registered destination.
* **outflow**: an episode ending in the month (category not a transfer) after which the worker holds no
  episode (none running past its end date that started by ``end + TRANSFER_WINDOW_DAYS``): an exit
  from the register. Counted by the analytic category of the ending (leaves the sector, abroad,
  retirement, death, stays in the sector, not stated) and by the Labour Code ground (issue 20.6).
* **certificates** (workers in the stock at month end, counted by their primary episode), the state on
  the first day after the month (``me + 1``) as known at its end (certificates issued by ``me``):
  expiring = holds a certificate ``expiring_on(me + 1, known_on=me)``; expired = the latest certificate
  of a specialty (known on ``me``) ended within the month; blocked = holds a clinical position without a
  certificate ``valid_on(me + 1)`` issued by ``me``.

* **districts** (rule 4.1): a region's (or a district's) report breaks registration, headcount/FTE,
  outflow and certificates down by the organizations' districts (``by_district``); organizations
  without a district are on their own line (``district_not_set``), so the lines add up to the totals.
  A worker counted once (headcount, outflow) is counted in the district of the episode he is counted by
  (the primary episode; for outflow his first ending episode). Migration is not broken down by district.

Scope: ``Scope("country")``, ``Scope("region", admin_unit_id)``, ``Scope("district", admin_unit_id)``,
``Scope("org", organization_id)``; which scopes a user may read or submit is policy:
``access.report_scope_allowed``.
"""
from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import (
    and_,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from .. import access, clock, replica
from ..auth.models import User
from ..certificates.models import Certificate, warning_months
from ..clock import day_start_utc, local_date
from ..dates import days_after
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..notifications import services as notify
from ..orgs.models import Organization
from ..orgs.services import districts_select
from ..reconciliation.registration import contract_registration
from ..reference.models import AdminUnit, LabourCodeGround, OrganizationType, Position, Specialty
from ..reference.services import names_by_id
from ..reporting import frozen
from ..workdays.services import WorkingCalendar, due_day, late_entry_clause
from ..workers.models import (
    END_ABROAD,
    END_DEATH,
    END_IN_SECTOR,
    END_LEAVES_SECTOR,
    END_RETIREMENT,
    END_TRANSFER,
    TRANSFER_CANCELLED,
    Employment,
    Transfer,
    Worker,
)
from .models import (
    SCOPE_COUNTRY,
    SCOPE_DISTRICT,
    SCOPE_ORG,
    SCOPE_REGION,
    STATUS_SUBMITTED,
    MonitoringReport,
)
from .sql import AGE_GROUPS, age_group_case

TRANSFER_WINDOW_DAYS = 31
DUE_DAY = 10
SNAPSHOT_VERSION = 2  # 2: outflow by the category and the Labour Code ground (issue 20.6)

POSITION_GROUPS = ("doctor", "nurse", "pharmacist", "manager", "other")
SEXES = ("M", "F")
#: The outflow by the analytic category of the ending (issue 20.6); a transfer is migration, not outflow.
#: Snapshots of version 1 (before the split) counted "voluntary", "involuntary", "retirement", "death",
#: "emigration", "not_stated" by the old reasons' flags, and list ``by_reason``; they are shown as frozen.
OUTFLOW_CATEGORIES = (END_LEAVES_SECTOR, END_ABROAD, END_RETIREMENT, END_DEATH, END_IN_SECTOR, "not_stated")


# --------------------------------------------------------------------------------------------- scope
@dataclass(frozen=True)
class Scope:
    kind: str = SCOPE_COUNTRY
    id: int = 0

    def org_ids(self):
        """SELECT of organization ids in this scope, or None for the whole country."""
        if self.kind == SCOPE_COUNTRY:
            return None
        if self.kind == SCOPE_REGION:
            return select(Organization.id).where(Organization.region_id == self.id)
        if self.kind == SCOPE_DISTRICT:
            return select(Organization.id).where(Organization.district_id == self.id)
        return select(Organization.id).where(Organization.id == self.id)

    @property
    def by_district(self) -> bool:
        """Whether the report breaks its figures down by district (a region's or a district's)."""
        return self.kind in (SCOPE_REGION, SCOPE_DISTRICT)

    def covers(self, org_col):
        """SQL: the organization in ``org_col`` lies in this scope."""
        ids = self.org_ids()
        return true() if ids is None else org_col.in_(ids)

    def describe(self) -> dict:
        """Code and trilingual name of the scope (stored in snapshots)."""
        if self.kind == SCOPE_COUNTRY:
            return {"kind": self.kind, "id": 0, "code": "KZ", "names": None}
        unit = self.kind in (SCOPE_REGION, SCOPE_DISTRICT)
        obj = db.session.get(AdminUnit if unit else Organization, self.id)
        if obj is None:
            raise DomainError(_("Unknown region or organization."))
        code = obj.code if unit else obj.bin
        out = {"kind": self.kind, "id": self.id, "code": code,
               "names": {"kk": obj.name_kk, "ru": obj.name_ru, "en": obj.name_en}}
        if self.kind == SCOPE_DISTRICT and obj.parent is not None:
            out["region"] = {"code": obj.parent.code,
                             "names": {"kk": obj.parent.name_kk, "ru": obj.parent.name_ru, "en": obj.parent.name_en}}
        return out


def default_scope(user) -> Scope:
    """The widest scope a user reads by default (``access.default_report_scope``)."""
    return Scope(*access.default_report_scope(user))


def authorize(user, scope: Scope, action: str = access.LIST) -> bool:
    """May ``user`` perform ``action`` (list / create / submit / export) on reports of ``scope``?"""
    return access.report_scope_allowed(user, scope.kind, scope.id, action)


def require(user, scope: Scope, action: str = access.LIST) -> None:
    if not authorize(user, scope, action):
        raise NotAllowed(_("You may not see or change reports of this scope."))


# -------------------------------------------------------------------------------------------- period
def parse_period(period: str) -> tuple[date, date]:
    """'YYYY-MM' → (first day, last day); a translated error otherwise."""
    try:
        y, m = (int(p) for p in str(period).split("-"))
        start = date(y, m, 1)
    except (TypeError, ValueError):
        raise DomainError(_("The period must look like 2026-10 (year-month).")) from None
    if not 2000 <= y <= 2100:
        raise DomainError(_("The period must look like 2026-10 (year-month)."))
    return start, date(y, m, _cal.monthrange(y, m)[1])


def due_date(period: str) -> date:
    """The report for ``period`` is due on the 10th of the following month, moved to the next working
    day when the 10th is not one (``workdays.services.due_day``)."""
    _start, end = parse_period(period)
    nxt = end + timedelta(days=1)
    return due_day(nxt.replace(day=DUE_DAY))


def previous_period(today: date | None = None) -> str:
    today = today or clock.today()
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


# ------------------------------------------------------------------------------------- report figures
def _ref_rows(rows, model, measures) -> list[dict]:
    """Rows keyed by reference id → dicts with code/names and the measures, sorted by code."""
    names = names_by_id(model, [r[0] for r in rows])
    out = []
    for r in rows:
        item = dict(names.get(r[0], {"code": "", "names": None}))
        item.update({m: _num(v) for m, v in zip(measures, r[1:], strict=True)})
        out.append(item)
    return sorted(out, key=lambda x: (x["code"] == "", x["code"]))


def _district_rows(rows, measures) -> list[dict]:
    """Rows keyed by district id (None: the organizations without a district) → dicts as ``_ref_rows``;
    the "district not set" line is marked and comes last."""
    out = _ref_rows(rows, AdminUnit, measures)
    for r in out:
        r.pop("population", None)
        r["district_not_set"] = not r["code"]
    return out


def _num(v):
    if v is None:
        return 0
    if isinstance(v, int):
        return v
    return round(float(v), 2)


def _registration(ms: date, me: date, scope: Scope, cal: WorkingCalendar) -> dict:
    start_utc, end_utc = day_start_utc(ms), day_start_utc(me + timedelta(days=1))
    in_month = and_(Employment.entered_at >= start_utc, Employment.entered_at < end_utc,
                    scope.covers(Employment.organization_id))
    totals = {"entered": 0, "on_time": 0, "late": 0}
    measures = ("entered", "on_time", "late")

    def per(unit_col, *where):
        return dict(db.session.execute(
            select(unit_col, func.count())
            .select_from(Employment).join(Organization, Organization.id == Employment.organization_id)
            .where(in_month, *where).group_by(unit_col)).all())

    late_clause = late_entry_clause(select(distinct(Employment.hire_date)).where(in_month), calendar=cal)
    # rule 8 measured against the labour contracts of the state registry (issue 20.7): contracts that
    # started in the month, and whether (and when) the register got their episode
    contracts = contract_registration(ms, me, scope.covers, cal)
    entered = per(Organization.region_id)
    out = {"totals": totals, "by_region": [], "contracts": contracts}
    if scope.by_district:
        out["by_district"] = []
    if not entered:
        return out
    late = per(Organization.region_id, late_clause)
    by_region = _ref_rows([(r, n, n - late.get(r, 0), late.get(r, 0)) for r, n in entered.items()], AdminUnit,
                          measures)
    for r in by_region:
        r.pop("population", None)
        for k in totals:
            totals[k] += r[k]
    out["by_region"] = by_region
    if scope.by_district:
        d_entered = per(Organization.district_id)
        d_late = per(Organization.district_id, late_clause)
        out["by_district"] = _district_rows(
            [(d, n, n - d_late.get(d, 0), d_late.get(d, 0)) for d, n in d_entered.items()], measures)
    return out


def _stock_sections(ms: date, me: date, scope: Scope) -> tuple[dict, dict]:
    """Recordkeeping and certificates from one pass over the stock at month end.

    Each stock episode carries its dimensions, whether it is the worker's primary episode (the first
    main episode, else the first episode) and the worker's certificate flags (outer hash joins to three
    worker sets, and a per-worker aggregate for the primary episode and "holds a clinical position"), and
    is summed per value of each dimension (``_sums_per_dimension``: grouping sets on PostgreSQL).
    Worker counts are taken on the primary episode, so every breakdown adds up to the total.
    """
    expiring, expired, valid = (q.group_by(q.selected_columns[0]).subquery(n) for q, n in
                                zip(certificate_sets(ms, me), ("expiring", "expired", "valid"), strict=True))
    w = Employment.worker_id
    where = and_(Employment.held_at_end_of(me), scope.covers(Employment.organization_id))
    # per worker (hash aggregate, no sort): the primary episode = the first main episode, else the first
    # one; and whether any stock episode is in a clinical position
    per_worker = (select(w.label("worker_id"),
                         func.coalesce(func.min(case((Employment.is_main.is_(True), Employment.id))),
                                       func.min(Employment.id)).label("primary_id"),
                         func.max(case((Position.is_clinical.is_(True), 1), else_=0)).label("clinical"))
                  .select_from(Employment).join(Position, Position.id == Employment.position_id)
                  .where(where).group_by(w).subquery("per_worker"))
    district_col = [Organization.district_id.label("district_id")] if scope.by_district else []
    stock = (select(Employment.fte.label("fte"), Organization.region_id.label("region_id"), *district_col,
                    Organization.type_id.label("type_id"), Employment.specialty_id.label("specialty_id"),
                    Position.group.label("pgroup"), Worker.sex.label("sex"),
                    age_group_case(Worker.birth_date, me).label("age"),
                    case((per_worker.c.primary_id == Employment.id, 1), else_=0).label("rn"),
                    per_worker.c.clinical.label("clinical"),
                    case((expiring.c.worker_id.is_not(None), 1), else_=0).label("expiring"),
                    case((expired.c.worker_id.is_not(None), 1), else_=0).label("expired"),
                    case((valid.c.worker_id.is_(None), 1), else_=0).label("no_valid"))
             .select_from(Employment).join(Organization, Organization.id == Employment.organization_id)
             .join(Position, Position.id == Employment.position_id).join(Worker, Worker.id == w)
             .join(per_worker, per_worker.c.worker_id == w)
             .outerjoin(expiring, expiring.c.worker_id == w).outerjoin(expired, expired.c.worker_id == w)
             .outerjoin(valid, valid.c.worker_id == w).where(where).subquery("stock"))
    dims = ("region_id", "type_id", "specialty_id", "pgroup", "sex", "age") + (("district_id",) if district_col else ())
    first = stock.c.rn == 1
    measures = (func.sum(case((first, 1), else_=0)), func.sum(stock.c.fte),
                func.sum(case((and_(first, stock.c.expiring == 1), 1), else_=0)),
                func.sum(case((and_(first, stock.c.expired == 1), 1), else_=0)),
                func.sum(case((and_(first, stock.c.no_valid == 1, stock.c.clinical == 1), 1), else_=0)))
    per_dim, total = _sums_per_dimension(stock, dims, measures)
    folded: dict[str, dict] = dict(zip(dims, per_dim, strict=True))

    def rows_of(d, idx=(0, 1)):
        return [(k, *(v[i] for i in idx)) for k, v in folded[d].items()]

    by_region = _ref_rows(rows_of("region_id"), AdminUnit, ("headcount", "fte"))
    for r in by_region:
        pop = r.get("population")
        r["density"] = round(r["headcount"] * 10000 / pop, 2) if pop else None
    pop_rows = [r for r in by_region if r.get("population")]
    pop_total = sum(r["population"] for r in pop_rows)
    totals = {"headcount": total[0], "fte": round(total[1], 2),
              "density": round(sum(r["headcount"] for r in pop_rows) * 10000 / pop_total, 2) if pop_total else None}

    def keyed(d, order):
        got = folded[d]
        keys = [k for k in order if k in got] + sorted(k for k in got if k not in order)
        return [{"code": k, "headcount": got[k][0], "fte": round(got[k][1], 2)} for k in keys]

    recordkeeping = {"totals": totals, "by_region": by_region,
                     "by_org_type": _ref_rows(rows_of("type_id"), OrganizationType, ("headcount", "fte")),
                     "by_specialty": _ref_rows(rows_of("specialty_id"), Specialty, ("headcount", "fte")),
                     "by_position_group": keyed("pgroup", POSITION_GROUPS), "by_sex": keyed("sex", SEXES),
                     "by_age_group": keyed("age", AGE_GROUPS)}
    cert_regions = _ref_rows(rows_of("region_id", (2, 3, 4)), AdminUnit, ("expiring", "expired", "blocked"))
    for r in cert_regions:
        r.pop("population", None)
    certificates = {"totals": {"expiring": total[2], "expired": total[3], "blocked": total[4]},
                    "by_region": cert_regions, "warning_months": warning_months()}
    if scope.by_district:
        recordkeeping["by_district"] = _district_rows(rows_of("district_id"), ("headcount", "fte"))
        certificates["by_district"] = _district_rows(rows_of("district_id", (2, 3, 4)),
                                                     ("expiring", "expired", "blocked"))
    return recordkeeping, certificates


def _sums_per_dimension(stock, dims: tuple[str, ...], measures) -> tuple[list[dict], list]:
    """The ``measures`` of ``stock`` summed per value of each dimension (one dict per dimension: value ->
    [sums]) and in all ([sums]). On PostgreSQL, ``GROUPING SETS``: one pass, one small hash table per
    dimension, a few hundred rows back. Elsewhere (SQLite has no grouping sets) grouped by every
    dimension at once and folded here (the country has ~34,000 combinations)."""
    nd, nm = len(dims), len(measures)
    cols = [stock.c[d] for d in dims]
    per_dim: list[dict] = [{} for _ in dims]
    if db.session.get_bind().dialect.name == "postgresql":
        full = (1 << nd) - 1
        position = {full ^ (1 << (nd - 1 - i)): i for i in range(nd)}  # GROUPING(): 1 = not grouped by
        for row in db.session.execute(select(func.grouping(*cols), *cols, *measures)
                                      .group_by(func.grouping_sets(*cols))).all():
            i = position[row[0]]
            per_dim[i][row[1 + i]] = [v or 0 for v in row[1 + nd:]]
    else:
        for row in db.session.execute(select(*cols, *measures).group_by(*cols)).all():
            sums = row[nd:]
            for i in range(nd):
                acc = per_dim[i].get(row[i])
                if acc is None:
                    per_dim[i][row[i]] = [v or 0 for v in sums]
                else:
                    for j in range(nm):
                        acc[j] += sums[j] or 0
    total = [sum(v[j] for v in per_dim[0].values()) for j in range(nm)]  # every dimension covers every row
    return [{k: [int(v[0]), float(v[1]), *(int(x) for x in v[2:])] for k, v in d.items()} for d in per_dim], \
        [int(total[0]), float(total[1]), *(int(x) for x in total[2:])]


def _successor_id(e1):
    """Correlated scalar: the worker's next episode in another organization (the move's destination):
    one starting from ``e1``'s end date to ``TRANSFER_WINDOW_DAYS`` later, or the new episode of a
    transfer from ``e1`` (not cancelled), which may start before ``e1`` ended (the old organization
    entered a later end date). Either way the move is counted once, on ``e1``."""
    e2 = aliased(Employment)
    linked = exists().where(Transfer.from_employment_id == e1.id, Transfer.to_employment_id == e2.id,
                            Transfer.status != TRANSFER_CANCELLED)
    return (select(func.min(e2.id))
            .where(e2.worker_id == e1.worker_id, e2.id != e1.id, e2.organization_id != e1.organization_id,
                   e2.hire_date <= days_after(e1.end_date, TRANSFER_WINDOW_DAYS),
                   or_(e2.hire_date >= e1.end_date, linked))
            .correlate(e1).scalar_subquery())


def continuation_clause(e1):
    """SQL: after episode ``e1`` ends, the worker still (or soon again) holds an episode."""
    e3 = aliased(Employment)
    return exists().where(e3.worker_id == e1.worker_id, e3.id != e1.id,
                          e3.hire_date <= days_after(e1.end_date, TRANSFER_WINDOW_DAYS),
                          e3.current_on(days_after(e1.end_date, 1)))


def _migration(ms: date, me: date, scope: Scope) -> dict:
    e1, e2 = aliased(Employment), aliased(Employment)
    o1, o2 = aliased(Organization), aliased(Organization)
    moves = (select(e1.id.label("e1_id"), e1.organization_id.label("org1"), _successor_id(e1).label("e2_id"))
             .where(e1.end_date >= ms, e1.end_date <= me).subquery())
    ids = scope.org_ids()
    in1 = case((o1.id.in_(ids), 1), else_=0) if ids is not None else case((true(), 1))
    in2 = case((o2.id.in_(ids), 1), else_=0) if ids is not None else case((true(), 1))
    rows = db.session.execute(
        select(o1.region_id, o2.region_id, in1, in2, func.count())
        .select_from(moves).join(o1, o1.id == moves.c.org1).join(e2, e2.id == moves.c.e2_id)
        .join(o2, o2.id == e2.organization_id)
        .where(or_(in1 == 1, in2 == 1)).group_by(o1.region_id, o2.region_id, in1, in2)).all()
    totals = {"within_region_out": 0, "within_region_in": 0, "between_regions_out": 0,
              "between_regions_in": 0, "abroad": 0, "transfer_unmatched": 0}
    flows: dict[tuple, int] = {}
    for r1, r2, s1, s2, n in rows:
        kind = "within_region" if r1 == r2 else "between_regions"
        if s1:
            totals[f"{kind}_out"] += n
        if s2:
            totals[f"{kind}_in"] += n
        if r1 != r2:
            flows[(r1, r2)] = flows.get((r1, r2), 0) + n
    unmatched = db.session.execute(
        select(func.count()).select_from(e1)
        .where(e1.end_date >= ms, e1.end_date <= me, e1.end_category == END_TRANSFER,
               scope.covers(e1.organization_id), ~continuation_clause(e1))).scalar()
    totals["transfer_unmatched"] = unmatched or 0
    names = names_by_id(AdminUnit, [k for pair in flows for k in pair])
    flow_rows = sorted(({"from": names.get(a, {}).get("code", ""), "from_names": names.get(a, {}).get("names"),
                         "to": names.get(b, {}).get("code", ""), "to_names": names.get(b, {}).get("names"),
                         "count": n} for (a, b), n in flows.items()), key=lambda f: (f["from"], f["to"]))
    return {"totals": totals, "flows": flow_rows}


def _outflow(ms: date, me: date, scope: Scope) -> tuple[dict, int]:
    """Exits from the register in the month: episodes ending in it (category not a transfer) after which
    the worker holds no episode; counted by the analytic category of the ending (``end_category``, issue
    20.6) and by its Labour Code ground."""
    e1 = aliased(Employment)
    where = and_(e1.end_date >= ms, e1.end_date <= me, scope.covers(e1.organization_id),
                 or_(e1.end_category.is_(None), e1.end_category != END_TRANSFER), ~continuation_clause(e1))
    cats = dict.fromkeys(OUTFLOW_CATEGORIES, 0)
    for category, n in db.session.execute(select(e1.end_category, func.count(distinct(e1.worker_id)))
                                          .select_from(e1).where(where).group_by(e1.end_category)).all():
        cats[category if category in cats else "not_stated"] += n
    total = db.session.execute(select(func.count(distinct(e1.worker_id))).select_from(e1).where(where)).scalar() or 0
    rows = db.session.execute(select(e1.end_ground_id, func.count(distinct(e1.worker_id))).select_from(e1)
                              .where(where).group_by(e1.end_ground_id)).all()
    grounds = {x.id: x for x in db.session.execute(select(LabourCodeGround)).scalars()}
    by_ground = []
    for gid, n in rows:
        g = grounds.get(gid)
        by_ground.append({"code": g.code if g else "", "article": g.article if g else "",
                          "names": {"kk": g.name_kk, "ru": g.name_ru, "en": g.name_en} if g else None, "count": n})
    by_ground.sort(key=lambda x: (x["code"] == "", x["code"]))
    out = {"totals": {"total": total, **cats}, "by_ground": by_ground}
    if scope.by_district:
        # each worker once, in the district of his first (lowest id) ending episode, so the lines add up
        first = (select(e1.worker_id, func.min(e1.id).label("episode_id")).select_from(e1)
                 .where(where).group_by(e1.worker_id).subquery("first_exit"))
        rows = db.session.execute(
            select(Organization.district_id, func.count()).select_from(first)
            .join(Employment, Employment.id == first.c.episode_id)
            .join(Organization, Organization.id == Employment.organization_id)
            .group_by(Organization.district_id)).all()
        out["by_district"] = _district_rows(rows, ("total",))
    return out, cats[END_ABROAD]


def certificate_sets(ms: date, me: date):
    """(expiring, expired, valid) SELECTs of worker ids for the certificate figures of a month: the state on
    the first day after the month, as known at its end (certificates issued by ``me``)."""

    after = me + timedelta(days=1)
    expiring = select(Certificate.worker_id).where(Certificate.expiring_on(after, known_on=me))
    expired = select(Certificate.worker_id).where(Certificate.valid_until >= ms, Certificate.valid_until <= me,
                                                  Certificate.is_latest(known_on=me))
    valid = select(Certificate.worker_id).where(Certificate.valid_on(after), Certificate.issued_by(me))
    return expiring, expired, valid


def compute_report(period: str, scope: Scope, calendar: WorkingCalendar | None = None) -> dict:
    """All figures of the monthly report for ``period`` and ``scope`` (a JSON-ready dict)."""
    ms, me = parse_period(period)
    cal = calendar or WorkingCalendar.load()
    outflow, abroad = _outflow(ms, me, scope)
    recordkeeping, certificates = _stock_sections(ms, me, scope)
    migration = _migration(ms, me, scope)
    migration["totals"]["abroad"] = abroad
    return {
        "version": SNAPSHOT_VERSION,
        "period": period, "month_start": ms.isoformat(), "month_end": me.isoformat(),
        "due_date": due_date(period).isoformat(), "scope": scope.describe(),
        "computed_at": clock.utcnow_naive().isoformat(timespec="seconds"),
        "registration": _registration(ms, me, scope, cal),
        "recordkeeping": recordkeeping,
        "migration": migration,
        "outflow": outflow,
        "certificates": certificates,
    }


# ---------------------------------------------------------------------------------- reporting calendar
# Freezing, submission, resubmission and receipt are shared with the quarterly forecast and the answers
# to the authorized body's requests: ``reporting.frozen`` (one source of truth).
canonical_json, checksum_of = frozen.canonical_json, frozen.checksum_of
NOT_STARTED, DRAFT, ON_TIME, LATE = frozen.NOT_STARTED, frozen.DRAFT, frozen.ON_TIME, frozen.LATE
status_label = frozen.status_label


def get_report(period: str, scope: Scope) -> MonitoringReport | None:
    return db.session.execute(select(MonitoringReport).where(
        MonitoringReport.period == period, MonitoringReport.scope == scope.kind,
        MonitoringReport.scope_id == scope.id)).scalar_one_or_none()


def snapshot_of(report: MonitoringReport) -> dict:
    """The stored figures; a submitted snapshot is verified against its checksum."""
    return frozen.frozen_snapshot(report)


def _ended(period: str, today: date) -> None:
    _ms, me = parse_period(period)
    if today <= me:
        raise DomainError(_("The period has not ended yet: the report can be generated from %(day)s.",
                                day=(me + timedelta(days=1)).isoformat()))


def generate_draft(period: str, scope: Scope, user) -> MonitoringReport:
    """Compute the figures and store them as a draft (regenerating an existing draft)."""
    require(user, scope, access.CREATE)
    _ended(period, clock.today())
    report = get_report(period, scope) or MonitoringReport(period=period, scope=scope.kind, scope_id=scope.id)
    if report.status == STATUS_SUBMITTED:
        raise DomainError(_("This report has been submitted; resubmit it with a reason to change it."))
    return frozen.store_draft(report, compute_report(period, scope), user)


def submit(period: str, scope: Scope, user) -> MonitoringReport:
    """Freeze the draft as reviewed: checksum, who and when."""
    require(user, scope, access.SUBMIT)
    report = get_report(period, scope)
    if report is None:
        raise DomainError(_("Generate a draft before submitting."))
    if report.status == STATUS_SUBMITTED:
        raise DomainError(_("This report has already been submitted; resubmission needs a reason."))
    _ms, me = parse_period(period)
    if local_date(report.generated_at) <= me:
        raise DomainError(_("The draft was generated before the period ended; generate it again."))
    return frozen.freeze(report, user)


def resubmit(period: str, scope: Scope, user, reason: str) -> MonitoringReport:
    """Replace a submitted report with freshly computed figures; needs a reason; keeps history."""
    require(user, scope, access.SUBMIT)
    frozen.clean_reason(reason)
    report = get_report(period, scope)
    if report is None or report.status != STATUS_SUBMITTED:
        raise DomainError(_("Only a submitted report can be resubmitted."))
    return frozen.refreeze(report, compute_report(period, scope), user, reason)


def submission_status(report: MonitoringReport | None, period: str, today: date | None = None) -> dict:
    """Status against the 10th: not started, draft, submitted on time, submitted late (+ overdue)."""
    return frozen.state(report, due_date(period), today)


def reports_due_step(today: date | None = None, batch: str | None = None) -> dict:
    """Sweep step: from the 1st of a month until its submission, the coordinators of every region whose
    report of the previous month is not submitted (and that has an active coordinator) get a notice (once per region and period; a
    coordinator who joins later gets it on the next sweep). Returns {'reports_due': regions}."""
    today = today or clock.today()
    period = previous_period(today)
    submitted = select(MonitoringReport.scope_id).where(MonitoringReport.period == period,
                                                         MonitoringReport.scope == SCOPE_REGION,
                                                         MonitoringReport.status == STATUS_SUBMITTED)
    coordinated = select(User.region_id).where(User.role == access.Role.REGION, User.district_id.is_(None),
                                               User.active.is_(True))
    regions = db.session.execute(select(AdminUnit.id).where(AdminUnit.level == 1, AdminUnit.id.not_in(submitted),
                                                            AdminUnit.id.in_(coordinated))
                                 .order_by(AdminUnit.id)).scalars().all()
    n = 0
    for region_id in regions:
        notify.notify_report_due(period, region_id)
        n += 1
    return {"reports_due": n}


def region_statuses(period: str, user, today: date | None = None) -> list[dict]:
    """Each region's report status for ``period``: every region for ministry, its own for region."""
    parse_period(period)
    regions = access.report_regions(user)
    if regions == []:
        return []
    q = select(AdminUnit).where(AdminUnit.level == 1).order_by(AdminUnit.code)
    if regions is not None:
        q = q.where(AdminUnit.id.in_(regions))
    regions = db.session.execute(q).scalars().all()
    reports = {r.scope_id: r for r in db.session.execute(select(MonitoringReport).where(
        MonitoringReport.period == period, MonitoringReport.scope == SCOPE_REGION)).scalars()}
    out = []
    for reg in regions:
        rep = reports.get(reg.id)
        out.append({"region": reg, "report": rep, **submission_status(rep, period, today)})
    return out


def report_for_display(period: str, scope: Scope, user, live: bool = False,
                       keep=None) -> tuple[dict, MonitoringReport | None]:
    """The figures to show: the stored report (frozen if submitted) unless ``live``; else computed now.
    ``keep(key, compute)`` (the report screen's ``memo.Memo.get``) may keep a region's or the country's
    computed figures a while; an organization's are always computed."""
    require(user, scope, access.LIST)
    parse_period(period)
    report = get_report(period, scope)
    if report is not None and not live:
        return snapshot_of(report), report
    with replica.reads():  # a live screen may lag by the replica's delay; a frozen snapshot is read above
        if keep is not None and scope.kind != SCOPE_ORG:  # (computed in the block: a refresh may run in a thread)
            return keep((period, scope, clock.today()), lambda: _live_report(period, scope)), report
        return compute_report(period, scope), report


@replica.reading
def _live_report(period: str, scope: Scope) -> dict:
    return compute_report(period, scope)


def scope_choices(user) -> list[tuple[str, str]]:
    """(value, label) pairs of the scopes a user may pick: 'country', 'region:<id>', 'org:<id>'."""
    kind, ident = access.default_report_scope(user)
    out: list[tuple[str, str]] = []
    if kind == SCOPE_COUNTRY and authorize(user, Scope(kind, ident)):
        out.append(("country", _("Kazakhstan (whole country)")))
        for reg in db.session.execute(select(AdminUnit).where(AdminUnit.level == 1).order_by(AdminUnit.code)).scalars():
            out.append((f"region:{reg.id}", f"{reg.code} {reg.name}"))
    elif kind == SCOPE_REGION and ident and authorize(user, Scope(kind, ident)):
        reg = db.session.get(AdminUnit, ident)
        out.append((f"region:{reg.id}", f"{reg.code} {reg.name}"))
        for d in db.session.execute(districts_select(reg.id)).scalars():
            out.append((f"district:{d.id}", f"{d.code} {d.name}"))
    elif kind == SCOPE_DISTRICT and ident and authorize(user, Scope(kind, ident)):
        d = db.session.get(AdminUnit, ident)
        out.append((f"district:{d.id}", f"{d.code} {d.name}"))
    elif kind == SCOPE_ORG and ident and authorize(user, Scope(kind, ident)):
        org = db.session.get(Organization, ident)
        out.append((f"org:{org.id}", f"{org.name} ({org.bin})"))
    return out


def parse_scope(value: str | None, user) -> Scope:
    """'country' / 'region:<id>' / 'org:<id>' (None → the user's default scope)."""
    if not value:
        return default_scope(user)
    kind, _sep, ident = value.partition(":")
    if kind == SCOPE_COUNTRY:
        return Scope(SCOPE_COUNTRY)
    if kind in (SCOPE_REGION, SCOPE_DISTRICT, SCOPE_ORG) and ident.isdigit() and 0 < int(ident) < 2 ** 31:
        # an id that exists (an unknown one used to fail deep inside the report with a server error)
        if kind == SCOPE_ORG:
            if db.session.get(Organization, int(ident)) is not None:
                return Scope(kind, int(ident))
        else:
            unit = db.session.get(AdminUnit, int(ident))
            if unit is not None and unit.level == (1 if kind == SCOPE_REGION else 2):
                return Scope(kind, int(ident))
    raise DomainError(_("Unknown region or organization."))


def scope_from_codes(region_kato: str | None = None, org_bin: str | None = None,
                     district_kato: str | None = None) -> Scope:
    """Scope from a KATO code (region or district) or a BIN (CLI)."""
    if district_kato:
        unit = db.session.execute(select(AdminUnit).where(AdminUnit.code == district_kato,
                                                          AdminUnit.level == 2)).scalar_one_or_none()
        if unit is None:
            raise DomainError(_("Unknown district."))
        return Scope(SCOPE_DISTRICT, unit.id)
    if org_bin:
        org = db.session.execute(select(Organization).where(Organization.bin == org_bin)).scalar_one_or_none()
        if org is None:
            raise DomainError(_("Unknown region or organization."))
        return Scope(SCOPE_ORG, org.id)
    if region_kato:
        reg = db.session.execute(select(AdminUnit).where(AdminUnit.code == region_kato,
                                                         AdminUnit.level == 1)).scalar_one_or_none()
        if reg is None:
            raise DomainError(_("Unknown region or organization."))
        return Scope(SCOPE_REGION, reg.id)
    return Scope(SCOPE_COUNTRY)


