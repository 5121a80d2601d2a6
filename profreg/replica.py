"""Reports and analytics read from a streaming read replica when there is one (``DATABASE_REPLICA_URL``).

A national deployment grows by moving the heavy reads off the primary: the live monthly report, the
quarterly forecast, the charts and the data-currency ranking read whole-country aggregates, and a
PostgreSQL hot standby (streaming replication) answers them while the primary serves the HR forms.

``with reads():`` (or ``@reading``) routes every statement of the block that is not part of a flush
to the replica's engine; writes, and everything outside such a block, go to
the primary. Without ``DATABASE_REPLICA_URL`` the block is a no-op: same session, same database.
What is frozen and submitted (a report's snapshot) is read on the primary: a replica lags by up to
its replay delay, a live screen may, a submitted figure may not. docs/operations.md shows the setup;
``python -m bench replica`` demonstrates it with a local standby.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import create_engine

EXTENSION = "profreg_replica"
_FLAG = "profreg_replica_reads"


def configure(app) -> None:
    """The replica's engine when ``DATABASE_REPLICA_URL`` is set, with the primary's engine options
    (after ``_postgres_settings``: JIT off there too). Not a Flask-SQLAlchemy bind: a bind would give
    the shared ``db`` a metadata of its own that every later ``create_all`` expects an engine for."""
    url = app.config.get("DATABASE_REPLICA_URL")
    app.extensions[EXTENSION] = create_engine(url, **dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})) \
        if url else None


def engine():
    """The replica's engine in this app, or None."""
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def enabled() -> bool:
    return engine() is not None


class RoutingSession(_FlaskSession):
    """The app's session class: inside ``reads()`` a statement outside a flush goes to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.info.get(_FLAG) and not self._flushing:
            replica = engine()
            if replica is not None:
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@contextmanager
def reads():
    """Route the block's reads to the replica (a no-op without one)."""
    session = current_app.extensions["sqlalchemy"].session()  # (``db``: extensions imports this module)
    before = session.info.get(_FLAG)
    session.info[_FLAG] = True
    try:
        yield
    finally:
        if before is None:
            session.info.pop(_FLAG, None)
        else:
            session.info[_FLAG] = before


def reading(fn):
    """Decorator form of ``reads()``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with reads():
            return fn(*args, **kwargs)

    return wrapper


__all__ = ["RoutingSession", "configure", "enabled", "engine", "reading", "reads"]
