"""What operators ask of a running register: is it alive, is it ready, what does it measure.

Read-only: nothing here writes to the register's tables.
"""
from __future__ import annotations

import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from rq import Queue
from sqlalchemy import func, select, text

from ..domains import ROOT
from ..extensions import db
from ..jobs.models import JobRun
from ..jobs.queue import redis_connection


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:  # noqa: BLE001 - a probe reports every failure, it never raises
        ok, detail = False, f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> str:
    db.session.execute(text("SELECT 1"))
    return "reachable"


def migration_heads() -> set[str]:
    return set(ScriptDirectory(str(ROOT / "migrations")).get_heads())


def _migrations() -> str:
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    heads = migration_heads()
    if current != heads:
        raise RuntimeError(f"database at {sorted(current) or 'no revision'}, code at {sorted(heads)}")
    return "at head " + ",".join(sorted(heads))


def _redis() -> str:
    redis_connection().ping()
    return "reachable"


def readiness() -> tuple[bool, dict]:
    """(ready, checks): the database answers, its schema is at the code's migration head, and Redis
    answers when ``REDIS_URL`` is configured (jobs run inline without it)."""
    checks = {"database": _check(_database)}
    checks["migrations"] = _check(_migrations) if checks["database"]["ok"] else {
        "ok": False, "detail": "database unreachable", "ms": 0.0}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check(_redis)
    return all(c["ok"] for c in checks.values()), checks


def queue_figures() -> dict[str, dict[str, int]]:
    """Per RQ queue: jobs waiting, running, failed (kept in the failed registry). Empty without Redis."""
    if not current_app.config.get("REDIS_URL"):
        return {}
    conn = redis_connection()
    out = {}
    for queue in Queue.all(connection=conn):
        out[queue.name] = {"queued": queue.count, "started": queue.started_job_registry.count,
                           "failed": queue.failed_job_registry.count}
    return out


def last_runs() -> dict[str, dict]:
    """The latest finished or failed run of each background job kind (sweep, mail, …) with its figures."""
    latest = (select(JobRun.kind, func.max(JobRun.id).label("id")).group_by(JobRun.kind)).subquery()
    rows = db.session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id)).all()
    return {r.kind: {"state": r.state, "finished_at": r.finished_at, "warned": r.warned,
                     "blocked": r.blocked, "unblocked": r.unblocked, "notifications": r.notifications,
                     "mails_sent": r.mails_sent, "failures": r.failures} for r in rows}
