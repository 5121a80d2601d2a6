"""An ``rq worker`` killed with SIGKILL in the middle of the certificate sweep and of a big export.

To kill it *in the middle* every time, the test holds a PostgreSQL lock on a table the job needs
after it has started (its run is committed as running), waits until the job is blocked on it, kills
the worker's whole process group (the worker and its work-horse) and releases the lock.
- The sweep: re-run, it completes, and the register ends exactly as on a copy of the same database
  swept once without a fault: the same notices, notifications, mails and blocks — none twice.
- The export: no file is offered while it is unfinished; RQ's maintenance retries the abandoned
  job (``Retry``), which makes the whole file once, with one "ready" notice.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlalchemy import create_engine, text

from .conftest import BIN, Browser, app_env, demo_register, environ, run, say, serve, stop

REDIS = os.environ.get("FAULT_REDIS_URL", "redis://127.0.0.1:6379/6")
SWEEP_DAY = "2027-06-18"  # ~200 days on: many certificates enter the warning window or expire


def _engine(url):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def _wait_for(engine, sql, timeout=120, **params):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as c:
            value = c.execute(text(sql), params).scalar()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {sql}")


def _blocked_on_lock(engine, table: str) -> bool:
    with engine.connect() as c:
        return bool(c.execute(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation "
            "WHERE r.relname = :t AND NOT l.granted"), {"t": table}).scalar())


def _kill_worker(worker: subprocess.Popen) -> list[int]:
    """SIGKILL the worker and its work-horse (RQ's horse calls setsid: it is in a group of its own)."""
    horses = [int(p) for p in subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True,
                                             text=True).stdout.split()]
    for pid in [*horses, worker.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=10)
    return horses


def _kill_midway(engine, table: str, start_worker, running_sql: str, **params) -> None:
    """Lock ``table``, start the worker (``start_worker()``), wait until its job is running (``running_sql``
    answers) and blocked on the lock, SIGKILL the worker and its horse, release the lock."""
    lock = engine.connect()
    lock_tx = lock.begin()
    lock.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    worker = start_worker()
    try:
        _wait_for(engine, running_sql, **params)
        deadline = time.monotonic() + 60
        while not _blocked_on_lock(engine, table) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _blocked_on_lock(engine, table), f"the job never reached the locked table {table}"
        assert _kill_worker(worker), "no work-horse found"
    finally:
        stop(worker, signal.SIGKILL)
        lock_tx.rollback()
        lock.close()


def _worker(env, queue, *extra):
    return subprocess.Popen([str(BIN / "rq"), "worker", "-u", REDIS, "--name", f"fault-{uuid.uuid4().hex[:6]}",
                             *extra, queue], cwd=os.getcwd(), env=environ(env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _state(url) -> dict:
    """What the sweep leaves: notices, notifications, mails, blocked posts and workers."""
    engine = _engine(url)
    try:
        with engine.connect() as c:
            q = {
                "notices": "SELECT kind || ':' || event_key FROM notice",
                "notifications": "SELECT n.kind || ':' || n.event_key || '>' || x.user_id FROM notification x "
                                 "JOIN notice n ON n.id = x.notice_id",
                "mails": "SELECT kind || ':' || recipient || ':' || coalesce(notice_id::text, '-') FROM mail_outbox",
                "blocked_posts": "SELECT id::text FROM employment WHERE blocked_at IS NOT NULL",
                "blocked_workers": "SELECT iin FROM worker WHERE blocked_at IS NOT NULL",
            }
            return {k: sorted(c.execute(text(v)).scalars()) for k, v in q.items()}
    finally:
        engine.dispose()


def test_sweep_killed_midway_then_rerun_equals_a_clean_sweep(fresh_database, tmp_path):
    demo_register(fresh_database, workers=40)
    base, _, name = fresh_database.rpartition("/")
    clean_name = f"{name}_clean"
    admin = create_engine(f"{base.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{clean_name}" TEMPLATE "{name}"'))
    clean = f"{base}/{clean_name}"
    queue = f"fault-sweep-{uuid.uuid4().hex[:6]}"
    env = app_env(fresh_database, REDIS_URL=REDIS, RQ_QUEUE=queue)
    try:
        run([str(BIN / "flask"), "--app", "app", "profreg", "sweep", "--today", SWEEP_DAY, "--no-mail"],
            app_env(clean))
        expected = _state(clean)
        assert expected["notices"] and expected["blocked_posts"], expected
        say(f"reference: a clean sweep on {SWEEP_DAY} on a copy: {len(expected['notices'])} notices, "
            f"{len(expected['blocked_posts'])} blocked posts")

        engine = _engine(fresh_database)
        run([str(BIN / "flask"), "--app", "app", "profreg", "sweep", "--today", SWEEP_DAY, "--enqueue"], env)
        _kill_midway(engine, "notice", lambda: _worker(env, queue),
                     "SELECT id FROM job_run WHERE kind = 'sweep' AND state = 'running' AND run_date = :d", d=SWEEP_DAY)
        say("rq worker SIGKILLed while the sweep was running (blocked on the notice table)")

        run([str(BIN / "flask"), "--app", "app", "profreg", "sweep", "--today", SWEEP_DAY, "--no-mail"],
            app_env(fresh_database))
        got = _state(fresh_database)
        for key in expected:
            if key != "mails":  # (a daily HR digest has no notice: one per day, compared as a multiset)
                assert len(got[key]) == len(set(got[key])), f"{key} twice"
            assert got[key] == expected[key], (key, got[key], expected[key])
        say("re-run completed: notices, notifications, mails and blocks identical to the clean sweep, none twice")
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{clean_name}" WITH (FORCE)'))
        admin.dispose()
        Queue(queue, connection=Redis.from_url(REDIS)).delete(delete_jobs=True)


def test_export_killed_midway_offers_no_file_and_is_retried_whole(fresh_database, tmp_path):
    demo_register(fresh_database, workers=40)
    queue = f"fault-export-{uuid.uuid4().hex[:6]}"
    exports = tmp_path / "exports"
    env = app_env(fresh_database, REDIS_URL=REDIS, RQ_QUEUE=queue, EXPORT_FOLDER=str(exports),
                  JOB_RETRY_INTERVALS="1,1,1")
    spec = 'profreg:create_app({"EXPORT_INLINE_MAX_ROWS": 5})'
    proc, url = serve(env, tmp_path / "gunicorn.log", app_spec=spec)
    engine = _engine(fresh_database)
    redis = Redis.from_url(REDIS)
    try:
        ministry = Browser(url)
        ministry.login("ministry@profreg.kz")
        status, _, _, headers = ministry.request("/admin/workers/export/xlsx/")
        assert status == 302 and "/admin/exports/" in headers["Location"], status
        export_id = _wait_for(engine, "SELECT max(id) FROM export_file")

        _kill_midway(engine, "worker", lambda: _worker(env, queue),
                     "SELECT id FROM export_file WHERE id = :i AND state = 'running'", i=export_id)
        say("rq worker SIGKILLed while the export was running")

        status, page, _, _ = ministry.request("/admin/exports/")
        assert status == 200 and "/admin/exports/download/" not in page
        refused = ministry.request(f"/admin/exports/download/{export_id}/")
        assert refused[0] == 404, (refused[0], refused[1][:1500], export_id)
        assert not [p for p in exports.glob("*") if not p.name.endswith(".part")]
        say("meanwhile: no download offered, the download URL answers 404, no file in the export folder")

        # RQ's maintenance finds the abandoned job once its heartbeat has expired (here: asked to look
        # an hour ahead) and retries it with the job's Retry (1 s here), which a worker then runs.
        StartedJobRegistry(queue, connection=redis).cleanup(timestamp=time.time() + 3600)
        time.sleep(1.5)
        done = subprocess.run([str(BIN / "rq"), "worker", "--burst", "--with-scheduler", "-u", REDIS, queue],
                              env=environ(env), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        _wait_for(engine, "SELECT id FROM export_file WHERE id = :i AND state = 'done'", timeout=60, i=export_id)
        with engine.connect() as c:
            notices = c.execute(text("SELECT count(*) FROM notice WHERE export_id = :i"), {"i": export_id}).scalar()
        assert notices == 1
        status, body, _, _ = ministry.request(f"/admin/exports/download/{export_id}/")
        assert status == 200
        from openpyxl import load_workbook

        stored = next(exports.glob(f"export-{export_id}.xlsx"))
        rows = sum(1 for _ in load_workbook(stored, read_only=True).active.iter_rows()) - 1
        with engine.connect() as c:
            workers = c.execute(text("SELECT count(*) FROM worker")).scalar()
        assert rows == workers, (rows, workers)
        say(f"RQ retried the abandoned job: the export is done once, {rows} rows (every worker), one notice")
    finally:
        stop(proc)
        engine.dispose()
        Queue(queue, connection=redis).delete(delete_jobs=True)
