"""Hooks of the certificates domain: a saved certificate lifts its worker's block on commit."""
from __future__ import annotations


def register(app):
    from .services import install_save_hook

    install_save_hook()
