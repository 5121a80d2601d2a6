"""Hooks of the workers domain: transfers follow their episodes (an end date closes them, an annulment
cancels them) whichever path changed the episode."""
from __future__ import annotations

from .services import install_transfer_hook


def register(app):
    install_transfer_hook()
