"""Data currency (rules 11-13): is the register kept up to date, per organization?

For each organization, over the workers holding an episode there on ``today``
(``Employment.running_on(today)``: hired by today and not ended; staff who start later are not counted yet):

* ``current`` — records updated or confirmed in the last N months (``Worker.touched_since``: the later of
  ``updated_at`` — the record or any of its records saved — and ``confirmed_at`` — HR confirmed it);
* ``incomplete`` — records missing a field rule 8 requires at entry (``workers.models.ENTRY_COLUMNS``:
  identity document type, number, issuer and date of issue, place of residence, place and date of
  registration) or without any education document in force;
* ``late`` / ``entries`` — episodes of the organization hired in the last N months and entered after
  rule 8's deadline (``workdays.services.late_entry_clause``) / all of them;
* ``no_end_date`` — workers holding a certificate without an end date.

Score (0-100) = mean of four shares: current, complete, entered on time (1 when no entries) and
workers without an open-ended certificate. Organizations are ranked by score (then by size); the
ministry also sees the regions ranked (``region_ranking``), a region the districts of its region
(``district_ranking``, rule 4.1: the organizations without a district on a "district not set" line).
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import String, and_, exists, func, or_, select

from .. import clock, replica
from ..certificates.models import Certificate
from ..dates import add_months
from ..education.models import EducationDocument
from ..extensions import db
from ..monitoring.services import Scope
from ..orgs.models import Organization
from ..reference.models import AdminUnit
from ..reference.services import names_by_id
from ..workdays.services import days, late_entry_clause
from ..workers.models import ENTRY_COLUMNS, Employment, Worker

#: What rule 8 requires at entry (the same columns ``workers.services.entry_errors`` requires), and
#: "education" for a record without an education document in force.
MANDATORY = ENTRY_COLUMNS
EDUCATION = "education"


def _has_education():
    return exists().where(EducationDocument.worker_id == Worker.id, EducationDocument.in_force)


def _lacks(name: str):
    column = getattr(Worker, name)
    if isinstance(column.type, String):
        # an empty or blank text is missing too: ``coalesce(trim(x), '') = ''``, written so that only a
        # text starting with a space is trimmed (a third of the country ranking's time went on trims)
        return or_(column.is_(None), column == "", and_(column.like(" %"), func.trim(column) == ""))
    return column.is_(None)


def _missing_clause():
    return or_(*(_lacks(c) for c in MANDATORY), ~_has_education())  # NOT EXISTS: index probe, not NOT IN


def incomplete_clause():
    """SQL on ``Worker``: the record lacks a field rule 8 requires at entry or an education document in
    force ("incomplete" of the data-currency figures; the dashboard's worklist counts the same)."""
    return _missing_clause()


def _missing(worker, has_education: bool) -> list[str]:
    """The entry fields ``worker`` lacks (column names, and ``EDUCATION``)."""
    out = [c for c in MANDATORY if getattr(worker, c) is None or str(getattr(worker, c)).strip() == ""]
    return out + ([] if has_education else [EDUCATION])


def _touched_since(since: datetime):
    return Worker.touched_since(since)


@replica.reading
def organization_currency(scope: Scope, months: int = 12, today: date | None = None) -> list[dict]:
    """One row per organization in scope, ranked by score (best first)."""
    today = today or clock.today()
    since_day = add_months(today, -months)
    since = datetime.combine(since_day, time(0, 0))
    # One row per (organization, worker) in post today, then one pass per organization: no DISTINCT
    # aggregates, and the two "has a record" flags as hash joins over the in-force rows instead of a
    # probe per worker (the whole country: ~300,000 pairs; docs/performance.md).
    held = (select(Employment.organization_id.label("org_id"), Employment.worker_id.label("worker_id"))
            .where(Employment.running_on(today), scope.covers(Employment.organization_id))
            .distinct().subquery("held"))
    educated = select(EducationDocument.worker_id).where(EducationDocument.in_force).distinct().subquery("educated")
    open_cert = (select(Certificate.worker_id).where(Certificate.in_force, Certificate.open_ended)
                 .distinct().subquery("open_cert"))
    # the worker's two flags; for the whole country worked out once per worker into a narrow table
    # (a materialized CTE), so the join holds three small columns, not the record's texts: the hash of
    # whole worker rows spilled to disk (0.75-0.95 s against 0.90-1.12 s at 300,000 workers). A region
    # reads its workers by the index instead (0.24-0.31 s; 0.45-0.49 s through the CTE).
    flags = select(Worker.id.label("id"), _touched_since(since).label("current"),
                   or_(*(_lacks(c) for c in MANDATORY)).label("lacks"))
    flags = flags.cte("flags").prefix_with("MATERIALIZED") if scope.org_ids() is None else flags.subquery("flags")
    missing = or_(flags.c.lacks, educated.c.worker_id.is_(None))
    rows = db.session.execute(
        select(held.c.org_id, func.count(),
               func.count().filter(flags.c.current),
               func.count().filter(missing),
               func.count().filter(open_cert.c.worker_id.isnot(None)))
        .select_from(held).join(flags, flags.c.id == held.c.worker_id)
        .outerjoin(educated, educated.c.worker_id == held.c.worker_id)
        .outerjoin(open_cert, open_cert.c.worker_id == held.c.worker_id)
        .group_by(held.c.org_id)).all()
    entries = late_entries_by_org(scope, since_day, today)
    # the scope's organizations as plain rows (the country: 2,000 ORM objects by a list of ids took 0.14 s)
    orgs = {o.id: o for o in db.session.execute(
        select(Organization.id, Organization.bin, Organization.name_kk, Organization.name_ru, Organization.name_en,
               Organization.region_id, Organization.district_id).where(scope.covers(Organization.id)))}
    regions = names_by_id(AdminUnit, [o.region_id for o in orgs.values()]
                          + [o.district_id for o in orgs.values() if o.district_id])
    out = []
    for org_id, total, current, missing, no_end_n in rows:
        n_entries, n_late = entries.get(org_id, (0, 0))
        out.append(_row(orgs[org_id], regions, total, current, missing, no_end_n, n_entries, n_late))
    counted = {r[0] for r in rows}  # (once: built per organization, it took 0.19 s for the country)
    for org_id, (n_entries, n_late) in entries.items():
        if org_id not in counted:
            out.append(_row(orgs[org_id], regions, 0, 0, 0, 0, n_entries, n_late))
    out.sort(key=lambda r: (-r["score"], -r["records"], r["bin"]))
    for i, r in enumerate(out, 1):
        r["rank"] = i
    return out


def _share(part, whole, empty=1.0):
    return part / whole if whole else empty


def _row(org, regions, total, current, missing, no_end_n, n_entries, n_late) -> dict:
    shares = (_share(current, total), _share(total - missing, total), _share(n_entries - n_late, n_entries),
              _share(total - no_end_n, total))
    reg = regions.get(org.region_id, {})
    dist = regions.get(org.district_id, {}) if org.district_id else {}
    return {"org_id": org.id, "bin": org.bin, "names": {"kk": org.name_kk, "ru": org.name_ru, "en": org.name_en},
            "region": reg.get("code", ""), "region_names": reg.get("names"),
            "district": dist.get("code", ""), "district_names": dist.get("names"), "records": total,
            "current": current, "current_share": round(100 * shares[0], 1), "incomplete": missing,
            "entries": n_entries, "late": n_late, "no_end_date": no_end_n,
            "score": round(100 * sum(shares) / 4, 1)}


def late_entries_by_org(scope: Scope, since: date, today: date) -> dict[int, tuple[int, int]]:
    """{organization id: (episodes hired since ``since``, of which entered late)}."""
    where = and_(Employment.hire_date >= since, Employment.hire_date <= today,
                 scope.covers(Employment.organization_id))

    def per_org(*more):
        return dict(db.session.execute(select(Employment.organization_id, func.count()).where(where, *more)
                                       .group_by(Employment.organization_id)).all())

    entries = per_org()
    late = per_org(late_entry_clause(days(since, today))) if entries else {}
    return {org: (n, late.get(org, 0)) for org, n in entries.items()}


def region_ranking(rows: list[dict], unit: str = "region") -> list[dict]:
    """Organizations' rows folded per region (for the ministry), or per district with ``unit="district"``
    (for a region: ``district_ranking``), ranked by the same score. The folded rows carry the unit's
    code and names as ``region`` / ``region_names`` (the ranking table's columns)."""
    agg: dict[str, dict] = {}
    for r in rows:
        a = agg.setdefault(r[unit], {"region": r[unit], "region_names": r[f"{unit}_names"], "records": 0,
                                     "current": 0, "incomplete": 0, "entries": 0, "late": 0,
                                     "no_end_date": 0, "organizations": 0})
        a["organizations"] += 1
        for k in ("records", "current", "incomplete", "entries", "late", "no_end_date"):
            a[k] += r[k]
    out = []
    for a in agg.values():
        shares = (_share(a["current"], a["records"]), _share(a["records"] - a["incomplete"], a["records"]),
                  _share(a["entries"] - a["late"], a["entries"]), _share(a["records"] - a["no_end_date"], a["records"]))
        a["current_share"] = round(100 * shares[0], 1)
        a["score"] = round(100 * sum(shares) / 4, 1)
        out.append(a)
    out.sort(key=lambda a: (-a["score"], a["region"]))
    for i, a in enumerate(out, 1):
        a["rank"] = i
    return out


def district_ranking(rows: list[dict]) -> list[dict]:
    """Organizations' rows folded per district (rule 4.1), ranked by score; the organizations without a
    district are folded on one line whose code is empty ("district not set")."""
    return region_ranking(rows, unit="district")


def worklist(org_id: int, months: int = 12, today: date | None = None, limit: int = 1000) -> list[dict]:
    """Workers of one organization whose record needs attention, oldest touch first (for hr_chief/org_head)."""
    today = today or clock.today()
    since_day = add_months(today, -months)
    since = datetime.combine(since_day, time(0, 0))
    has_edu = _has_education()
    no_end = exists().where(Certificate.worker_id == Worker.id, Certificate.in_force, Certificate.open_ended)
    in_org = Worker.id.in_(select(Employment.worker_id).where(Employment.organization_id == org_id,
                                                              Employment.running_on(today)))
    stale = ~_touched_since(since)
    q = (select(Worker, has_edu.label("has_edu"), no_end.label("no_end"))
         .where(in_org, or_(stale, _missing_clause(), no_end))
         .order_by(Worker.touched_at, Worker.id).limit(limit))
    late = dict(db.session.execute(
        select(Employment.worker_id, func.count())
        .where(Employment.organization_id == org_id, Employment.hire_date >= since_day, Employment.hire_date <= today,
               late_entry_clause(days(since_day, today)))
        .group_by(Employment.worker_id)).all())
    out = []
    for worker, edu, open_cert in db.session.execute(q):
        touched = worker.touched_at
        missing = _missing(worker, bool(edu))
        out.append({"worker": worker, "touched": touched, "stale": touched < since, "missing": missing,
                    "no_end_date": bool(open_cert), "late": late.pop(worker.id, 0)})
    return out
