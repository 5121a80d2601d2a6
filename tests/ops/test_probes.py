"""/healthz, /readyz, /metrics and the request log (docs/operations.md), against real services:
a database migrated with ``flask db upgrade`` for readiness, the machine's Redis for the queue."""
from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from profreg.ops.web import configure_logging, log
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_signing_in(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_readyz_names_the_failing_check_when_the_schema_is_not_migrated(client):
    # The test database is built from the models, not by Alembic: no revision is recorded.
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is False
    assert "0011" in body["checks"]["migrations"]["detail"] or "code at" in body["checks"]["migrations"]["detail"]


@pytest.fixture(scope="module")
def migrated_url(app, tmp_path_factory):
    """A fresh database upgraded to head by ``flask db upgrade`` (a real process), for this module."""
    tmp_path = tmp_path_factory.mktemp("ready")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        base, _, test_db = url.rpartition("/")
        name = f"{test_db}_mig_{uuid.uuid4().hex[:8]}"  # tests/conftest.py drops it if a crash leaves it
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        target = f"{base}/{name}"

        def cleanup():
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        target = f"sqlite:///{tmp_path / 'ready.db'}"

        def cleanup():
            return None
    env = {"DATABASE_URL": target, "PROFREG_CONFIG": "default", "PATH": "/usr/bin:/bin"}
    up = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr
    yield target
    cleanup()


@pytest.mark.commits  # the served app must use its own database, not the test's rolled-back connection
@pytest.mark.parametrize("redis_url, ready", [(None, True), ("redis://127.0.0.1:6379/0", True),
                                             ("redis://127.0.0.1:1/0", False)])
def test_readyz_on_a_migrated_database(migrated_url, redis_url, ready):
    from profreg import create_app

    target = migrated_url
    served = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": target.replace(
        "postgresql://", "postgresql+psycopg://"), "REDIS_URL": redis_url, "REQUEST_LOG": False,
        "RATELIMIT_STORAGE_URI": "memory://"})  # (the one limiter is re-initialised by every app built)
    with served.app_context():
        resp = served.test_client().get("/readyz")
        body = resp.get_json()
        from profreg.extensions import db as served_db
        served_db.session.remove()
        served_db.engine.dispose()
    assert resp.status_code == (200 if ready else 503), body
    assert body["checks"]["migrations"]["ok"] is True
    if redis_url:
        assert body["checks"]["redis"]["ok"] is ready
    else:
        assert "redis" not in body["checks"]


def test_metrics_refuse_anonymous_and_non_operators(client, factory):
    assert client.get("/metrics").status_code == 401
    hr = factory.user("hr", org=factory.org())
    login(client, hr)
    assert client.get("/metrics").status_code == 403


def test_metrics_for_the_administrator_count_requests_per_endpoint(client, factory):
    admin = factory.user("admin")
    login(client, admin)
    for _ in range(3):
        assert client.get("/admin/").status_code == 200
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    page = resp.get_data(as_text=True)
    served = re.search(r'profreg_http_requests_total\{endpoint="admin.index",method="GET",status="200"\} (\d+)', page)
    assert served and float(served.group(1)) >= 3
    assert "profreg_http_request_duration_seconds_bucket" in page
    assert "/healthz" not in page and "ops.healthz" not in page  # probes are not counted


def test_metrics_for_the_scraper_with_its_token(app, client):
    app.config["METRICS_TOKEN"] = "scrape-" + "x" * 20
    try:
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        resp = client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "x" * 20})
        assert resp.status_code == 200
        assert "profreg_http_requests_total" in resp.get_data(as_text=True)
    finally:
        app.config["METRICS_TOKEN"] = None


def test_metrics_read_the_latest_sweep_run(app, client, factory, db):
    from profreg.clock import utcnow_naive
    from profreg.jobs.models import FINISHED, JobRun

    db.session.add(JobRun(kind="sweep", state=FINISHED, warned=4, blocked=2, unblocked=1, failures=0,
                          finished_at=utcnow_naive()))
    admin = factory.user("admin")
    db.session.flush()
    login(client, admin)
    page = client.get("/metrics").get_data(as_text=True)
    assert 'profreg_job_last_run_blocked{kind="sweep"} 2.0' in page
    assert 'profreg_job_last_run_warned{kind="sweep"} 4.0' in page
    assert 'profreg_job_last_run_failed{kind="sweep"} 0.0' in page


def test_metrics_show_queue_lengths_from_redis(app, client, factory):
    from redis import Redis
    from rq import Queue

    name = f"profreg-test-{uuid.uuid4().hex[:6]}"
    conn = Redis.from_url("redis://127.0.0.1:6379/0")
    queue = Queue(name, connection=conn)
    queue.enqueue("profreg.jobs.exports.purge_exports")
    queue.enqueue("profreg.jobs.exports.purge_exports")
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    try:
        login(client, factory.user("admin"))
        page = client.get("/metrics").get_data(as_text=True)
        assert f'profreg_queue_jobs{{queue="{name}",state="queued"}} 2.0' in page
    finally:
        app.config["REDIS_URL"] = None
        queue.delete(delete_jobs=True)


def test_each_request_is_logged_once_as_json_with_its_id_user_and_duration(app, client, factory):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from pythonjsonlogger.json import JsonFormatter

    handler.setFormatter(JsonFormatter("%(message)s"))
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        hr = factory.user("hr", org=factory.org())
        login(client, hr)
        resp = client.get("/admin/", headers={"X-Request-ID": "trace-42"})
        assert resp.headers["X-Request-ID"] == "trace-42"
        odd = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"})
        assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    panel = [entry for entry in lines if entry.get("request_id") == "trace-42"]
    assert len(panel) == 1
    entry = panel[0]
    assert entry["user_id"] == str(hr.id) and entry["status"] == 200 and entry["endpoint"] == "admin.index"
    assert entry["duration_ms"] >= 0 and entry["method"] == "GET" and entry["path"] == "/admin/"


def test_production_logs_are_json(app):
    from profreg import create_app

    for h in list(log.handlers):
        log.removeHandler(h)
    served = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_FORMAT": "json"})
    try:
        assert any(type(h.formatter).__name__ == "JsonFormatter" for h in log.handlers)
    finally:
        for h in list(log.handlers):
            log.removeHandler(h)
        configure_logging(app)
        del served
