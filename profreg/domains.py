"""The domains of the register and how the app finds their parts.

Each domain may expose ``register(app)`` in ``profreg/<domain>/web.py`` (blueprints, hooks),
``register_views(admin)`` in ``profreg/<domain>/admin.py`` and ``register(group)`` in
``profreg/<domain>/cli.py``; the application factory, the admin shell and the CLI wire them in this
order, so a domain plugs itself in without editing shared files.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
#: The package's own folder: what an installed copy has (templates, static files, seeds, catalogs).
PACKAGE = Path(__file__).resolve().parent
#: The compiled catalogs the app serves: inside the package (in a checkout a link to ROOT/translations,
#: where they are edited; in a wheel the files themselves), so ``pip install .`` serves kk and ru.
TRANSLATIONS = PACKAGE / "translations"

DOMAINS = ("auth", "reference", "workdays", "orgs", "workers", "education", "certificates", "training",
           "documents", "audit", "notifications", "monitoring", "analytics", "reporting", "jobs", "imports", "api",
           "reconciliation", "ops")


def modules(part: str) -> list[ModuleType]:
    """``profreg.<domain>.<part>`` of every domain that has one, in ``DOMAINS`` order."""
    out = []
    for domain in DOMAINS:
        name = f"profreg.{domain}.{part}"
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name not in (name, f"profreg.{domain}"):
                raise
    return out
