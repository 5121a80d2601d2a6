"""SQL building blocks for finding workers: search terms and list filters (all set-based EXISTS
subqueries, applied on top of the scoped query, so they can never widen the user's scope)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, not_, or_, select

from .. import clock
from .models import Employment, Worker


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    import calendar

    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(term: str):
    """One search term: IIN prefix, surname prefix (case-folded in Python, so Kazakh and Russian
    letters match on SQLite too) or certificate number prefix."""
    from ..certificates.models import Certificate

    term = term.strip()
    folded = _escape(term.casefold())
    conds = [Worker.surname_folded.like(f"{folded}%", escape="\\")]
    if term.isdigit():
        conds.append(Worker.iin.like(f"{_escape(term)}%", escape="\\"))
    conds.append(exists().where(and_(Certificate.worker_id == Worker.id,
                                     Certificate.number.ilike(f"{_escape(term)}%", escape="\\"))))
    return or_(*conds)


def current_episode(*conds):
    today = clock.today()
    return exists().where(and_(Employment.worker_id == Worker.id,
                               or_(Employment.end_date.is_(None), Employment.end_date >= today), *conds))


def by_org_bin(value: str):
    from ..orgs.models import Organization

    return current_episode(Employment.organization_id.in_(
        select(Organization.id).where(Organization.bin == value.strip())))


def by_region(value: str):
    from ..orgs.models import Organization

    return current_episode(Employment.organization_id.in_(
        select(Organization.id).where(Organization.region_id == int(value))))


def by_specialty(value: str):
    from ..certificates.models import Certificate

    sid = int(value)
    return or_(current_episode(Employment.specialty_id == sid),
               exists().where(and_(Certificate.worker_id == Worker.id, Certificate.specialty_id == sid)))


def by_position(value: str):
    return current_episode(Employment.position_id == int(value))


def certificate_status_clause(value: str, today: date | None = None, months: int = 2):
    """valid: valid for more than ``months``; expiring: valid today but not in ``months``;
    expired: certificates exist, none valid today; none: no certificate at all."""
    from ..certificates.models import Certificate

    today = today or clock.today()
    horizon = add_months(today, months)

    def valid_on(d):
        return exists().where(and_(Certificate.worker_id == Worker.id, Certificate.issue_date <= today,
                                   or_(Certificate.valid_until.is_(None), Certificate.valid_until >= d)))

    any_cert = exists().where(Certificate.worker_id == Worker.id)
    if value == "valid":
        return valid_on(horizon)
    if value == "expiring":
        return and_(valid_on(today), not_(valid_on(horizon)))
    if value == "expired":
        return and_(any_cert, not_(valid_on(today)))
    if value == "none":
        return not_(any_cert)
    return None
