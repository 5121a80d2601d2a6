"""Hooks of the workers domain: the guard of the national record (profreg/workers/records.py), and
transfers following their episodes (an end date closes them, an annulment cancels them) whichever
path changed the episode."""
from __future__ import annotations

from .records import install
from .services import install_transfer_hook


def register(app):
    install()
    install_transfer_hook()
