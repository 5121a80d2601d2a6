"""Per-role dashboard figures (counts only, all scoped through access, all single SQL aggregates).

The tiles use the register's vocabulary, so they agree with the sweep and the reports: expiring
certificates are ``Certificate.expiring_on(today)`` (the sweep's warning window, ``CERT_WARNING_MONTHS``)
and late entries are ``workdays.services.late_entry_clause`` (rule 8's three working days).
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, exists, func, select

from .. import access, clock
from ..auth.models import User
from ..certificates.models import Certificate, warning_months
from ..extensions import db
from ..workdays.services import days, late_entry_clause
from ..workers.models import Employment, Worker
from ..workers.services import transfers_to_act_on


def scope_label(user) -> str:
    if user.role == access.Role.REGION and user.region is not None:
        return user.region.name
    if user.organization is not None:
        return user.organization.name
    return ""


def dashboard_cards(user) -> list[dict]:
    cards: list[dict] = []
    today = clock.today()

    def count(q):
        return db.session.execute(q).scalar() or 0

    if access.can(user, "worker", access.LIST):
        # workers in post: a current episode (the same notion as every scoped list, also for the ministry,
        # whose list holds the whole register, departed workers included)
        in_post = exists().where(Employment.worker_id == Worker.id, Employment.current_on(today))
        base = access.scoped(select(func.count()).select_from(Worker), Worker, user).where(in_post)
        cards.append({"label": _l("Active workers"), "value": count(base.where(Worker.status == "active"))})
        cards.append({"label": _l("Blocked workers"), "value": count(base.where(Worker.status == "blocked")),
                      "danger": True, "url": "workers.index_view", "args": {"flt0_4": "blocked"}})
    if access.can(user, "worker_record", access.LIST):
        certs = access.scoped(select(func.count()).select_from(Certificate), Certificate, user)
        months = warning_months()
        cards.append({"label": lazy_ngettext("Certificates expiring within %(num)d month",
                                          "Certificates expiring within %(num)d months", months),
                      "value": count(certs.where(Certificate.expiring_on(today)))})
    if access.can(user, "employment", access.LIST):
        year_start = date(today.year, 1, 1)
        eps = access.scoped(select(func.count()).select_from(Employment), Employment, user)
        cards.append({"label": _l("Hires this year"), "value": count(eps.where(Employment.hire_date >= year_start))})
        # a hire after today cannot be late yet: the cutoffs cover this year up to today
        late = late_entry_clause(days(year_start, today))
        cards.append({"label": _l("Hires entered late this year (after 3 working days)"),
                      "value": count(eps.where(Employment.hire_date >= year_start, late)),
                      "danger": True})
    if access.can(user, "transfer", access.END):
        # transfers waiting on this user: its organization's episodes to end, or the region's overdue ones
        own = getattr(user, "organization_id", None) is not None
        act = transfers_to_act_on(user, today).with_only_columns(func.count(), maintain_column_froms=True)
        cards.append({"label": _l("Transfers: episodes to end") if own else _l("Transfers past their due date"),
                      "value": count(act), "danger": True, "url": "transfers.index",
                      "args": {"show": "open" if own else "overdue"}})
    if access.can(user, "user", access.LIST):
        users = select(func.count()).select_from(User)
        cards.append({"label": _l("Active users"), "value": count(users.where(User.active.is_(True)))})
        cards.append({"label": _l("Locked or disabled users"),
                      "value": count(users.where(and_(User.active.is_(True), User.locked_until > clock.utcnow_naive()))
                                     ) + count(users.where(User.active.is_(False)))})
    return cards
