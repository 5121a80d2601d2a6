"""``python -m bench replica --workers 300000``: reports and analytics on a streaming read replica.

Makes a hot standby of the local PostgreSQL cluster (``pg_basebackup -R``: streaming replication, as a
production replica is made), starts it on its own port, and serves the app with ``DATABASE_URL`` = the
primary's benchmark database and ``DATABASE_REPLICA_URL`` = the same database on the standby. Then, as
the ministry, through the panel:

* the live monthly report, the charts and the data-currency ranking are requested; every statement is
  counted per server (SQLAlchemy engine events): the report's aggregates run on the standby, the page's
  sign-in check and the unit of work on the primary;
* a worker's phone is changed through the panel (the primary) and the time until the standby shows it
  is measured (the replay delay a live report may lag by).

The standby is stopped and removed at the end. It needs replication connections from 127.0.0.1 (the
server's ``pg_hba.conf``: ``host replication all 127.0.0.1/32 trust``); without them it says so.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text

from .common import adder

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Standby:
    def __init__(self):
        self.base = Path("/tmp") / f"profreg-replica-{uuid.uuid4().hex[:8]}"
        self.dir = self.base / "data"
        self.port = _free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, check=True, timeout=1800):
        return subprocess.run([*self._as, *args], check=check, capture_output=True, text=True, timeout=timeout)

    def make(self) -> float:
        self.base.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        t0 = time.perf_counter()
        self._run(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-D", str(self.dir),
                  "-X", "stream", "-R", "-c", "fast")
        took = time.perf_counter() - t0
        # A Debian cluster keeps its configuration in /etc: the standby gets its own minimal one.
        for name, body in (("postgresql.conf", "hot_standby = on\n"), ("pg_ident.conf", ""),
                           ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n")):
            path = self.dir / name
            path.write_text(body)
            if os.geteuid() == 0:
                shutil.chown(path, "postgres")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-w", "-t", "300", "-l", str(self.base / "server.log"),
                  "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c jit=off", "start")
        return took

    def stop(self):
        if self.dir.exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def run(table=None, url: str | None = None, workers: int | None = None, requests: int = 5) -> dict:
    from .web import login, make_app

    add = adder(table)

    figures = {}
    probe = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "IDENTIFY_SYSTEM",
                            "replication=database dbname=postgres"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        add("read replica", "not run", "the server refuses replication connections from 127.0.0.1: add "
            "'host replication all 127.0.0.1/32 trust' to pg_hba.conf and reload")
        return figures
    standby = Standby()
    try:
        took = standby.make()
        add("read replica: pg_basebackup of the local cluster", f"{took:.1f} s", f"standby on port {standby.port}")
        replica_url = url.replace("127.0.0.1:5432", f"127.0.0.1:{standby.port}")
        eng = create_engine(replica_url)
        with eng.connect() as c:
            assert c.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        eng.dispose()

        app = make_app(url, DATABASE_REPLICA_URL=replica_url, REQUEST_LOG=False)
        from profreg import replica
        from profreg.extensions import db

        counts = {"primary": 0, "replica": 0}
        with app.app_context():
            primary_engine, replica_engine = db.engine, replica.engine()

        def counter(name):
            def note(conn, cursor, statement, params, context, executemany):
                counts[name] += 1
            return note

        event.listen(primary_engine, "before_cursor_execute", counter("primary"))
        event.listen(replica_engine, "before_cursor_execute", counter("replica"))
        client = login(app, "ministry@profreg.kz")
        for label, path in (("live monthly report", "/admin/monitoring/?live=1"),
                            ("data-currency ranking", "/admin/data-currency/"), ("charts", "/admin/charts/")):
            client.get(path)  # warm the routes' own caches
            for k in counts:
                counts[k] = 0
            t0 = time.perf_counter()
            status = [client.get(path).status_code for _ in range(requests)]
            ms = (time.perf_counter() - t0) / requests * 1000
            figures[label] = dict(counts, ms=ms)
            add(f"read replica: {label} (ministry)", f"{ms:.0f} ms",
                f"statements per page: {counts['replica'] / requests:.0f} on the replica, "
                f"{counts['primary'] / requests:.0f} on the primary; HTTP {sorted(set(status))}")

        # replay delay: a write on the primary, polled on the standby
        peng, reng = create_engine(url), create_engine(replica_url)
        marker = f"+7 700 {uuid.uuid4().int % 10_000_000:07d}"
        with peng.begin() as c:
            wid = c.execute(text("SELECT id FROM worker ORDER BY id LIMIT 1")).scalar()
            old = c.execute(text("SELECT phone FROM worker WHERE id = :id"), {"id": wid}).scalar()
            c.execute(text("UPDATE worker SET phone = :p WHERE id = :id"), {"p": marker, "id": wid})
        t0 = time.perf_counter()
        seen = None
        while time.perf_counter() - t0 < 30:
            with reng.connect() as c:
                if c.execute(text("SELECT phone FROM worker WHERE id = :id"), {"id": wid}).scalar() == marker:
                    seen = time.perf_counter() - t0
                    break
            time.sleep(0.005)
        with peng.begin() as c:
            c.execute(text("UPDATE worker SET phone = :p WHERE id = :id"), {"p": old, "id": wid})
        peng.dispose()
        reng.dispose()
        figures["replay_s"] = seen
        add("read replica: a committed write visible on the standby after",
            f"{seen * 1000:.0f} ms" if seen is not None else "> 30 s", "streaming replication, polled every 5 ms")
        with app.app_context():
            db.session.remove()
            replica_engine.dispose()
            primary_engine.dispose()
    finally:
        standby.stop()
    return figures
