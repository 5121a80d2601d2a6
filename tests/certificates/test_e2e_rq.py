"""Acceptance, end to end: real Redis (127.0.0.1:6379, DB 5, a unique queue), a real ``rq worker
--burst`` subprocess that builds the app from environment variables, and an aiosmtpd sink on loopback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.certificates.conftest import EXPECTED, TODAY, snapshot

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/5"


def _redis():
    from redis import Redis

    r = Redis.from_url(REDIS_URL)
    try:
        r.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    return r


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    sink.port = port
    yield sink
    ctl.stop()


@pytest.fixture
def queue(app):
    from rq import Queue

    r = _redis()
    name = f"profreg-test-{uuid.uuid4().hex[:8]}"
    q = Queue(name, connection=r)
    yield q
    # clean only our own keys
    for key in r.scan_iter(f"*{name}*"):
        r.delete(key)
    r.srem("rq:queues", f"rq:queue:{name}")
    for job_id in getattr(q, "_test_job_ids", []):
        for key in r.scan_iter(f"rq:job:{job_id}*"):
            r.delete(key)
        for key in r.scan_iter(f"rq:results:{job_id}*"):
            r.delete(key)


def run_worker(app, queue, smtp_port):
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PROFREG_CONFIG": "default",
           "REDIS_URL": REDIS_URL, "RQ_QUEUE": queue.name, "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp_port), "MAIL_FROM": "profreg@test.kz", "PYTHONPATH": str(ROOT)}
    env.pop("TEST_DATABASE_URL", None)
    rq = Path(sys.executable).parent / "rq"
    proc = subprocess.run([str(rq), "worker", "--burst", "-u", REDIS_URL, queue.name], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _enqueue(queue, *args, **kw):
    from profreg.certificates.jobs import sweep_job

    job = queue.enqueue(sweep_job, *args, **kw)
    queue.__dict__.setdefault("_test_job_ids", []).append(job.id)
    return job


def _subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


@pytest.mark.commits  # the RQ worker is another process: it must see the scenario, and we its writes
def test_sweep_through_rq_worker_warns_blocks_unblocks_and_mails(app, db, scenario, queue, smtp):
    from profreg.jobs.models import JobRun
    from profreg.notifications.models import MailOutbox

    db.session.commit()
    job = _enqueue(queue, TODAY.isoformat(), job_timeout=300)
    run_worker(app, queue, smtp.port)
    assert job.get_status(refresh=True) == "finished", job.latest_result()
    result = job.return_value()
    assert (result["warned"], result["blocked"], result["unblocked"]) == (2, 2, 1)
    assert result["mails_sent"] == 6
    assert snapshot(db, scenario) == EXPECTED
    # the mails reached the sink, each in its recipient's language
    by_rcpt = {rcpts[0]: msg for rcpts, msg in smtp.messages}
    assert set(by_rcpt) == {"w59@mail.kz", "wexp@mail.kz", "wren@mail.kz", "hr.a@test.kz", "chief.a@test.kz",
                            "hr.b@test.kz"}
    w59 = by_rcpt["w59@mail.kz"]
    assert w59["Content-Language"] == "kk"
    body = w59.get_payload(decode=True).decode()
    assert "Мейіргер ісі" in body and "23.01.2027" in body  # kk specialty name, the date as every page shows it
    ru = by_rcpt["wexp@mail.kz"]
    assert ru["Content-Language"] == "ru"
    digest_kk = by_rcpt["hr.a@test.kz"].get_payload(decode=True).decode()
    assert "Алпысова" in digest_kk and "Вахитова" in digest_kk and "Габитова" in digest_kk
    assert "Ержанова" not in digest_kk  # organization B is not hr.a's business
    assert "Ержанова" in by_rcpt["hr.b@test.kz"].get_payload(decode=True).decode()
    db.session.rollback()
    assert {m.state for m in db.session.execute(select(MailOutbox)).scalars()} == {"sent"}
    run = db.session.execute(select(JobRun).where(JobRun.kind == "sweep")).scalar_one()
    assert run.state == "finished" and run.rq_job_id == job.id and (run.warned, run.blocked, run.unblocked) == (2, 2, 1)

    # a second sweep adds nothing: no notice, no notification, no mail, no audit entry
    sent_before = len(smtp.messages)
    job2 = _enqueue(queue, TODAY.isoformat())
    run_worker(app, queue, smtp.port)
    assert job2.get_status(refresh=True) == "finished"
    r2 = job2.return_value()
    assert (r2["warned"], r2["blocked"], r2["unblocked"], r2["notifications"], r2["mails_queued"],
            r2["mails_sent"]) == (0, 0, 0, 0, 0, 0)
    assert len(smtp.messages) == sent_before
    assert snapshot(db, scenario) == EXPECTED


def test_failed_job_is_retried_and_kept_in_the_failed_registry(app, db, queue):
    from rq import Retry
    from rq.registry import FailedJobRegistry

    job = _enqueue(queue, "not-a-date", retry=Retry(max=2, interval=0))
    run_worker(app, queue, _free_port())
    assert job.get_status(refresh=True) == "failed"
    job.refresh()
    assert job.retries_left == 0
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids()
    assert "Invalid isoformat string: 'not-a-date'" in job.latest_result().exc_string


def test_failed_mail_stays_in_the_outbox_and_is_retried(app, db, scenario, smtp):
    from datetime import timedelta

    from profreg import clock
    from profreg.certificates.jobs import run_sweep
    from profreg.notifications.mail import deliver_pending
    from profreg.notifications.models import MailOutbox

    dead = _free_port()  # nothing listens there
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead)
    try:
        result = run_sweep(TODAY)
        assert result["mails_sent"] == 0 and result["mails_failed"] == 6
        rows = db.session.execute(select(MailOutbox)).scalars().all()
        assert {r.state for r in rows} == {"failed"} and all(r.attempts == 1 and r.last_error for r in rows)
        app.config.update(MAIL_PORT=smtp.port)
        assert deliver_pending() == {"sent": 0, "failed": 0}  # not due yet (back-off)
        with clock.frozen(TODAY + timedelta(days=1)):
            assert deliver_pending() == {"sent": 6, "failed": 0}
        db.session.rollback()
        rows = db.session.execute(select(MailOutbox)).scalars().all()
        assert {r.state for r in rows} == {"sent"} and all(r.attempts == 2 for r in rows)
        assert len(smtp.messages) == 6
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)


def test_cron_module_registers_the_daily_sweep(monkeypatch):
    import importlib

    from rq import cron

    registered = []
    monkeypatch.setattr(cron, "register", lambda func, **kw: registered.append((func.__name__, kw)))
    monkeypatch.setenv("SWEEP_HOUR", "3")
    import profreg.jobs.cron as mod

    importlib.reload(mod)
    kinds = {name: kw for name, kw in registered}
    assert kinds["trigger_sweep"]["cron"] == "0 3 * * *"
    assert "deliver_mail" in kinds
    assert kinds["purge_exports"]["cron"] == "17 * * * *"
