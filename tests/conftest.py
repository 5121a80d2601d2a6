"""Test harness: one app per session, a clean database per test, on SQLite or PostgreSQL.

``TEST_DATABASE_URL`` (or ``DATABASE_URL``) selects PostgreSQL; each pytest process then creates its
own database (``<name>_<pid>``) and drops it at the end, so parallel runs never share rows.
"""
from __future__ import annotations

import os
import re
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from profreg import clock

PASSWORD = "Correct-Horse-42"


def _database_url(tmp_path_factory) -> tuple[str, str | None]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if url.startswith(("postgres://", "postgresql")):
        url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)
        base, _, name = url.rpartition("/")
        name = f"{name or 'profreg_test'}_{os.getpid()}"
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"{base}/{name}", name
    path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite:///{path}", None


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url, pg_name = _database_url(tmp_path_factory)
    from profreg import create_app
    from profreg.extensions import db

    application = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                              "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
                              "REDIS_URL": None, "MAIL_SERVER": None, "WTF_CSRF_ENABLED": True,
                              "FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR": False,
                              "PASSWORD_HASH_PROFILE": "CHEAPEST"})
    @application.before_request
    def _fresh_user_per_request():
        # Tests hold a context open, and a test-client request reuses it: without this, Flask-Login's
        # user cached on ``g`` would carry over from one signed-in client to the next.
        from flask import g

        g.pop("_login_user", None)

    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg_name:
        base = url.rpartition("/")[0]
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()


def _wipe(db):
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            db.session.execute(text(f'DELETE FROM "{t}"'))
    db.session.commit()
    from profreg.access import forget_estimates
    from profreg.admin.base import invalidate_filter_options

    invalidate_filter_options()  # cached list filters name reference rows of the previous test
    forget_estimates()  # and cached planner estimates describe its data


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts on an empty database, inside an app context, with the real clock."""
    from profreg.extensions import db

    # Code run outside a client request (services, validators) speaks English, the msgids: assertions
    # on messages do not depend on the compiled catalogs. Pages choose their own language per request.
    ctx = app.test_request_context(headers={"Accept-Language": "en"})
    ctx.push()
    try:
        yield
    finally:
        clock.set_today(None)
        db.session.rollback()
        _wipe(db)
        db.session.remove()
        ctx.pop()


@pytest.fixture
def db(app):
    from profreg.extensions import db as _db

    return _db


@pytest.fixture
def ref(db):
    """Reference data loaded from the seed files; returns a lookup ``ref(Model, code)``."""
    from sqlalchemy import select

    from profreg.reference.services import load_reference

    load_reference()
    db.session.commit()

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
