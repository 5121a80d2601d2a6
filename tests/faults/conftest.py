"""Fault tests (docs/operations.md, "What happens when…"): real processes — a private PostgreSQL
cluster restarted under requests, a private Redis stopped while the panel serves, an ``rq worker``
killed with SIGKILL, an SMTP server that is down and then comes back. Each test prints what it did
and what it checked (run with ``-s`` to read it; CI's log keeps it with ``-rA``)."""
from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DEMO_PASSWORD = "Demo-Register-2026"


def pytest_collection_modifyitems(config, items):
    """Minutes of real processes: run when asked for by path (scripts/faults.sh, CI), not in every
    ``pytest`` run of the whole tree."""
    here = Path(__file__).parent
    if any(str(here) in str(Path(a.split("::")[0]).resolve()) for a in config.args):
        return
    skip = pytest.mark.skip(reason="fault tests: run them with bash scripts/faults.sh")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the unit suite's per-test harness: these tests drive their own processes."""
    yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(*parts) -> None:
    print("[fault]", *parts, flush=True)


#: Settings of the test run that must not reach the processes a fault test starts.
_NOT_INHERITED = ("TEST_DATABASE_URL", "DATABASE_URL", "REDIS_URL", "PROFREG_CONFIG")


def environ(extra: dict | None) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    return {**base, **(extra or {})}


def run(args, env=None, timeout=600, check=True):
    proc = subprocess.run(args, cwd=ROOT, env=environ(env) if env is not None else os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster of the machine's server binaries on its own port, owned by
    the ``postgres`` system user (PostgreSQL refuses to run as root)."""

    def __init__(self, base: Path):
        self.dir = base / "pgdata"
        self.sock = base / "pgsock"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/profreg"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg(self, *args, check=True):
        return run([*self._as, str(PG_BIN / args[0]), *args[1:]], check=check, timeout=120)

    def init(self):
        for d in (self.dir.parent, self.sock):
            d.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir.parent, "postgres")
            shutil.chown(self.sock, "postgres")
        self._pg("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()
        run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "profreg"])

    def start(self):
        self._pg("pg_ctl", "-D", str(self.dir), "-w", "-l", str(self.dir / "server.log"), "-o",
                 f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode="fast"):
        self._pg("pg_ctl", "-D", str(self.dir), "-w", "-m", mode, "stop", check=False)


@pytest.fixture
def private_postgres(tmp_path_factory):
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (set PG_BIN)")
    base = Path("/tmp") / f"profreg-fault-pg-{uuid.uuid4().hex[:8]}"
    pg = PrivatePostgres(base)
    try:
        pg.init()
        yield pg
    finally:
        pg.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc:
            stop(self.proc, signal.SIGKILL)


@pytest.fixture
def private_redis():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    r = PrivateRedis()
    r.start()
    yield r
    r.stop()


class _LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Secure cookies go back to 127.0.0.1 over http, as browsers treat loopback as a secure context:
    the served app keeps its production settings (secure cookies, which it refuses to start without)."""

    def return_ok_secure(self, cookie, request):
        return urllib.parse.urlsplit(request.get_full_url()).hostname in ("127.0.0.1", "localhost") or \
            super().return_ok_secure(cookie, request)


class Browser:
    """A cookie-keeping HTTP client for a served app (urllib: what a browser sends, without JS)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar(policy=_LoopbackIsSecure())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, path, data=None, timeout=30, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"Accept-Language": "ru", **(headers or {})})
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace"), time.monotonic() - started, resp.headers
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace"), time.monotonic() - started, err.headers

    def login(self, email, password=DEMO_PASSWORD):
        status, page, _, _ = self.request("/login?lang=ru")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _, _, headers = self.request("/login", {"email": email, "password": password, "csrf_token": token})
        assert status == 302, status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


#: The production settings; the pool's pre-ping can be turned off to see the restart test fail
#: (FAULT_NO_PREPING=1, docs/operations.md).
APP_SPEC = ('profreg:create_app({' + ('"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}'
                                     if os.environ.get("FAULT_NO_PREPING") else "") + "})")


def serve(env: dict, log: Path, app_spec: str = APP_SPEC, workers: int = 2) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60",
                             app_spec], cwd=ROOT, env=environ(env), stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", proc, log)
    return proc, url


def app_env(database_url: str, **extra) -> dict:
    # Production settings, but the demo users sign in with their password alone: production requires
    # the two-step sign-in of admin, ministry and region (TOTP_REQUIRED_ROLES), which these tests of
    # faults do not exercise (tests/panel/test_security_totp.py does).
    return {"DATABASE_URL": database_url, "PROFREG_CONFIG": "production", "SECRET_KEY": "fault-tests-" + "k" * 40,
            "PYTHONUNBUFFERED": "1", "REQUEST_LOG": "0", "TOTP_REQUIRED_ROLES": "", **extra}


@pytest.fixture
def fresh_database():
    """An empty database on the machine's PostgreSQL (127.0.0.1:5432), dropped afterwards."""
    from sqlalchemy import create_engine, text

    server = os.environ.get("FAULT_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
    admin = create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL at {server} is not reachable: {exc}")
    name = f"profreg_fault_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{server}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def demo_register(database_url: str, workers: int = 20) -> None:
    env = app_env(database_url)
    run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], env)
    run([str(BIN / "flask"), "--app", "app", "profreg", "demo", "--workers", str(workers)], env)
