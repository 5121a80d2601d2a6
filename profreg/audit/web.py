"""Wires the audit listener into the application."""
from __future__ import annotations

from .services import install


def register(app):
    install()
