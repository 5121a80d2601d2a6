"""Certificate rules (rules 14.4, 14.5): status of a worker's certificates and blocking.

A worker is *blocked* when he holds a clinical position and has no certificate valid today.
The certificates domain's sweep (warn / block / unblock, with audit and notices) builds on these.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, or_, select, update

from .. import clock
from ..extensions import db
from ..reference.models import Position
from ..workers.models import STATUS_ACTIVE, STATUS_BLOCKED, Employment, Worker
from .models import Certificate


def valid_certificate_clause(worker_id_col, today: date):
    """SQL: the worker holds a certificate valid on ``today``."""
    return exists().where(and_(Certificate.worker_id == worker_id_col, Certificate.issue_date <= today,
                               or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today)))


def clinical_current_clause(worker_id_col, today: date):
    """SQL: the worker has a current episode in a clinical position."""
    return exists().where(and_(Employment.worker_id == worker_id_col, Employment.position_id == Position.id,
                               Position.is_clinical.is_(True),
                               or_(Employment.end_date.is_(None), Employment.end_date >= today)))


def workers_to_block(today: date | None = None):
    """SELECT of ids of active workers who must be blocked on ``today``."""
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_ACTIVE, clinical_current_clause(Worker.id, today),
                                   ~valid_certificate_clause(Worker.id, today))


def workers_to_unblock(today: date | None = None):
    today = today or clock.today()
    return select(Worker.id).where(Worker.status == STATUS_BLOCKED, valid_certificate_clause(Worker.id, today))


def block_expired(today: date | None = None, reason: str = "certificate_expired") -> int:
    """Set-based: block every worker without a valid certificate. Returns the number blocked."""
    today = today or clock.today()
    res = db.session.execute(
        update(Worker).where(Worker.id.in_(workers_to_block(today)))
        .values(status=STATUS_BLOCKED, blocked_reason=reason, blocked_at=clock.utcnow_naive(),
                version=Worker.version + 1)
        .execution_options(synchronize_session=False))
    return res.rowcount or 0


def unblock_renewed(today: date | None = None) -> int:
    today = today or clock.today()
    res = db.session.execute(
        update(Worker).where(Worker.id.in_(workers_to_unblock(today)))
        .values(status=STATUS_ACTIVE, blocked_reason=None, unblocked_at=clock.utcnow_naive(),
                version=Worker.version + 1)
        .execution_options(synchronize_session=False))
    return res.rowcount or 0


