"""Wires the audit listener into the application."""
from __future__ import annotations


def register(app):
    from .services import install

    install()
