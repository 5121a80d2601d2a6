"""The panel's main menu, rendered once per role, language, page and "exports shown", then kept in the
process: Flask-Admin renders it on every page by asking every menu item whether the user may open it
(some 60 views), about 3 ms of each page, the page floor included (docs/performance.md).

What the menu shows depends only on the role (``access.MATRIX`` through ``is_accessible``), on the
language, on the page (its category is marked active) and on whether the user has a kept export (the
one per-user item, ``exports_page.ExportsView.is_visible``): exactly the key. Every view still checks
access itself; the menu is navigation.
"""
from __future__ import annotations

import itertools

from flask import request
from flask_login import current_user
from markupsafe import Markup

from ..i18n import current_lang

MAX_KEPT = 4000
_KEPT: dict[tuple, Markup] = {}
_ADMINS = itertools.count(1)


def _admin_token(admin) -> int:
    """A number of its own for each Admin (each app): two apps of one process never share a menu."""
    token = getattr(admin, "_profreg_menu_token", None)
    if token is None:
        token = admin._profreg_menu_token = next(_ADMINS)
    return token


def menu_key(admin_view) -> tuple:
    exports = next((v for v in admin_view.admin._views if v.endpoint == "exports"), None)
    return (_admin_token(admin_view.admin), getattr(current_user, "role", None), current_lang(), admin_view.endpoint,
            request.script_root,
            bool(exports is not None and exports.is_accessible() and exports.is_visible()))


def kept_menu(key: tuple) -> Markup | None:
    return _KEPT.get(key)


def keep_menu(key: tuple, html) -> Markup:
    if len(_KEPT) >= MAX_KEPT:
        _KEPT.clear()
    _KEPT[key] = Markup(html)
    return _KEPT[key]


def forget_menus() -> None:
    _KEPT.clear()


__all__ = ["forget_menus", "keep_menu", "kept_menu", "menu_key"]
