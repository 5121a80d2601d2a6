"""Per-role dashboard figures (counts only, all scoped through access)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import access, clock
from ..extensions import db


def scope_label(user) -> str:
    if user.role == "region" and user.region is not None:
        return user.region.name
    if user.organization is not None:
        return user.organization.name
    return ""


def dashboard_cards(user) -> list[dict]:
    from ..certificates.models import Certificate
    from ..workers.models import Worker

    cards = []
    if access.can(user, "worker", access.LIST):
        base = access.scoped(select(func.count()).select_from(Worker), Worker, user)
        cards.append({"label": _l("Active workers"),
                      "value": db.session.execute(base.where(Worker.status == "active")).scalar()})
        cards.append({"label": _l("Blocked workers"),
                      "value": db.session.execute(base.where(Worker.status == "blocked")).scalar()})
    if access.can(user, "worker_record", access.LIST):
        today = clock.today()
        q = access.scoped(select(func.count()).select_from(Certificate), Certificate, user).where(
            Certificate.valid_until >= today, Certificate.valid_until <= today + timedelta(days=60))
        cards.append({"label": _l("Certificates expiring within 60 days"), "value": db.session.execute(q).scalar()})
    return cards
