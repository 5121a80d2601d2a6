"""Per-role dashboard figures (counts only, all scoped through access, all single SQL aggregates)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, cast, func, select

from .. import access, clock
from ..extensions import db

LATE_AFTER_DAYS = 3  # rule 8: three working days; approximated here by calendar days (see late_entry_clause)


def scope_label(user) -> str:
    if user.role == access.Role.REGION and user.region is not None:
        return user.region.name
    if user.organization is not None:
        return user.organization.name
    return ""


def late_entry_clause(model):
    """Episode entered into the register more than LATE_AFTER_DAYS calendar days after the hire date.

    A calendar-day approximation of rule 8's "three working days": the monitoring domain owns the
    working-day calendar (holidays, transfers) and computes the exact figure for its reports."""
    if db.engine.dialect.name == "postgresql":
        return cast(model.entered_at, Date) - model.hire_date > LATE_AFTER_DAYS
    return func.julianday(func.date(model.entered_at)) - func.julianday(model.hire_date) > LATE_AFTER_DAYS


def dashboard_cards(user) -> list[dict]:
    from ..auth.models import User
    from ..certificates.models import Certificate
    from ..workers.models import Employment, Worker

    cards: list[dict] = []
    today = clock.today()

    def count(q):
        return db.session.execute(q).scalar() or 0

    if access.can(user, "worker", access.LIST):
        base = access.scoped(select(func.count()).select_from(Worker), Worker, user)
        cards.append({"label": _l("Active workers"), "value": count(base.where(Worker.status == "active"))})
        cards.append({"label": _l("Blocked workers"), "value": count(base.where(Worker.status == "blocked")),
                      "danger": True, "url": "workers.index_view", "args": {"flt0_4": "blocked"}})
    if access.can(user, "worker_record", access.LIST):
        certs = access.scoped(select(func.count()).select_from(Certificate), Certificate, user)
        cards.append({"label": _l("Certificates expiring within 60 days"),
                      "value": count(certs.where(Certificate.valid_until >= today,
                                                 Certificate.valid_until <= today + timedelta(days=60)))})
    if access.can(user, "employment", access.LIST):
        year_start = date(today.year, 1, 1)
        eps = access.scoped(select(func.count()).select_from(Employment), Employment, user)
        cards.append({"label": _l("Hires this year"), "value": count(eps.where(Employment.hire_date >= year_start))})
        cards.append({"label": _l("Hires entered late this year (more than 3 days)"),
                      "value": count(eps.where(Employment.hire_date >= year_start, late_entry_clause(Employment))),
                      "danger": True})
    if access.can(user, "user", access.LIST):
        users = select(func.count()).select_from(User)
        cards.append({"label": _l("Active users"), "value": count(users.where(User.active.is_(True)))})
        cards.append({"label": _l("Locked or disabled users"),
                      "value": count(users.where(and_(User.active.is_(True), User.locked_until > clock.utcnow_naive()))
                                     ) + count(users.where(User.active.is_(False)))})
    return cards
