"""The unit of work: the one module that commits or rolls back the database session.

Services flush, never commit (DESIGN rule 2). What commits is the unit around them:

* **a web request** (``init_app``): it commits once, after the view, when the response is a success
  or a redirect (status < 400), and rolls back otherwise; an exception that escapes the view leaves
  nothing behind (Flask-SQLAlchemy's teardown rolls back whatever was not committed). A
  ``DomainError`` that escapes a view is rolled back and shown as a translated flash on the page the
  user came from; ``NotAllowed`` answers 403. This is Indico's request handler, as Flask hooks.
* **the panel's model views**: Flask-Admin's ``create_model`` / ``update_model`` / ``delete_model`` and
  the bulk delete call ``session.commit()`` and ``session.rollback()`` themselves. Model views get
  ``PanelSession`` instead of the session: its ``commit`` is a flush (the request commits) and its
  ``rollback`` is ``discard``. So a panel save is the same single commit per request.
* **a CLI command** (``cli_command``) and **each step of a job** (``unit_of_work()``, e.g. the sweep
  commits after each step so that a crash loses one step only).

Where a view catches a ``DomainError`` to show it next to a form field instead of letting it
escape, it calls ``discard()`` (the unit is abandoned: nothing of it is written) — ``show_error`` does
both. A refusal whose writes must survive (``errors.Refusal.keeps_writes``: the failed-login
counter, and the audit entry of a search for a registered worker to hire) is committed instead of
rolled back; those are the documented exceptions.

``after_commit(fn)`` runs ``fn`` once the current unit has committed (e.g. deleting a file of a
deleted document: never before the deletion is durable).
"""
from __future__ import annotations

import contextlib
import functools
import logging
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, flash, redirect, request, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from .errors import DomainError, NotAllowed, Refusal
from .extensions import db

log = logging.getLogger(__name__)

_DEPTH = "profreg_uow_depth"
_AFTER_COMMIT = "profreg_uow_after_commit"


# --------------------------------------------------------------------------------- the unit itself
def _session() -> Session:
    return db.session()


def commit() -> None:
    """Commit the unit now (the request, command or job step that owns it), then run its
    ``after_commit`` callbacks. Only the owners below call this."""
    _session().commit()


def discard() -> None:
    """Abandon the unit: everything written since it began is rolled back now."""
    session = _session()
    session.info.pop(_AFTER_COMMIT, None)
    session.rollback()


def end(exc: BaseException | None) -> None:
    """End the unit: commit when ``exc`` is None or a refusal that keeps its writes, else discard."""
    if exc is None or (isinstance(exc, Refusal) and exc.keeps_writes):
        commit()
    else:
        discard()


@contextlib.contextmanager
def unit_of_work():
    """Commit once when the block succeeds, roll back on any exception (re-raised). A unit opened
    inside another one (a job run inline during a request) joins it: the outer unit commits."""
    session = _session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
    except BaseException as exc:
        session.info[_DEPTH] = depth
        if depth == 0:
            end(exc)
        raise
    session.info[_DEPTH] = depth
    if depth == 0:
        end(None)


def after_commit(fn) -> None:
    """Run ``fn()`` after the current unit commits (dropped if it is discarded)."""
    _session().info.setdefault(_AFTER_COMMIT, []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session) -> None:
    for fn in session.info.pop(_AFTER_COMMIT, []):
        try:
            fn()
        except Exception:  # noqa: BLE001 - the commit stands; a failed follow-up is logged
            log.exception("after-commit callback %r failed", fn)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_AFTER_COMMIT, None)


class PanelSession:
    """The session as Flask-Admin's model views see it: everything is the real session, except
    that ``commit`` only flushes (the request's unit of work commits) and ``rollback`` discards the
    unit. Flask-Admin's create/update/delete/bulk-delete commit and roll back by themselves."""

    @property
    def session(self):  # Flask-Admin takes "a db object with .session"; this one is its own
        return self

    def commit(self) -> None:
        _session().flush()

    def rollback(self) -> None:
        discard()

    def __getattr__(self, name):
        return getattr(db.session, name)


# ------------------------------------------------------------------------------ errors, shown to users
def show_error(exc: Refusal, form=None) -> None:
    """Discard the unit and show ``exc``: under its form field when ``form`` has that field, else
    as a flash message (one per field). A refusal that keeps its writes (``keeps_writes``) is not
    discarded: the request commits them when it ends."""
    if not exc.keeps_writes:
        discard()
    for field, message in exc.errors.items():
        target = getattr(form, field, None) if (form is not None and field) else None
        if target is not None and hasattr(target, "errors"):
            if not isinstance(target.errors, list):
                target.errors = list(target.errors)
            target.errors.append(str(message))
        else:
            flash(str(message), "error")


def _same_site(url: str | None) -> str | None:
    """``url`` when it points into this site (a path), else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _forbidden(_exc=None):
    # the app's own 403 page (profreg/admin/error_pages.py) when one is registered
    return current_app.handle_http_exception(Forbidden())


def _domain_error(exc: DomainError):
    """A ``DomainError`` escaped a view: nothing is written, the message is flashed on the page the
    user came from."""
    if exc.keeps_writes:
        commit()
        for message in exc.errors.values():
            flash(str(message), "error")
    else:
        show_error(exc)
    back = _same_site(request.referrer)
    if back is None or (request.method == "GET" and back == request.full_path.rstrip("?")):
        back = url_for("admin.index")
    return redirect(back)


def _not_allowed(exc: NotAllowed):
    discard()
    return _forbidden()


def init_app(app: Flask) -> None:
    """The request is the unit of work. Registered before every other ``after_request`` hook, so
    it runs after them (Flask runs them in reverse order): what they write is committed too."""

    @app.before_request
    def _open_unit():
        _session().info[_DEPTH] = 1

    @app.after_request
    def _close_unit(response):
        session = _session()
        session.info[_DEPTH] = 0
        if response.status_code >= 400:
            discard()
        elif response.is_streamed:
            # A streamed body (csv export) reads its rows after this hook: keep them loaded.
            session.expire_on_commit = False
            try:
                commit()
            finally:
                session.expire_on_commit = True
        else:
            commit()
        return response

    @app.teardown_request
    def _forget_unit(_exc):
        db.session().info.pop(_DEPTH, None)

    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(NotAllowed, _not_allowed)


# ---------------------------------------------------------------------------------------------- CLI
def cli_command(fn):
    """A CLI command is one unit of work; a ``DomainError`` ends it with a one-line error (exit 1)
    and writes nothing."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with unit_of_work():
                return fn(*args, **kwargs)
        except Refusal as exc:
            raise click.ClickException("; ".join(str(m) for m in exc.errors.values())) from None

    return wrapper


__all__ = ["PanelSession", "after_commit", "cli_command", "commit", "discard", "end", "init_app",
           "show_error", "unit_of_work"]
