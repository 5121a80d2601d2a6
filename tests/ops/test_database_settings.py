"""Settings of the app's PostgreSQL sessions (profreg._postgres_settings)."""
import pytest
from sqlalchemy import text


def test_postgresql_sessions_run_without_jit(app, db):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a PostgreSQL setting: run with the suite on PostgreSQL (TEST_DATABASE_URL)")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"


def test_jit_can_be_turned_back_on(app):
    from profreg import create_app

    on = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x", "POSTGRES_JIT": True})
    off = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    assert "jit" not in str(on.config["SQLALCHEMY_ENGINE_OPTIONS"])
    assert off.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"].endswith("-c jit=off")
