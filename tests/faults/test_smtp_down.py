"""SMTP down: the outbox keeps every mail, retries with back-off (not before it is due), and delivers
each one exactly once when the mail server is back (a real aiosmtpd process, a real Maildir)."""
from __future__ import annotations

import mailbox
import re
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from .conftest import BIN, app_env, demo_register, environ, free_port, run, say, stop

RETRY = 20  # seconds before the first retry (MAIL_RETRY_SECONDS; production: 300)


def _outbox(url):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT state, count(*) FROM mail_outbox GROUP BY state")).all())
    finally:
        engine.dispose()


def _retry_delays(url) -> set[int]:
    """Seconds between each failed mail's last attempt and its next one."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT floor(extract(epoch FROM next_attempt_at - claimed_at))::int FROM mail_outbox")).scalars())
    finally:
        engine.dispose()


def _send(env) -> dict:
    out = run([str(BIN / "flask"), "--app", "app", "profreg", "mail", "send"], env).stdout
    return {k: int(v) for k, v in re.findall(r"(sent|failed)\D{0,3}(\d+)", out)}


def test_mails_wait_while_smtp_is_down_and_are_delivered_once_when_it_returns(fresh_database, tmp_path):
    demo_register(fresh_database, workers=20)
    before = _outbox(fresh_database)
    pending = sum(before.values())
    assert pending > 0 and set(before) == {"pending"}, before
    port = free_port()
    env = app_env(fresh_database, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), MAIL_RETRY_SECONDS=str(RETRY))
    say(f"{pending} mails in the outbox after the demo's sweep; SMTP at 127.0.0.1:{port} is down")

    first = _send(env)
    failed_at = time.monotonic()
    assert first.get("failed") == pending and not first.get("sent"), first
    assert _outbox(fresh_database) == {"failed": pending}
    delays = _retry_delays(fresh_database)
    assert RETRY <= min(delays) and max(delays) <= RETRY + 10, delays  # the claim came before the failure
    say("first delivery: every mail failed and stays in the outbox, due again after the back-off")

    maildir = tmp_path / "maildir"
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
                               "aiosmtpd.handlers.Mailbox", str(maildir)], env=environ({}),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(1.0)
        early = _send(env)
        if time.monotonic() - failed_at < RETRY:  # (a slow machine may take longer than the back-off)
            assert not early.get("sent") and not early.get("failed"), early  # not due yet: the back-off holds
            say("SMTP back; a delivery before the back-off ran out sent nothing")
        time.sleep(max(0.0, RETRY + 1 - (time.monotonic() - failed_at)))
        second = _send(env)
        assert second.get("sent") == pending and not second.get("failed"), second
        third = _send(env)
        assert not third.get("sent"), third
        delivered = len(mailbox.Maildir(str(maildir), create=False))
        assert delivered == pending, (delivered, pending)
        assert _outbox(fresh_database) == {"sent": pending}
        say(f"after the back-off: {pending} mails delivered, each once ({delivered} in the Maildir); "
            "a further run sent none")
    finally:
        stop(server)
