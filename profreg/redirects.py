"""One rule for every redirect target taken from a request (``next=`` of the sign-in page, Flask-Admin's
``url=`` return paths): only a same-origin relative path is followed.

Browsers "repair" many strings into another origin: they drop tabs and line feeds anywhere
(``/\t/evil.example`` becomes ``//evil.example``), turn backslashes into slashes (``/\\evil.example``),
read ``http:evil.example`` as ``http://evil.example`` and ``//evil.example`` as a host. So the rule is
an allow-list, not a list of dangers: one leading ``/``, not two, no backslash, no scheme, no host, and
no control, whitespace or format character anywhere (a legitimate path from ``url_for`` is
percent-encoded and has none). A newline in ``next=`` used to reach the ``Location`` header (500).
"""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

#: Unicode categories refused anywhere in a target: controls (tab, CR, LF, NUL, C1), format characters
#: (bidi overrides, zero-width), separators (spaces, line and paragraph separators), surrogates, unassigned.
_REFUSED_CATEGORIES = ("C", "Z")


def safe_next(target, default: str | None = None) -> str | None:
    """``target`` when it is a same-origin relative path, else ``default``."""
    if not isinstance(target, str) or not target or len(target) > 2048:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(unicodedata.category(ch)[0] in _REFUSED_CATEGORIES for ch in target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return target
