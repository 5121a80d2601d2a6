"""Figures kept for a while: the heavy aggregates of big scopes (a region's or the country's dashboard,
the data-currency ranking, the live monthly report, the CPD assessment, the 12-month trend) are computed
at most once per ``seconds`` for the same key, instead of on every page load of every coordinator.

``Memo(name, seconds)`` is one such store; ``get(key, compute)`` answers from it or computes and keeps
the value. Keys carry everything the value depends on (the user or the scope, the day, the
parameters). ``forget_all()`` empties every store (the tests call it; nothing else does yet, so a
renamed classifier shows in a kept figure once it is refreshed).

Two levels:

* **in the process**: a dictionary, as fast as a lookup;
* **shared by every process** (``shared=True``, on PostgreSQL, ``SHARED_FIGURES``): the table
  ``shared_figure``, so that five gunicorn workers on three machines compute a figure once per
  ``seconds``, not once each. When it is out of date, **one** process claims the refresh
  (``refreshing_until``, a conditional UPDATE) and computes it; the others go on showing the figure
  they have until the new one is written (at most ``STALE_RECHECK_SECONDS`` in their own dictionary),
  instead of all recomputing at once. A process that dies mid-refresh loses its claim after
  ``CLAIM_SECONDS``. With ``background=True`` (figures whose computation needs no request: a scope, a
  period) the claiming process too shows the figure it has and computes the new one in a thread of
  its own, so no page waits for a refresh; only a figure never computed is computed in the request.
  Such refreshes run **one at a time**: one refresher thread per process takes them in turn, and on
  PostgreSQL each holds one of the register's refresh slots (``SHARED_FIGURES_REFRESH_SLOTS``, 1: a
  transaction-level advisory lock) while it computes, so all the processes together never spend more
  than that many database cores on refreshes.
  Figures that fall due together (a dashboard's dozen counts, computed at the same moment) so queue
  up behind each other instead of taking every core for a second or two while pages wait
  (docs/performance.md, the load test).
  Values are pickled and signed with the app's ``SECRET_KEY`` (HMAC-SHA256): a row
  that does not carry the app's signature is never unpickled, only recomputed. The table is written on
  its own connection, so a page's transaction (which commits nothing on a GET) is untouched, and any
  error of the store falls back to computing (a page never fails for its cache).

A figure may so be up to ``seconds`` (plus one refresh) old; pages that show such figures say so.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle  # nosec B403 - only payloads signed with the app's own key are unpickled (_load)
import queue
import threading
import time
import weakref
from contextlib import contextmanager

from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import Column, Float, LargeBinary, String, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .i18n import current_lang
from .signals import figure_refreshed

log = logging.getLogger(__name__)

_ALL: weakref.WeakSet[Memo] = weakref.WeakSet()

#: How long a claim to refresh a shared figure holds (a process that died gives it up after this).
CLAIM_SECONDS = 60.0
#: How long a process shows a figure another process is refreshing before it looks again.
STALE_RECHECK_SECONDS = 5.0
#: The advisory lock key of the first refresh slot (the others follow it: ``SHARED_FIGURES_REFRESH_SLOTS``).
REFRESH_SLOT_KEY = int.from_bytes(hashlib.sha256(b"profreg shared figure refresh").digest()[:7], "big")

shared_figure = db.Table(
    "shared_figure",
    Column("memo", String(100), primary_key=True),
    Column("key", String(64), primary_key=True),  # SHA-256 of the key's repr
    Column("value", LargeBinary, nullable=False),  # HMAC-SHA256 (32 bytes) + pickle
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("refreshing_until", Float),  # epoch seconds: a process is computing the next value
)


class Memo:
    def __init__(self, name: str, seconds: float | str, max_keys: int = 1000, shared: bool = False,
                 background: bool = False):
        """``seconds``: how long a value is kept, or the name of the app setting that says it (read
        on each ``get``; 0 keeps nothing). ``shared``: kept for every process too; ``background``: an
        out-of-date shared figure is refreshed in a thread (the module's doc): its ``compute`` must then
        use nothing of the request (no ``current_user``, no objects of the request's session)."""
        self.name, self.seconds, self.max_keys, self.shared = name, seconds, max_keys, shared
        self.background = background
        self._data: dict = {}
        self._lock = threading.Lock()
        _ALL.add(self)

    def _seconds(self) -> float:
        if isinstance(self.seconds, str):
            return float(current_app.config.get(self.seconds, 0)) if has_app_context() else 0.0
        return float(self.seconds)

    def get(self, key, compute):
        seconds = self._seconds()
        if seconds <= 0:
            return compute()
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if self.shared and shared_store_enabled():
            value, keep = _SharedStore(self.name, key).get(seconds, compute, self.background)
        else:
            value, keep = compute(), seconds
        with self._lock:
            if len(self._data) >= self.max_keys:
                for old in [k for k, (expires, _v) in self._data.items() if expires <= now] or list(self._data):
                    self._data.pop(old, None)
            self._data[key] = (now + keep, value)
        return value

    def forget(self) -> None:
        """Empty this store, in the process and shared."""
        self._forget_here()
        if self.shared:
            _forget_shared(shared_figure.c.memo == self.name)

    def _forget_here(self) -> None:
        with self._lock:
            self._data.clear()


def _forget_shared(*where) -> None:
    if not shared_store_enabled():
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(shared_figure).where(*where))
    except SQLAlchemyError:
        log.warning("shared figures could not be forgotten", exc_info=True)


def shared_store_enabled() -> bool:
    """Whether figures are shared between processes: on PostgreSQL, unless ``SHARED_FIGURES`` is off
    (SQLite, the demo's and the tests' database, keeps them per process: one writer at a time)."""
    return (has_app_context() and bool(current_app.config.get("SHARED_FIGURES", True))
            and db.engine.dialect.name == "postgresql")


class _SharedStore:
    """One key of one memo in ``shared_figure``."""

    def __init__(self, memo: str, key):
        self.memo = memo
        self.key = hashlib.sha256(repr(key).encode()).hexdigest()
        self.where = (shared_figure.c.memo == memo, shared_figure.c.key == self.key)

    def get(self, seconds: float, compute, background: bool = False):
        """(value, seconds to keep it in the process)."""
        stale = _MISSING
        try:
            with db.engine.begin() as conn:
                row = conn.execute(select(shared_figure.c.value, shared_figure.c.expires_at)
                                   .where(*self.where)).first()
                wall = time.time()
                if row is not None:
                    value = _load(row.value)
                    if value is not _MISSING and row.expires_at > wall:
                        return value, min(seconds, row.expires_at - wall)
                    if value is not _MISSING:
                        claimed = conn.execute(
                            update(shared_figure).where(*self.where, or_(
                                shared_figure.c.refreshing_until.is_(None),
                                shared_figure.c.refreshing_until < wall))
                            .values(refreshing_until=wall + CLAIM_SECONDS)).rowcount
                        if not claimed:  # another process is computing it: show this one meanwhile
                            return value, min(seconds, STALE_RECHECK_SECONDS)
                        if background:  # this process refreshes it, in a thread; the page goes on
                            self._refresh_in_thread(seconds, compute)
                            return value, min(seconds, STALE_RECHECK_SECONDS)
                        stale = value
        except SQLAlchemyError:
            log.warning("shared figures unreadable (%s); computing in this process", self.memo, exc_info=True)
            return compute(), seconds
        try:
            value = compute()
        except Exception:
            if stale is not _MISSING:
                self._release()
            raise
        self._store(value, seconds)
        return value, seconds

    def _refresh_in_thread(self, seconds: float, compute) -> None:
        """``compute`` queued for this process's refresher thread, in an app context of its own and the
        asker's language (names in a figure are in the language its key names)."""
        app = current_app._get_current_object()
        lang = current_lang()

        def run():
            with app.app_context(), force_locale(lang):
                try:
                    asked = time.monotonic()
                    with _refresh_slot(self.key):
                        started = time.monotonic()
                        self._store(compute(), seconds)
                    figure_refreshed.send(self.memo, waited=started - asked, seconds=time.monotonic() - started)
                except Exception:  # noqa: BLE001 - the claim is given back; the next asker retries
                    log.exception("a shared figure could not be refreshed (%s)", self.memo)
                    self._release()
                finally:
                    db.session.remove()

        _refresh_queue().put(run)

    def _store(self, value, seconds: float) -> None:
        payload = _dump(value)
        try:
            with db.engine.begin() as conn:
                stmt = pg_insert(shared_figure).values(memo=self.memo, key=self.key, value=payload,
                                                     expires_at=time.time() + seconds, refreshing_until=None)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=[shared_figure.c.memo, shared_figure.c.key],
                    set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at,
                          "refreshing_until": None}))
                # figures of days gone by (keys carry the day) are not asked for again
                conn.execute(delete(shared_figure).where(shared_figure.c.memo == self.memo,
                                                         shared_figure.c.expires_at < time.time() - 86400))
        except SQLAlchemyError:
            log.warning("a shared figure could not be stored (%s)", self.memo, exc_info=True)

    def _release(self) -> None:
        try:
            with db.engine.begin() as conn:
                conn.execute(update(shared_figure).where(*self.where).values(refreshing_until=None))
        except SQLAlchemyError:
            log.warning("a claim on a shared figure could not be released (%s)", self.memo, exc_info=True)


_MISSING = object()
_QUEUE: queue.Queue | None = None
_QUEUE_PID: int | None = None
_QUEUE_LOCK = threading.Lock()


def _refresh_queue() -> queue.Queue:
    """This process's queue of refreshes, and its one refresher thread (started on first use; a forked
    gunicorn worker starts its own: threads do not survive a fork)."""
    global _QUEUE, _QUEUE_PID
    with _QUEUE_LOCK:
        if _QUEUE is None or _QUEUE_PID != os.getpid():
            _QUEUE, _QUEUE_PID = queue.Queue(), os.getpid()
            threading.Thread(target=_refresher, args=(_QUEUE,), name="shared figure refresher", daemon=True).start()
        return _QUEUE


def _refresher(jobs: queue.Queue) -> None:
    while True:
        job = jobs.get()
        try:
            job()
        except Exception:  # noqa: BLE001 - a job logs its own failure; the thread serves the next one
            log.exception("a shared figure refresh failed")
        finally:
            jobs.task_done()


def refresh_slots() -> int:
    """How many figures the whole register refreshes at once (``SHARED_FIGURES_REFRESH_SLOTS``, 1): the
    database cores the refreshes may take from the pages."""
    return max(1, int(current_app.config.get("SHARED_FIGURES_REFRESH_SLOTS") or 1))


@contextmanager
def _refresh_slot(key: str):
    """A refresh slot, held while a figure is computed: a transaction-level advisory lock on a connection
    of its own (released when it ends, whatever happens); with several slots, the key's own (its hash
    spreads the figures over them). A refresh that waited longer than its claim gives up
    (``lock_timeout``): another process may have claimed it again since."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    slot = int(key[:8], 16) % refresh_slots()
    with db.engine.begin() as conn:
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(CLAIM_SECONDS * 1000)}ms'"))
        conn.execute(select(func.pg_advisory_xact_lock(REFRESH_SLOT_KEY + slot)))
        yield


def join_refreshes(timeout: float = 30.0) -> None:
    """Wait until this process's queued refreshes are done (tests; a clean shutdown)."""
    jobs = _QUEUE if _QUEUE_PID == os.getpid() else None
    deadline = time.monotonic() + timeout
    while jobs is not None and jobs.unfinished_tasks and time.monotonic() < deadline:
        time.sleep(0.01)


def _signature(body: bytes) -> bytes:
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, b"profreg shared figure\x00" + body, hashlib.sha256).digest()


def _dump(value) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _signature(body) + body


def _load(payload: bytes):
    """The value of a stored payload, or ``_MISSING`` when its signature is not the app's."""
    payload = bytes(payload)
    sig, body = payload[:32], payload[32:]
    if not hmac.compare_digest(sig, _signature(body)):
        log.warning("a shared figure with a foreign signature was ignored")
        return _MISSING
    return pickle.loads(body)  # nosec B301 - signed by this app's SECRET_KEY just above


def forget_all(_sender=None, **_kw) -> None:
    """Empty every store, in this process and shared (reference data changed; tests)."""
    for memo in list(_ALL):
        memo._forget_here()
    _forget_shared()


__all__ = ["Memo", "forget_all", "join_refreshes", "refresh_slots", "shared_figure", "shared_store_enabled"]
