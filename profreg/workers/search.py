"""SQL building blocks for finding workers: search terms and list filters (all set-based EXISTS
subqueries, applied on top of the scoped query, so they can never widen the user's scope)."""
from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import and_, case, exists, not_, or_, select, union
from sqlalchemy.orm import aliased

from .. import clock
from ..certificates.models import Certificate, warning_months
from ..extensions import db
from ..orgs.models import Organization
from .models import Employment, Worker, sort_key, sort_key_is_exact


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(term: str):
    """One search term: IIN prefix, surname prefix (case-folded in Python, so Kazakh and Russian
    letters match on SQLite too) or certificate number prefix.

    Written as ``id IN (… UNION …)`` rather than an OR of conditions, so that each branch uses its
    own prefix index (an OR across a column and an EXISTS forces a scan of the whole table). When no
    IIN or certificate number starts with the term (two index probes, the usual case of a surname),
    the clause is the surname branch alone, with the surname's sort-key range
    (``surname_key_range``): a list in surname order then walks its index from the first match and
    stops at the page, instead of joining every match (docs/performance.md)."""
    term = term.strip()
    others = _number_branches(term)
    if not db.session.execute(select(union(*others).subquery().c[0]).limit(1)).first():
        return surname_prefix_clause(term)
    return Worker.id.in_(matching_worker_ids(term))


def surname_prefix_clause(term: str):
    """SQL on ``Worker``: the surname starts with ``term`` (case-folded), as the equivalent range of the
    surname sort key, which every surname starting with the term lies in. Where the range is exactly
    those surnames (``models.sort_key_is_exact``: letters and digits) it is the whole clause, so the
    planner estimates it right and walks ``ix_worker_live_surname_key`` in order; otherwise the folded
    prefix narrows it."""
    term = term.strip()
    ranged = surname_key_range(term)
    if ranged and sort_key_is_exact(term):
        return and_(*ranged)
    return and_(Worker.surname_folded.like(f"{_escape(term.casefold())}%", escape="\\"), *ranged)


def surname_key_range(term: str) -> list:
    """Conditions on ``Worker.surname_key`` holding every surname that starts with ``term``: the key is
    a per-letter code of the case-folded surname (``models.sort_key``), so those keys start with the
    term's key ``k`` and lie in [k, k + 1) read as a number of the same length."""
    key = sort_key(term.strip())
    if not key:
        return []
    upper = str(int(key) + 1).zfill(len(key))
    return [Worker.surname_key >= key] + ([Worker.surname_key < upper] if len(upper) == len(key) else [])


def _number_branches(term: str) -> list:
    """The branches of a search term other than the surname: IIN and certificate number prefixes."""
    pattern = _escape(term)
    branches = []
    if term.isdigit():
        branches.append(select(Worker.id).where(Worker.iin.like(f"{pattern}%", escape="\\")))
    # certificate numbers are stored upper-case (KZ…); the term is tried as typed and upper-cased
    for variant in sorted({pattern, pattern.upper()}):
        branches.append(select(Certificate.worker_id).where(Certificate.number.like(f"{variant}%", escape="\\")))
    return branches


def matching_worker_ids(term: str):
    """SELECT (a UNION) of the ids of the workers one search term finds (``search_clause``): lists of a
    worker's records search them as ``worker_id IN (...)``."""
    term = term.strip()
    return union(select(Worker.id).where(surname_prefix_clause(term)), *_number_branches(term))


def current_episode(*conds):
    """SQL: the worker has a current episode (``Employment.current_on`` today) meeting ``conds``."""
    return exists().where(and_(Employment.worker_id == Worker.id, Employment.current_on(clock.today()), *conds))


def by_org_bin(value: str):
    return current_episode(Employment.organization_id.in_(
        select(Organization.id).where(Organization.bin == value.strip())))


def by_region(value: str):
    return current_episode(Employment.region_id == int(value))


def by_district(value: str):
    """The worker holds a current episode in an organization of the district (rule 4.1)."""
    return current_episode(Employment.organization_id.in_(
        select(Organization.id).where(Organization.district_id == int(value))))


def by_specialty(value: str):
    sid = int(value)
    return or_(current_episode(Employment.specialty_id == sid),
               exists().where(and_(Certificate.worker_id == Worker.id, Certificate.specialty_id == sid)))


def by_position(value: str):
    return current_episode(Employment.position_id == int(value))


def certificate_status_clause(value: str, today: date | None = None):
    """The worker's certificate status on ``today`` is ``value``: the stored status where it is
    today's (``Worker.cert_status``, read through ``ix_worker_cert_status``), else computed from the
    certificates (``live_certificate_status_clause``). The sweep stores everyone's each day and every
    certificate write its worker's (``certificates.services.refresh_certificate_statuses``); a row not
    refreshed today (a new day before the sweep, a database just migrated) is computed."""
    today = today or clock.today()
    return _certificate_status_clause(value, today, warning_months())


@functools.lru_cache(maxsize=64)
def _certificate_status_clause(value: str, today: date, _months: int):
    """(An expression is immutable and reusable: building the computed alternative took 13 ms of every
    filtered page, twice; it is built once per status, day and warning window.)"""
    live = live_certificate_status_clause(value, today)
    if live is None:
        return None
    stored = and_(Worker.cert_status_on == today, Worker.cert_status == value)
    return or_(stored, and_(or_(Worker.cert_status_on < today, Worker.cert_status_on > today,
                                Worker.cert_status_on.is_(None)), live))


def certificate_status_case(today: date):
    """SQL: the worker's certificate status on ``today`` (valid / expiring / expired / none, the values
    of ``certificates.services.worker_status``), computed from the certificates; what
    ``refresh_certificate_statuses`` stores. The four clauses exclude each
    other: a certificate valid today in a specialty whose latest one is expiring makes the worker
    expiring, so "not valid and not expiring" leaves "expired" (some certificate) or "none"."""
    return case((live_certificate_status_clause("valid", today), "valid"),
                (live_certificate_status_clause("expiring", today), "expiring"),
                (live_certificate_status_clause("expired", today), "expired"), else_="none")


def live_certificate_status_clause(value: str, today: date | None = None):
    """The worker's certificate status on ``today`` (``certificates.services.worker_status`` in SQL):
    valid: a specialty holds a certificate valid today and none of its certificates is
    ``expiring_on(today)``; expiring: not valid, but a certificate is expiring today (the sweep's warning
    window, ``CERT_WARNING_MONTHS``); expired: certificates exist, none valid today; none: no certificate."""

    today = today or clock.today()
    held, other = aliased(Certificate), aliased(Certificate)
    valid_specialty = exists().where(
        held.worker_id == Worker.id, held.valid_on(today),
        ~exists().where(other.worker_id == held.worker_id, other.specialty_id == held.specialty_id,
                        other.expiring_on(today)))
    expiring = exists().where(Certificate.worker_id == Worker.id, Certificate.expiring_on(today))
    valid_today = exists().where(Certificate.worker_id == Worker.id, Certificate.valid_on(today))
    any_cert = exists().where(Certificate.worker_id == Worker.id, Certificate.in_force)
    if value == "valid":
        return valid_specialty
    if value == "expiring":
        return and_(expiring, not_(valid_specialty))
    if value == "expired":
        return and_(any_cert, not_(valid_today))
    if value == "none":
        return not_(any_cert)
    return None
