"""profreg: the Professional Register of healthcare workers (KR DSM-253/2020)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS

from . import replica, security_headers, settings_check, uow
from .domains import DOMAINS, ROOT, modules
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .i18n import remember_language, select_locale

__all__ = ["DOMAINS", "ROOT", "create_app"]


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a document nested deeper than the interpreter's recursion limit is invalid JSON
    (``ValueError``: werkzeug answers 400) instead of a ``RecursionError`` (a 500). Found by the bad-input
    suite (tests/security)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON document nested too deeply") from None


def create_app(config: str | type | dict | None = None) -> Flask:
    """Build the application. ``config`` is a name (default/production/testing), a class or a dict."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True)
    app.json = BoundedJSONProvider(app)  # a request body nested 1,000 deep is a 400, not a RecursionError
    name = config if isinstance(config, str) else os.environ.get("PROFREG_CONFIG", "default")
    app.config.from_object(CONFIGS[name] if isinstance(name, str) else name)
    if isinstance(config, type):
        app.config.from_object(config)
    elif isinstance(config, dict):
        app.config.update(config)
    settings_check.check(app.config)  # production without a real SECRET_KEY: no app, a clear error
    if app.config.get("PROXY_FIX"):
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _postgres_settings(app)
    replica.configure(app)  # DATABASE_REPLICA_URL: the reports' read replica (a second engine)

    # The factory imports the app's parts when it builds an app: ``import profreg.identity`` (a
    # migration, a benchmark) must not load every model and the whole panel, and they import ``profreg``.
    from . import models  # noqa: F401  (every table registered before anything else)

    db.init_app(app)
    uow.init_app(app)  # first: its after_request hook must run after every other one (it commits)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_language)  # ?lang= saved for the user, committed with the request
    csrf.init_app(app)
    security_headers.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"profreg-{app.config.get('RQ_QUEUE', 'profreg')}")
    limiter.init_app(app)
    login_manager.login_view = "auth.login"

    _sqlite_pragmas(app)

    for web in modules("web"):
        web.register(app)

    from .admin import init_admin  # the panel: built with the app, not on import (see above)
    from .cli import profreg_cli  # the commands: likewise

    init_admin(app)
    app.cli.add_command(profreg_cli)
    return app


def _postgres_settings(app: Flask) -> None:
    """The app's PostgreSQL sessions:

    * without JIT compilation (``POSTGRES_JIT = False``, the default): the register's queries are
      index-backed or hash joins that finish in well under a second, and JIT spent longer compiling
      the analytics queries (seconds, at 300,000 workers) than running them;
    * ``random_page_cost`` ``POSTGRES_RANDOM_PAGE_COST`` (1.1, the usual value for SSDs and a cached
      working set; empty: the server's): with the default 4 the planner read the whole worker table
      rather than 8,500 index lookups for a surname search (137 ms against 58 ms at 300,000 workers);
    * ``max_parallel_workers_per_gather`` ``POSTGRES_PARALLEL_WORKERS`` (0; empty: the server's): the
      register serves many short requests at once, and a parallel plan of a whole-country aggregate
      took every core from them for a second or two while it ran no faster (0.98–1.19 s for the
      ranking, 2.1–2.3 s for the monthly report, with and without).

    docs/performance.md has the figures."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    settings = []
    if not app.config.get("POSTGRES_JIT", False):
        settings.append("-c jit=off")
    cost = str(app.config.get("POSTGRES_RANDOM_PAGE_COST", "1.1") or "").strip()
    if cost:
        settings.append(f"-c random_page_cost={float(cost)}")
    parallel = str(app.config.get("POSTGRES_PARALLEL_WORKERS", "0") or "").strip()
    if parallel:
        settings.append(f"-c max_parallel_workers_per_gather={int(parallel)}")
    if not settings:
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = " ".join([connect_args.get("options", ""), *settings]).strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


_PRAGMAS_ON = False


def _sqlite_pragmas(app: Flask) -> None:
    """Foreign keys on for SQLite connections (PostgreSQL enforces them anyway); registered once."""
    global _PRAGMAS_ON
    if _PRAGMAS_ON:
        return
    @event.listens_for(Engine, "connect")
    def _fk_on(dbapi_conn, _record):  # pragma: no cover - trivial
        if type(dbapi_conn).__module__.startswith("sqlite3"):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    _PRAGMAS_ON = True
