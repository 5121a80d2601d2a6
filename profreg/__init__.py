"""profreg: the Professional Register of healthcare workers (KR DSM-253/2020)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

# Each domain may expose ``register(app)`` in ``profreg/<domain>/web.py`` (blueprints, hooks) and
# ``register_views(admin)`` in ``profreg/<domain>/admin.py``; they are wired here in this order.
DOMAINS = ("auth", "reference", "workdays", "orgs", "workers", "education", "certificates", "training",
           "documents", "audit", "notifications", "monitoring", "analytics", "jobs")


def create_app(config: str | type | dict | None = None) -> Flask:
    """Build the application. ``config`` is a name (default/production/testing), a class or a dict."""
    from config import CONFIGS

    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True)
    name = config if isinstance(config, str) else os.environ.get("PROFREG_CONFIG", "default")
    app.config.from_object(CONFIGS[name] if isinstance(name, str) else name)
    if isinstance(config, type):
        app.config.from_object(config)
    elif isinstance(config, dict):
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import models  # noqa: F401  (all tables registered before anything else)
    from .extensions import babel, csrf, db, login_manager, migrate
    from .i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"

    _sqlite_pragmas(app)

    import importlib

    for domain in DOMAINS:
        try:
            web = importlib.import_module(f"profreg.{domain}.web")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"profreg.{domain}.web", f"profreg.{domain}"):
                raise
            continue
        web.register(app)

    from .admin import init_admin

    init_admin(app)

    from .cli import profreg_cli

    app.cli.add_command(profreg_cli)
    return app


_PRAGMAS_ON = False


def _sqlite_pragmas(app: Flask) -> None:
    """Foreign keys on for SQLite connections (PostgreSQL enforces them anyway); registered once."""
    global _PRAGMAS_ON
    if _PRAGMAS_ON:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _fk_on(dbapi_conn, _record):  # pragma: no cover - trivial
        if type(dbapi_conn).__module__.startswith("sqlite3"):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    _PRAGMAS_ON = True
