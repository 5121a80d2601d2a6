"""Figures kept for a while in each process: the heavy aggregates of big scopes (a region's or the
country's dashboard, the data-currency ranking, the 12-month trend) are computed at most once per
``seconds`` for the same key, instead of on every page load of every coordinator.

``Memo(name, seconds)`` is one such store; ``get(key, compute)`` answers from it or computes and keeps
the value. Keys carry everything the value depends on (the user or the scope, the day, the
parameters). ``forget_all()`` empties every store (tests; reference data changes). The stores are
per process: each gunicorn worker keeps its own, so a figure may be up to ``seconds`` old; pages that
show such figures say so.
"""
from __future__ import annotations

import threading
import time

_ALL: list[Memo] = []


class Memo:
    def __init__(self, name: str, seconds: float | str, max_keys: int = 1000):
        """``seconds``: how long a value is kept, or the name of the app setting that says it (read
        on each ``get``; 0 keeps nothing)."""
        self.name, self.seconds, self.max_keys = name, seconds, max_keys
        self._data: dict = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def _seconds(self) -> float:
        if isinstance(self.seconds, str):
            from flask import current_app, has_app_context

            return float(current_app.config.get(self.seconds, 0)) if has_app_context() else 0.0
        return float(self.seconds)

    def get(self, key, compute):
        seconds = self._seconds()
        if seconds <= 0:
            return compute()
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._data) >= self.max_keys:
                for old in [k for k, (expires, _v) in self._data.items() if expires <= now] or list(self._data):
                    self._data.pop(old, None)
            self._data[key] = (now + seconds, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._data.clear()


def forget_all(_sender=None, **_kw) -> None:
    for memo in _ALL:
        memo.forget()


__all__ = ["Memo", "forget_all"]
