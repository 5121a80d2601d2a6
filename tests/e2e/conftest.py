"""The end-to-end suite: the application served as production runs it, driven by a real browser.

One session fixture (``served``) starts, on a fresh PostgreSQL database ``profreg_e2e_<pid>`` loaded
with a small demo country: gunicorn (``PROFREG_CONFIG=production``) on a free port, and an
``rq worker`` on its own queue (``profreg_e2e_<pid>``, Redis DB ``E2E_REDIS_DB``, default 13). It stops
what it started and drops the database. Playwright drives Debian's Chromium (``/usr/bin/chromium``;
Playwright's own browser download is not reachable); without Chromium, PostgreSQL or Redis the
suite is skipped with the reason.

Artifacts (gitignored) go to ``test-artifacts/e2e/``: a screenshot and the page HTML of every failed
test, the screenshots of the main pages in kk/ru/en, and the server and worker logs.

Environment: ``E2E_DATABASE_URL`` (server, default ``postgresql://postgres@127.0.0.1:5432``),
``E2E_REDIS_URL`` (default ``redis://127.0.0.1:6379``), ``E2E_WORKERS`` (demo size, default 150),
``CHROMIUM`` (default ``/usr/bin/chromium``).
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PG_SERVER = os.environ.get("E2E_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
REDIS_SERVER = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_DB = int(os.environ.get("E2E_REDIS_DB", "13"))
DEMO_WORKERS = int(os.environ.get("E2E_WORKERS", "150"))
#: The served app's EXPORT_INLINE_MAX_ROWS: the ministry's bigger lists go through the background export.
INLINE_EXPORT_LIMIT = 100
DEMO_PASSWORD = "Demo-Register-2026"
NEW_PASSWORD = "E2e-Chosen-Password-77"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
BIN = Path(sys.executable).parent

#: demo users (profreg/demo/generator.py DEMO_USERS) by role
DEMO_USERS = {"admin": "admin@profreg.kz", "ministry": "ministry@profreg.kz", "region": "region@profreg.kz",
              "org_head": "head@profreg.kz", "hr_chief": "hrchief@profreg.kz", "hr": "hr@profreg.kz",
              "association": "association@profreg.kz"}

# Users that must change their password at first sign-in: one per role, in the demo users' scopes.
_SEED = """
from sqlalchemy import select
from profreg import create_app
from profreg.auth.models import User
from profreg.auth.services import create_user
from profreg.extensions import db
from profreg.uow import unit_of_work
app = create_app()
with app.app_context(), unit_of_work():
    for role, email in {demo!r}.items():
        u = db.session.execute(select(User).where(User.email == email)).scalar_one()
        create_user(f"new-{{role}}@e2e.kz", role, {password!r}, organization=u.organization, region=u.region,
                    specialties=list(u.specialties), must_change=True)
"""


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"e2e suite skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "e2e suite skipped: playwright is not installed (bash scripts/install.sh)"
    host, port = re.match(r".*@([^:/]+):?(\d+)?", PG_SERVER).groups()
    for what, h, p in (("PostgreSQL", host, int(port or 5432)),
                       ("Redis", *re.match(r"redis://([^:/]+):?(\d+)?", REDIS_SERVER).groups())):
        try:
            socket.create_connection((h, int(p or 6379)), timeout=2).close()
        except OSError:
            return f"e2e suite skipped: {what} is not reachable at {h}:{p}"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = None
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            reason = reason or _missing() or ""
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
    if reason:
        print(f"\n{reason}", file=sys.stderr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the unit suite's per-test database harness: the e2e tests talk to a served app."""
    yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url}:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own process group (start_new_session): its workers too
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Served:
    def __init__(self, url, env, queue, redis_url):
        self.url, self.env, self.queue, self.redis_url = url, env, queue, redis_url

    def flask(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def sql(self, statement: str, **params):
        """Read the served database directly (assertions only: the app writes)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as c:
                return c.execute(text(statement), params).all()
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    from sqlalchemy import create_engine, text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"profreg_e2e_{os.getpid()}"
    admin = create_engine(f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    queue = name.replace("profreg_e2e", "profreg_e2e_q")
    redis_url = f"{REDIS_SERVER}/{REDIS_DB}"
    env = {**os.environ, "PROFREG_CONFIG": "production", "DATABASE_URL": f"{PG_SERVER}/{name}",
           "REDIS_URL": redis_url, "RQ_QUEUE": queue, "SECRET_KEY": f"e2e-{os.getpid()}-{secrets.token_hex(24)}",
           "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")), "MAIL_SERVER": "",
           # lists longer than this are exported in the background by the rq worker (test_exports.py)
           "EXPORT_INLINE_MAX_ROWS": str(INLINE_EXPORT_LIMIT),
           "EXPORT_FOLDER": str(tmp_path_factory.mktemp("exports")),
           # the demo users sign in with their password: production's two-step sign-in of admin, ministry
           # and region (TOTP_REQUIRED_ROLES) is tested in tests/panel/test_security_totp.py
           "TOTP_REQUIRED_ROLES": "",
           "PYTHONUNBUFFERED": "1"}
    env.pop("TEST_DATABASE_URL", None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        srv = Served(url, env, queue, redis_url)
        srv.flask("db", "upgrade")
        srv.flask("profreg", "demo", "--workers", str(DEMO_WORKERS))
        seed = subprocess.run([sys.executable, "-c", _SEED.format(demo=DEMO_USERS, password=DEMO_PASSWORD)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert seed.returncode == 0, seed.stderr
        glog, wlog = ARTIFACTS / "gunicorn.log", ARTIFACTS / "rq-worker.log"
        for path in (glog, wlog):
            logs.append(path.open("w"))
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "--threads", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120",
             "--access-logfile", "-", "app:app"],
            cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen(
            [str(BIN / "rq"), "worker", "-u", redis_url, "--with-scheduler", "--name", f"e2e-{os.getpid()}", queue],
            cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True))
        _wait_http(f"{url}/login", procs[0], glog)
        yield srv
    finally:
        for proc in procs:
            _stop(proc)
        for f in logs:
            f.close()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        try:
            from redis import Redis

            r = Redis.from_url(redis_url)
            for key in r.scan_iter(f"*{queue}*"):
                r.delete(key)
        except Exception:  # noqa: BLE001 - cleanup only
            pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser, served):
    ctx = browser.new_context(base_url=served.url, accept_downloads=True, locale="ru-RU",
                              viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:150]


@pytest.fixture
def page(context, request):
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))
    if failed:
        out = ARTIFACTS / "failures"
        out.mkdir(parents=True, exist_ok=True)
        stem = out / _slug(request.node.nodeid)
        for p_i, open_page in enumerate(context.pages):
            suffix = "" if p_i == 0 else f"-{p_i}"
            try:
                open_page.screenshot(path=f"{stem}{suffix}.png", full_page=True)
                Path(f"{stem}{suffix}.html").write_text(open_page.content(), encoding="utf-8")
            except Exception as exc:  # noqa: BLE001 - the failure itself is what matters
                Path(f"{stem}{suffix}.txt").write_text(f"no screenshot: {exc}\nurl: {open_page.url}")
    pg.close()


def login(page, email: str, password: str = DEMO_PASSWORD, lang: str = "en") -> None:
    page.goto(f"/login?lang={lang}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator(".alert").all_inner_texts()


def logout(page) -> None:
    """Sign out as the navbar does: a POST with the CSRF token (GET /logout is refused, issue 18)."""
    page.goto("/admin/")  # the navbar's sign-out form
    page.evaluate("document.querySelector(\"form[action$='/logout']\").submit()")
    page.wait_for_url("**/login**")


@pytest.fixture
def as_role(page):
    def sign_in(role: str, lang: str = "en"):
        login(page, DEMO_USERS[role], lang=lang)
        return page

    return sign_in


def clear_artifacts() -> None:  # pragma: no cover - manual helper
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


def download(page, link, role: str, what: str) -> Path:
    """Click ``link`` (a locator) and save what the browser downloads under the artifacts; a failed
    download fails the test."""
    with page.expect_download(timeout=60_000) as dl:
        # the click waits for the response that turns into the download: as long as the download may
        # take (a PDF rendered on a busy CI machine took over the 20 s default of a click)
        link.click(timeout=60_000)
    d = dl.value
    assert d.failure() is None, d.failure()
    target = ARTIFACTS / "downloads" / role / f"{what}-{d.suggested_filename}"
    d.save_as(target)
    return target


def org_of(served, role: str) -> int:
    """The organization id of a demo user."""
    return served.sql('SELECT organization_id FROM "user" WHERE email = :e', e=DEMO_USERS[role])[0][0]
