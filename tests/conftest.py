"""Test harness: one app per session, each test inside a transaction that is rolled back, on SQLite or
PostgreSQL.

``TEST_DATABASE_URL`` (or ``DATABASE_URL``) selects PostgreSQL; each pytest process (each xdist worker)
then creates its own database (``<name>_<pid>``), drops it at the end, and drops the databases that
crashed runs of this machine left behind, so parallel runs never share rows.

The schema and the reference data (the seed files) are created once per session and committed. Each
test then runs on one connection inside an outer transaction that is rolled back afterwards; every
Flask-SQLAlchemy session (the test's own ``db.session`` and those of requests made in fresh app
contexts) is bound to that connection with ``join_transaction_mode="create_savepoint"``, so a
``commit()`` in app or test code only releases a SAVEPOINT. Tests whose data must really be committed
(another process, thread or connection reads it) are marked ``@pytest.mark.commits``: they run on
ordinary sessions and the database is wiped afterwards (the reference data reloaded).
"""
from __future__ import annotations

import contextlib
import os
import re
from datetime import date

import pytest
from sqlalchemy import create_engine, event, text

from profreg import clock

PASSWORD = "Correct-Horse-42"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "commits: the test commits for real (another process, thread or connection reads its "
                   "data): it runs outside the per-test transaction and the database is wiped afterwards")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_databases(admin, name: str) -> None:
    """Drop ``<name>_<pid>`` databases (and their migration-test siblings) of test processes that are
    gone (a crashed or killed run). A database somebody is connected to is never dropped (no FORCE)."""
    pattern = re.compile(rf"^{re.escape(name)}_(\d+)(?:_mig_[0-9a-f]+)?$")
    with admin.connect() as c:
        names = c.execute(text("SELECT datname FROM pg_database")).scalars().all()
        for db_name in names:
            m = pattern.match(db_name)
            if not m or _pid_alive(int(m.group(1))):
                continue
            try:
                c.execute(text(f'DROP DATABASE IF EXISTS "{db_name}"'))
            except Exception:  # noqa: BLE001 - in use (another machine's run?): leave it
                pass


def _database_url(tmp_path_factory) -> tuple[str, str | None]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if url.startswith(("postgres://", "postgresql")):
        url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)
        base, _, name = url.rpartition("/")
        name = name or "profreg_test"
        mine = f"{name}_{os.getpid()}"  # unique among live processes: one per xdist worker
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        _drop_stale_databases(admin, name)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{mine}"'))
            c.execute(text(f'CREATE DATABASE "{mine}"'))
        admin.dispose()
        return f"{base}/{mine}", mine
    path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite:///{path}", None


def _sqlite_savepoints(engine) -> None:
    """SQLAlchemy's documented pysqlite recipe, for the harness connection only (``_harness_connection``):
    SQLAlchemy emits BEGIN itself, since pysqlite's own transaction handling breaks SAVEPOINT. The app
    uses no SAVEPOINT, and ``commits`` tests keep pysqlite's behaviour (a SELECT holds no lock, so
    another process may write meanwhile)."""

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if conn.info.get("harness"):
            conn.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def _harness_connection(engine):
    """One connection in an outer transaction, rolled back at the end."""
    conn = engine.connect()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        dbapi = conn.connection.driver_connection
        legacy = dbapi.isolation_level
        dbapi.isolation_level = None
        conn.info["harness"] = True
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        if sqlite:
            conn.info.pop("harness", None)
            dbapi.isolation_level = legacy
        conn.close()


def _bindable_session_class(base):
    """Flask-SQLAlchemy's ``Session.get_bind`` answers with the app's engine even when the session was
    given a ``bind``; this one honours the bind (the test's connection) when there is one. It also
    notes whether its current transaction has written anything (``info["wrote"]``)."""

    class TestSession(base):
        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            if bind is None and self.bind is not None:
                return self.bind
            return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    @event.listens_for(TestSession, "after_transaction_create")
    def _fresh(session, transaction):
        if transaction.parent is None:
            session.info["wrote"] = False

    @event.listens_for(TestSession, "after_flush")
    def _wrote(session, _context):
        session.info["wrote"] = True

    @event.listens_for(TestSession, "do_orm_execute")
    def _wrote_directly(state):  # session.execute(insert/update/delete or a text() statement)
        from sqlalchemy.sql.elements import TextClause

        written = state.is_insert or state.is_update or state.is_delete
        if isinstance(state.statement, TextClause):
            written = not re.match(r"\s*(SELECT|WITH|EXPLAIN|SHOW|PRAGMA)\b", state.statement.text, re.I)
        if written:
            state.session.info["wrote"] = True

    return TestSession


def before_fresh_context_request() -> None:
    """Called by a client that runs each request in a fresh app context (another session on the same
    connection, in a SAVEPOINT nested in the test session's open one, if any). On a real database the
    request's commit survives a later ``rollback()`` of the test's session; on the shared connection
    that rollback would return to a SAVEPOINT taken before the request and undo it. So a test session
    that has only read is ended here (nothing of it is lost), and one holding uncommitted writes is an
    error: a request in its own context would not see them (commit test data before a request)."""
    from profreg.extensions import db

    if db.session.session_factory.kw.get("bind") is None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted or session.info.get("wrote"):
        raise AssertionError("the test's session holds uncommitted changes: commit them before a request "
                             "that runs in its own app context")
    session.commit()


_BASELINE: dict[str, int] = {}


def _row_counts(db) -> dict[str, int]:
    """Rows per table, in one statement (about a millisecond: the tables are nearly empty)."""
    from sqlalchemy import func, select

    tables = db.metadata.sorted_tables
    row = db.session.execute(select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name)
                                      for t in tables])).one()
    return dict(zip((t.name for t in tables), row, strict=True))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url, pg_name = _database_url(tmp_path_factory)
    from config import TestingConfig
    from profreg import create_app
    from profreg.extensions import db
    from profreg.reference.services import load_reference

    application = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                              "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
                              "REDIS_URL": None, "MAIL_SERVER": None, "WTF_CSRF_ENABLED": True,
                              "FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR": False,
                              "PASSWORD_HASH_PROFILE": "CHEAPEST",
                              # tests move the clock by hours and months with clients signed in: no
                              # session expiry here (tests/panel/test_security_sessions.py sets 30 min, 12 h)
                              "SESSION_IDLE_MINUTES": TestingConfig.SESSION_IDLE_MINUTES,
                              "SESSION_MAX_HOURS": TestingConfig.SESSION_MAX_HOURS})
    @application.before_request
    def _fresh_user_per_request():
        # Tests hold a context open, and a test-client request reuses it: without this, Flask-Login's
        # user cached on ``g`` would carry over from one signed-in client to the next.
        from flask import g

        if not g.get("profreg_api"):  # an API request was just identified by its token (profreg/api)
            g.pop("_login_user", None)

    factory = db.session.session_factory
    plain_class = factory.class_
    factory.class_ = _bindable_session_class(plain_class)
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_savepoints(db.engine)
        db.create_all()
        load_reference()  # once per session, committed: the ``ref`` fixture only looks rows up
        db.session.commit()
        _BASELINE.update(_row_counts(db))
        db.session.remove()
    yield application
    factory.class_ = plain_class
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg_name:
        base = url.rpartition("/")[0]
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()


def _assert_starting_state(db) -> None:
    """Every test starts on the session's reference data and nothing else: a test that escaped its
    transaction (or a ``commits`` test not cleaned up) fails the next test at once, by name."""
    counts = _row_counts(db)
    if counts != _BASELINE:
        changed = {t: (_BASELINE.get(t), n) for t, n in counts.items() if _BASELINE.get(t) != n}
        raise AssertionError(f"the database does not hold the starting state (table: (expected, found)): {changed}")


def _forget_caches(app) -> None:
    """Module-level caches that outlive a test (and the figures shared between processes, a table
    written on its own connection: profreg/memo.py)."""
    from profreg.admin.dashboard import forget_trends
    from profreg.admin.listing import forget_estimates, invalidate_filter_options

    invalidate_filter_options()  # cached list filters name reference rows of the previous test
    forget_estimates()  # and cached planner estimates describe its data
    forget_trends()  # and the dashboard's trends
    from profreg.memo import forget_all

    with app.app_context():
        forget_all()  # and every figure kept for big scopes (profreg/memo.py)
    from profreg.extensions import limiter

    limiter.reset()  # failed sign-ins counted by the previous test (memory storage)


def _wipe(db):
    """After a ``commits`` test: every table emptied, the reference data loaded again and committed."""
    from profreg.reference.services import load_reference

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            db.session.execute(text(f'DELETE FROM "{t}"'))
    load_reference()
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean(app, request):
    """Each test starts on the reference data alone, inside an app context, with the real clock; by
    default inside a transaction rolled back at the end (see the module's doc), with the
    ``commits`` marker on real commits and a wipe afterwards."""
    from profreg.extensions import db

    # Code run outside a client request (services, validators) speaks English, the msgids: assertions
    # on messages do not depend on the compiled catalogs. Pages choose their own language per request.
    ctx = app.test_request_context(headers={"Accept-Language": "en"})
    if request.node.get_closest_marker("commits"):
        ctx.push()
        try:
            _assert_starting_state(db)
            db.session.remove()
            yield
        finally:
            clock.set_today(None)
            db.session.rollback()
            _wipe(db)
            db.session.remove()
            ctx.pop()
            _forget_caches(app)
        return

    factory = db.session.session_factory
    saved = dict(factory.kw)
    with app.app_context():
        engine = db.engine
    with _harness_connection(engine) as conn:
        factory.configure(bind=conn, join_transaction_mode="create_savepoint")
        ctx.push()
        try:
            _assert_starting_state(db)
            db.session.remove()  # the test starts on a fresh session
            yield
        finally:
            clock.set_today(None)
            try:
                db.session.remove()
                ctx.pop()
            finally:
                factory.kw.clear()
                factory.kw.update(saved)
    _forget_caches(app)


@pytest.fixture
def db(app):
    from profreg.extensions import db as _db

    return _db


@pytest.fixture
def ref(db):
    """Reference data (loaded from the seed files once per session); returns a lookup ``ref(Model, code)``."""
    from sqlalchemy import select

    def get(model, code):
        return db.session.execute(select(model).where(model.code == code)).scalar_one()

    return get


@pytest.fixture
def today():
    """Stand on a fixed date."""
    d = date(2026, 11, 25)
    clock.set_today(d)
    return d


@pytest.fixture
def factory(db, ref):
    from tests.factories import Factory

    return Factory(db, ref)


@pytest.fixture
def client(app):
    return app.test_client()


def logout(client):
    """Sign out through the real POST (with a CSRF token taken from the password page)."""
    page = client.get("/password")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    return client.post("/logout", data={"csrf_token": token.group(1).decode() if token else ""})


def login(client, user_or_email, password=PASSWORD):
    """Sign in through the real form (with its CSRF token)."""
    email = getattr(user_or_email, "email", user_or_email)
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    resp = client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token.group(1).decode() if token else ""})
    assert resp.status_code == 302, resp.data[:500]
    return resp


def csrf_token(client, url="/login"):
    page = client.get(url)
    m = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    return m.group(1).decode() if m else ""


def real_pdf(text: str = "profreg test document") -> bytes:
    """A small PDF that parses as a whole (pypdf): uploads are validated as whole files (issue 18)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def real_png(size=(8, 8), fmt: str = "PNG") -> bytes:
    """A small image that Pillow decodes as a whole (PNG or JPEG)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()
