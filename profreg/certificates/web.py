"""Hooks of the certificates domain: a saved certificate lifts its worker's block on commit."""
from __future__ import annotations

from .services import install_save_hook


def register(app):
    install_save_hook()
