"""Settings of the app's PostgreSQL sessions (profreg._postgres_settings)."""
import pytest
from sqlalchemy import text


def test_postgresql_sessions_run_without_jit(app, db):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a PostgreSQL setting: run with the suite on PostgreSQL (TEST_DATABASE_URL)")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
    assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


def test_jit_can_be_turned_back_on(app):
    from profreg import create_app

    on = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x", "POSTGRES_JIT": True})
    off = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    assert "jit" not in str(on.config["SQLALCHEMY_ENGINE_OPTIONS"])
    assert "-c jit=off" in off.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]


def test_random_page_cost_is_set_unless_left_to_the_server(app):
    from profreg import create_app

    base = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x", "RATELIMIT_STORAGE_URI": "memory://"}
    default = create_app(dict(base))
    server = create_app({**base, "POSTGRES_RANDOM_PAGE_COST": "", "POSTGRES_PARALLEL_WORKERS": "",
                         "POSTGRES_JIT": True})
    assert "-c random_page_cost=1.1" in default.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert "random_page_cost" not in str(server.config["SQLALCHEMY_ENGINE_OPTIONS"])


def test_parallel_query_is_off_unless_left_to_the_server(app):
    from profreg import create_app

    base = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x", "RATELIMIT_STORAGE_URI": "memory://"}
    default = create_app(dict(base))
    two = create_app({**base, "POSTGRES_PARALLEL_WORKERS": "2"})
    server = create_app({**base, "POSTGRES_PARALLEL_WORKERS": "", "POSTGRES_RANDOM_PAGE_COST": "", "POSTGRES_JIT": True})
    assert "-c max_parallel_workers_per_gather=0" in default.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert "-c max_parallel_workers_per_gather=2" in two.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert "max_parallel" not in str(server.config["SQLALCHEMY_ENGINE_OPTIONS"])


def test_a_file_written_in_the_background_gets_parallel_workers_for_its_copy_only(app, db):
    from profreg.exports.pgcopy import _parallel

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a PostgreSQL setting: run with the suite on PostgreSQL (TEST_DATABASE_URL)")
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cur:
        _parallel(cur)
        cur.execute("SHOW max_parallel_workers_per_gather")
        assert cur.fetchone()[0] == "2"
    db.session.rollback()  # the transaction ends: the session's own setting again
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
