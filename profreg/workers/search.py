"""SQL building blocks for finding workers: search terms and list filters (all set-based EXISTS
subqueries, applied on top of the scoped query, so they can never widen the user's scope)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, not_, or_, select

from .. import clock
from ..dates import add_months
from .models import Employment, Worker


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(term: str):
    """One search term: IIN prefix, surname prefix (case-folded in Python, so Kazakh and Russian
    letters match on SQLite too) or certificate number prefix.

    Written as ``id IN (… UNION …)`` rather than an OR of conditions, so that each branch uses its
    own prefix index (an OR across a column and an EXISTS forces a scan of the whole table)."""
    from sqlalchemy import union

    from ..certificates.models import Certificate

    term = term.strip()
    pattern = _escape(term)
    branches = [select(Worker.id).where(Worker.surname_folded.like(f"{_escape(term.casefold())}%", escape="\\"))]
    if term.isdigit():
        branches.append(select(Worker.id).where(Worker.iin.like(f"{pattern}%", escape="\\")))
    # certificate numbers are stored upper-case (KZ…); the term is tried as typed and upper-cased
    for variant in sorted({pattern, pattern.upper()}):
        branches.append(select(Certificate.worker_id).where(Certificate.number.like(f"{variant}%", escape="\\")))
    return Worker.id.in_(union(*branches))


def current_episode(*conds):
    today = clock.today()
    return exists().where(and_(Employment.worker_id == Worker.id,
                               or_(Employment.end_date.is_(None), Employment.end_date >= today), *conds))


def by_org_bin(value: str):
    from ..orgs.models import Organization

    return current_episode(Employment.organization_id.in_(
        select(Organization.id).where(Organization.bin == value.strip())))


def by_region(value: str):
    return current_episode(Employment.region_id == int(value))


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
