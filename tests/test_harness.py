"""The test harness itself (tests/conftest.py): one connection per test in a transaction that is rolled
back, every session on it in a SAVEPOINT, ``commits`` tests on real transactions."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from profreg.auth.models import User


def _bind(db):
    return db.session.session_factory.kw["bind"]


def test_commit_only_releases_a_savepoint_of_the_outer_transaction(db, factory):
    conn = _bind(db)
    assert db.session.connection() is conn
    factory.org()
    db.session.commit()
    assert conn.in_transaction(), "a commit in a test must not end the outer transaction"
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0
    db.session.execute(select(1))
    assert conn.in_nested_transaction(), "each session transaction is a SAVEPOINT"


def test_a_session_of_another_app_context_joins_the_same_connection(app, db, factory):
    org = factory.org()
    db.session.commit()
    model, org_id = type(org), org.id  # (read here: touching the test's objects in the other context
    # would begin a SAVEPOINT of the test's session inside the other session's one)
    with app.app_context():
        other = db.session()
        assert other.connection() is _bind(db)
        assert other.get(model, org_id) is not None  # sees what the test committed


def test_a_request_in_its_own_context_keeps_its_writes_after_the_test_session_rolls_back(app, db, factory):
    from tests.panel.conftest import FreshContextClient, token

    user = factory.user("ministry")
    client = FreshContextClient(app, use_cookies=True)
    assert db.session.get(User, user.id).failed_logins == 0  # the test's session reads (a SAVEPOINT)...
    client.post("/login", data={"email": user.email, "password": "wrong", "csrf_token": token(client)})
    db.session.rollback()  # ...and rolls back after the request committed: as on a real database,
    assert db.session.get(User, user.id).failed_logins == 1  # the request's commit stays


def test_uncommitted_test_data_before_a_fresh_context_request_is_an_error(app, db, factory):
    from tests.panel.conftest import FreshContextClient

    factory.org()  # flushed, not committed
    with pytest.raises(AssertionError, match="uncommitted changes"):
        FreshContextClient(app).get("/login")


@pytest.mark.commits
def test_commits_marker_commits_for_real(db, factory):
    org = factory.org()
    db.session.commit()
    assert db.session.session_factory.kw.get("bind") is None
    with db.engine.connect() as other:  # another connection sees it: it is committed
        assert other.execute(select(type(org).id).where(type(org).id == org.id)).scalar() == org.id


def test_databases_left_by_dead_test_processes_are_dropped(app, db):
    """PostgreSQL: ``<name>_<pid>`` databases of processes that are gone (a crashed run) are dropped
    at the next start; those of live processes are kept."""
    from sqlalchemy import create_engine, text

    from tests.conftest import _drop_stale_databases, _pid_alive

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("per-process databases exist on PostgreSQL only")
    base, _, mine = url.rpartition("/")
    name = mine.rsplit("_", 1)[0]
    dead = next(pid for pid in range(4_194_000, 4_000_000, -1) if not _pid_alive(pid))
    stale, alive = f"{name}_{dead}_mig_0badc0de", f"{name}_1"  # pid 1 is always alive
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            for n in (stale, alive):
                c.execute(text(f'CREATE DATABASE "{n}"'))
        _drop_stale_databases(admin, name)
        with admin.connect() as c:
            left = set(c.execute(text("SELECT datname FROM pg_database")).scalars())
        assert stale not in left and alive in left and mine in left
    finally:
        with admin.connect() as c:
            for n in (stale, alive):
                c.execute(text(f'DROP DATABASE IF EXISTS "{n}"'))
        admin.dispose()


def test_a_direct_update_counts_as_uncommitted_data(app, db, factory):
    from sqlalchemy import update

    from tests.panel.conftest import FreshContextClient

    user = factory.user("ministry")  # committed
    db.session.execute(update(User).where(User.id == user.id).values(failed_logins=3))  # no flush involved
    with pytest.raises(AssertionError, match="uncommitted changes"):
        FreshContextClient(app).get("/login")
