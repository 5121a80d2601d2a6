"""Reconciliation of the register with state registries (issue 20.7, docs/reconciliation.md).

* ``reconcile(adapter, actor=...)``: reads the adapter's records and compares them with the register for
  the organizations of the extract inside the actor's scope (``access.org_in_scope``):

  - labour contracts (ESUTD): a contract with no episode of the worker in the employer's organization
    overlapping it → *contract not entered* (the days overdue are the working days past rule 8's
    deadline counted from the contract start, ``workdays.services.working_days_overdue``); an episode
    held today in an organization of the extract with no contract → *employment without a contract*;
    a contract that ended before today while its episode is still open (or ends later) → *dismissal
    not entered*. The contracts are kept per employer (the latest extract replaces the previous one):
    the monthly report measures the 3-working-day rule against them (``registration.contract_registration``).
  - certificates (an issuer's registry): for a registered worker in post in an organization of the
    scope, a certificate number missing from his record → *certificate missing*; recorded with another
    specialty, date of issue or end date → *certificate differs*.

  Each discrepancy is an item of the organization's worklist (``Discrepancy``). An item found again by a
  later run stays the same item; an open item the new run no longer finds is closed.
* ``recheck(user)``: the open items of the user's scope checked against the register again (after HR
  hired, ended or added through the item's one-click action), resolved when the register now agrees.
* ``end_from_item(item, actor, ...)``: the "end the episode" action, through ``workers.services.end_employment``.

Services flush, never commit (the request, the CLI command or the job commits once)."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from .. import access, clock
from ..certificates.models import Certificate
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..imports.columns import norm
from ..orgs.models import Organization
from ..workdays.services import WorkingCalendar, working_days_overdue
from ..workers.models import Employment, Worker
from ..workers.services import end_employment
from .adapters import CertificateRecord, ContractRecord, RowProblem
from .models import (
    CERTIFICATE_DIFFERS,
    CERTIFICATE_MISSING,
    CLOSED,
    CONTRACT_MISSING,
    DISMISSAL_MISSING,
    NO_CONTRACT,
    OPEN,
    RESOLVED,
    SOURCE_CERTIFICATES,
    SOURCE_ESUTD,
    Discrepancy,
    ReconciliationRun,
    RegistryContract,
)

MAX_PROBLEMS = 200  # rejected rows kept on the run (the count is complete)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class _Scope:
    """The organizations of the actor's scope met in the extract (by BIN), asked once each."""

    actor: object
    by_bin: dict = field(default_factory=dict)

    def org(self, bin_: str):
        if bin_ not in self.by_bin:
            org = db.session.execute(select(Organization).where(Organization.bin == bin_)).scalar_one_or_none()
            self.by_bin[bin_] = org if org is not None and access.org_in_scope(self.actor, org.id) else None
        return self.by_bin[bin_]


CHUNK = 5000  # IINs per query (SQLite caps the number of bound parameters)


def _workers(iins: set[str]) -> dict:
    """The registered workers (not annulled) of these IINs, by IIN, asked in chunks."""
    out, ordered = {}, sorted(iins)
    for i in range(0, len(ordered), CHUNK):
        out.update((w.iin, w) for w in db.session.execute(select(Worker).where(
            Worker.iin.in_(ordered[i:i + CHUNK]), Worker.annulled_at.is_(None))).scalars())
    return out


def _overlaps(e: Employment, start: date, end: date | None) -> bool:
    return (end is None or e.hire_date <= end) and (e.end_date is None or e.end_date >= start)


def _key(item) -> tuple:
    """What makes two runs' items the same item."""
    return (item.kind, item.organization_id, item.iin, item.start_date, item.employment_id,
            norm(item.number) if item.number else None)


class _Items:
    """The items a run finds, merged with the open items of the organizations it covers."""

    def __init__(self, run: ReconciliationRun, source: str):
        self.run, self.source = run, source
        self.found: list[Discrepancy] = []

    def add(self, **kw) -> None:
        self.found.append(Discrepancy(source=self.source, status=OPEN, **kw))

    def merge(self, org_ids: set, iins: set | None = None) -> None:
        """Keep the open items found again, close those not found again, add the new ones."""
        old = {}
        orgs = sorted(org_ids)
        for i in range(0, len(orgs), CHUNK):
            q = select(Discrepancy).where(Discrepancy.source == self.source, Discrepancy.status == OPEN,
                                          Discrepancy.organization_id.in_(orgs[i:i + CHUNK]))
            for d in db.session.execute(q).scalars():
                if iins is None or d.iin in iins:
                    old[_key(d)] = d
        now = clock.utcnow_naive()
        kept = 0
        for item in self.found:
            existing = old.pop(_key(item), None)
            if existing is not None:
                existing.run_id, existing.differences = self.run.id, item.differences
                kept += 1
            else:
                item.run_id = self.run.id
                db.session.add(item)
        for stale in old.values():
            stale.status, stale.resolved_at = CLOSED, now
        self.run.items_found = len(self.found)
        self.run.items_closed = len(old)


def reconcile(adapter, *, actor, file_name: str | None = None, today: date | None = None) -> ReconciliationRun:
    """Reconcile the register with the adapter's records as ``actor`` (who needs C on ``reconciliation``).
    Returns the run (flushed); a file refused as a whole raises ``FileRefused`` and writes nothing."""
    access.require(actor, "reconciliation", access.CREATE)
    today = today or clock.today()
    path = getattr(adapter, "path", None)
    run = ReconciliationRun(source=adapter.source, user_id=getattr(actor, "id", None), as_of=today,
                            file_name=(file_name or getattr(adapter, "file_name", None) or "")[:255],
                            sha256=_sha256(path) if path is not None else "")
    records, problems = [], []
    for rec in adapter.records():
        (problems if isinstance(rec, RowProblem) else records).append(rec)
    run.rows_read = len(records) + len(problems)
    run.rows_rejected = len(problems)
    run.problems = "\n".join(f"{p.row}: {p.message}" for p in problems[:MAX_PROBLEMS]) or None
    db.session.add(run)
    db.session.flush()
    if adapter.source == SOURCE_ESUTD:
        _contracts(run, [r for r in records if isinstance(r, ContractRecord)], actor, today)
    else:
        _certificates(run, [r for r in records if isinstance(r, CertificateRecord)], actor, today)
    db.session.flush()
    return run


# ------------------------------------------------------------------------------------ labour contracts
def _contracts(run, records: list[ContractRecord], actor, today: date) -> None:
    scope = _Scope(actor)
    by_org: dict[int, list[ContractRecord]] = defaultdict(list)
    orgs = {}
    for rec in records:
        org = scope.org(rec.employer_bin)
        if org is None:
            run.rows_outside += 1
            continue
        by_org[org.id].append(rec)
        orgs[org.id] = org
    items = _Items(run, SOURCE_ESUTD)
    workers = _workers({r.iin for r in records})
    for org_id, contracts in by_org.items():
        org = orgs[org_id]
        episodes = db.session.execute(select(Employment).options(joinedload(Employment.worker)).where(
            Employment.organization_id == org_id, Employment.annulled_at.is_(None))
            .order_by(Employment.hire_date, Employment.id)).scalars().all()
        by_worker: dict[int, list[Employment]] = defaultdict(list)
        for e in episodes:
            by_worker[e.worker_id].append(e)
        matched: set[int] = set()
        db.session.execute(delete(RegistryContract).where(RegistryContract.organization_id == org_id))
        for c in sorted(contracts, key=lambda r: (r.iin, r.start_date)):
            w = workers.get(c.iin)
            candidates = [e for e in by_worker.get(w.id, []) if e.id not in matched and _overlaps(e, c.start_date,
                                                                                                 c.end_date)] if w else []
            db.session.add(RegistryContract(run_id=run.id, organization_id=org_id, iin=c.iin, start_date=c.start_date,
                                            end_date=c.end_date, position=c.position))
            common = {"organization_id": org_id, "region_id": org.region_id, "iin": c.iin,
                      "worker_id": w.id if w else None, "start_date": c.start_date, "end_date": c.end_date,
                      "position": c.position}
            if not candidates:
                items.add(kind=CONTRACT_MISSING, **common)
                continue
            e = min(candidates, key=lambda x: (abs((x.hire_date - c.start_date).days), x.id))
            matched.add(e.id)
            if c.end_date is not None and c.end_date < today and (e.end_date is None or e.end_date > c.end_date):
                items.add(kind=DISMISSAL_MISSING, employment_id=e.id, **common)
        for e in episodes:
            if e.id not in matched and e.running_on(today):
                items.add(kind=NO_CONTRACT, organization_id=org_id, region_id=org.region_id,
                          iin=e.worker.iin, worker_id=e.worker_id, employment_id=e.id, start_date=e.hire_date,
                          end_date=e.end_date)
    run.organizations = len(by_org)
    items.merge(set(by_org))


# -------------------------------------------------------------------------------------- certificates
def _differences(cert: Certificate, rec: CertificateRecord) -> list[str]:
    out = []
    if cert.specialty_id != rec.specialty.id:
        out.append("specialty")
    if cert.issue_date != rec.issue_date:
        out.append("issue_date")
    if cert.valid_until != rec.valid_until:
        out.append("valid_until")
    return out


def _certificates(run, records: list[CertificateRecord], actor, today: date) -> None:
    iins = {r.iin for r in records}
    workers = _workers(iins)
    org_ids_scope = access.org_ids_select(actor)
    posts: dict[int, list[Employment]] = defaultdict(list)  # worker → his current episodes in the scope
    certs: dict[int, dict[str, Certificate]] = defaultdict(dict)
    ids = sorted(w.id for w in workers.values())
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        q = select(Employment).where(Employment.worker_id.in_(chunk), Employment.current_on(today))
        if org_ids_scope is not None:
            q = q.where(Employment.organization_id.in_(org_ids_scope))
        for e in db.session.execute(q).scalars():
            posts[e.worker_id].append(e)
        for cert in db.session.execute(select(Certificate).where(Certificate.worker_id.in_(chunk),
                                                                 Certificate.in_lists())).scalars():
            certs[cert.worker_id][norm(cert.number)] = cert
    items = _Items(run, SOURCE_CERTIFICATES)
    org_ids: set[int] = set()
    for rec in records:
        w = workers.get(rec.iin)
        episodes = posts.get(w.id, []) if w else []
        if not episodes:
            run.rows_outside += 1  # not registered, or in post nowhere in the scope
            continue
        cert = certs[w.id].get(norm(rec.number))
        diff = _differences(cert, rec) if cert is not None else None
        if cert is not None and not diff:
            continue
        for org_id in sorted({e.organization_id for e in episodes}):
            org_ids.add(org_id)
            region_id = next(e.region_id for e in episodes if e.organization_id == org_id)
            items.add(kind=CERTIFICATE_MISSING if cert is None else CERTIFICATE_DIFFERS, organization_id=org_id,
                      region_id=region_id, iin=rec.iin, worker_id=w.id, certificate_id=cert.id if cert else None,
                      number=rec.number, specialty_id=rec.specialty.id, start_date=rec.issue_date,
                      end_date=rec.valid_until, issuer=rec.issuer, differences=",".join(diff) if diff else None)
    for episodes in posts.values():
        org_ids.update(e.organization_id for e in episodes)
    run.organizations = len(org_ids)
    items.merge(org_ids, iins)


# ------------------------------------------------------------------------------------------- the worklist
def open_items(user):
    """SELECT of the open items in the user's scope (the worklist)."""
    return access.scoped(select(Discrepancy), Discrepancy, user).where(Discrepancy.status == OPEN)


def open_count(user, org_id: int | None = None) -> int:
    q = open_items(user).with_only_columns(func.count())
    if org_id is not None:
        q = q.where(Discrepancy.organization_id == org_id)
    return db.session.execute(q).scalar() or 0


def days_overdue(item: Discrepancy, today: date | None = None, calendar: WorkingCalendar | None = None) -> int | None:
    """Working days past rule 8's deadline for a contract not entered (None for other items)."""
    if item.kind != CONTRACT_MISSING or item.start_date is None:
        return None
    return working_days_overdue(item.start_date, today or clock.today(), calendar)


def _still_open(item: Discrepancy, today: date) -> bool:
    """Does the register still disagree with what the registry said (the item's own data)?"""
    if item.kind == CONTRACT_MISSING:
        worker = db.session.execute(select(Worker).where(Worker.iin == item.iin, Worker.annulled_at.is_(None))) \
            .scalar_one_or_none()
        if worker is None:
            return True
        return not any(e.organization_id == item.organization_id and e.annulled_at is None
                       and _overlaps(e, item.start_date, item.end_date) for e in worker.employments)
    if item.kind in (NO_CONTRACT, DISMISSAL_MISSING):
        e = item.employment
        if e is None or e.annulled_at is not None:
            return False
        if item.kind == NO_CONTRACT:
            return e.running_on(today)
        return e.end_date is None or e.end_date > item.end_date
    worker = item.worker
    if worker is None:
        return False
    cert = next((c for c in worker.certificates if c.in_force and norm(c.number) == norm(item.number)), None)
    if cert is None:
        return True
    return (cert.specialty_id, cert.issue_date, cert.valid_until) != (item.specialty_id, item.start_date, item.end_date)


def recheck(user, today: date | None = None, org_id: int | None = None) -> int:
    """Resolve the open items of the user's scope that the register now agrees with; returns how many."""
    access.require(user, "reconciliation", access.EDIT)
    today = today or clock.today()
    q = open_items(user)
    if org_id is not None:
        q = q.where(Discrepancy.organization_id == org_id)
    now, n = clock.utcnow_naive(), 0
    for item in db.session.execute(q).scalars():
        if not _still_open(item, today):
            item.status, item.resolved_at, item.resolved_by_id = RESOLVED, now, getattr(user, "id", None)
            n += 1
    db.session.flush()
    return n


def item_for(user, item_id, action: str = access.DETAILS) -> Discrepancy:
    """One item through the user's scope (``NotAllowed`` outside it)."""
    access.require(user, "reconciliation", action)
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise NotAllowed() from None
    item = db.session.execute(access.scoped(select(Discrepancy), Discrepancy, user)
                              .where(Discrepancy.id == item_id)).scalar_one_or_none()
    if item is None:
        raise NotAllowed()
    return item


def end_from_item(item: Discrepancy, *, actor, end_date: date, end_ground, end_category: str) -> list:
    """"End the episode" of a *dismissal not entered* or an *employment without a contract*: the worker's
    episodes in the actor's organization end through ``workers.services.end_employment`` (the same rule as
    every ending), and the item is resolved."""
    if item.kind not in (NO_CONTRACT, DISMISSAL_MISSING) or item.status != OPEN or item.worker is None:
        raise DomainError(_l("This item has no episode to end."))
    episodes = end_employment(item.worker, actor, end_date, end_ground, end_category)
    item.status, item.resolved_at, item.resolved_by_id = RESOLVED, clock.utcnow_naive(), actor.id
    db.session.flush()
    return episodes


__all__ = ["days_overdue", "end_from_item", "item_for", "open_count", "open_items",
           "recheck", "reconcile"]
