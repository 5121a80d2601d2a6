"""Hooks of the certificates domain: a saved certificate lifts its worker's block on commit; the rule
of certificate corrections (``corrections``: only the region or the ministry extend a validity) is
registered on import, for every application (panel, CLI, tests)."""
from __future__ import annotations

from . import corrections  # noqa: F401  (registers the correction rule of certificates)
from .services import install_save_hook


def register(app):
    install_save_hook()
