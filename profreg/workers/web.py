"""Hooks of the workers domain: the guard of the national record (profreg/workers/records.py)."""
from __future__ import annotations

from .records import install


def register(app):
    install()
