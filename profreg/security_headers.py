"""Security headers on every response (issue 18, item 6), one small ``after_request`` hook.

* ``Content-Security-Policy``: scripts only from this site or inline with the response's nonce
  (``csp_nonce()`` in templates; Flask-Admin's own ``<script>`` tags get it through
  ``Admin(csp_nonce_generator=csp_nonce)``), no ``'unsafe-inline'`` / ``'unsafe-eval'`` scripts, no
  plugins, no framing (``frame-ancestors 'none'``), forms and ``<base>`` only to this site. Styles keep
  ``'unsafe-inline'``: Flask-Admin and Bootstrap write ``style=`` attributes (no script runs from them).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``
  (older browsers), and ``Strict-Transport-Security`` when ``HSTS_SECONDS`` is set (production).
* ``Cache-Control: no-store`` on every response but the static files: pages and downloads carry personal
  data, and a shared or back-button cache must not keep them.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request

STATIC_PREFIXES = ("/static/", "/admin/static/")


def csp_nonce() -> str:
    """The nonce of the current response (one per request)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _new_nonce():
        g.pop("csp_nonce", None)  # a fresh nonce per request, even where requests share ``g`` (tests)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _policy(csp_nonce()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        hsts = int(app.config.get("HSTS_SECONDS") or 0)
        if hsts:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        if not request.path.startswith(STATIC_PREFIXES):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
