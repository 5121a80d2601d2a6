"""The monthly report's "registered within 3 working days, measured against contracts" (issue 20.7): rule 8
measured against the labour contracts of the state registry, not only against what HR entered. Its own
module: the monthly report reads it, and it needs only the models and the working-day calendar."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..workdays.services import WorkingCalendar, entry_cutoffs
from ..workers.models import Employment, Worker
from .models import RegistryContract


def contract_registration(ms: date, me: date, covers, calendar: WorkingCalendar | None = None) -> dict:
    """Rule 8 measured against the labour contracts (ESUTD) that started in the month, for the
    organizations ``covers(org_col)`` selects: how many contracts, how many were entered into the register
    within 3 working days of the contract start (the first entry of an episode of the worker in that
    organization overlapping the contract), late, or not at all."""
    c = RegistryContract
    where = and_(c.start_date >= ms, c.start_date <= me, covers(c.organization_id))
    dates = db.session.execute(select(c.start_date).where(where).distinct()).scalars().all()
    out = {"contracts": 0, "on_time": 0, "late": 0, "not_entered": 0}
    if not dates:
        return out
    e, w = Employment, Worker
    first_entry = (select(func.min(e.entered_at)).select_from(e).join(w, w.id == e.worker_id)
                   .where(w.iin == c.iin, e.organization_id == c.organization_id, e.annulled_at.is_(None),
                          or_(c.end_date.is_(None), e.hire_date <= c.end_date),
                          or_(e.end_date.is_(None), e.end_date >= c.start_date))
                   .correlate(c).scalar_subquery())
    cut = entry_cutoffs(dates, calendar)
    entry = first_entry.label("entry")
    rows = select(c.id, entry, cut.c.cutoff).select_from(c).join(cut, cut.c.hire_date == c.start_date) \
        .where(where).subquery()
    n, missing, on_time = db.session.execute(select(
        func.count(), func.sum(case((rows.c.entry.is_(None), 1), else_=0)),
        func.sum(case((rows.c.entry < rows.c.cutoff, 1), else_=0)))).one()
    out["contracts"], out["not_entered"], out["on_time"] = n or 0, missing or 0, on_time or 0
    out["late"] = out["contracts"] - out["not_entered"] - out["on_time"]
    return out


__all__ = ["contract_registration"]
