"""403, 404, 405, 413 (request too large), 500 and 503 (the database went away) as pages in the user's language, for the whole app (Flask error handlers,
so Flask-Admin's ``abort(403)`` / ``abort(404)`` too): inside the panel's layout for a signed-in
user, a plain page with the panel's look (the sign-in page's) for anybody else; each with a way
back (the previous page of this site, else the panel's start page). A 500 page shows no traceback.

Non-HTML answers are left alone: an exception that carries its own response keeps it, and a client
that asks for JSON rather than HTML gets ``{"error": code, "message": ...}``.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import psycopg
from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from ..extensions import login_manager
from ..uow import discard

log = logging.getLogger(__name__)

#: status → (title, message), translated when the page is drawn.
MESSAGES = {
    400: (_l("The request holds a value the register cannot take"),
          _l("A number is out of range or a text holds a character that cannot be stored. Nothing was saved; "
             "go back and correct the value.")),
    403: (_l("Access denied"), _l("You do not have the right to open this page or to do this action.")),
    404: (_l("Page not found"),
          _l("There is no such page, or the record does not exist or lies outside your area of responsibility.")),
    405: (_l("Action not allowed here"), _l("This page cannot be used in this way (the request method is not allowed).")),
    413: (_l("The file or form is too large"), None),  # the message names the limit: _too_large()
    503: (_l("The register is briefly unavailable"),
          _l("The register's database does not answer right now. Nothing was saved; try again in a minute.")),
    500: (_l("Something went wrong"),
          _l("The server could not complete the request. Nothing was saved; try again later or contact the administrator.")),
}


def _back_url() -> str | None:
    """The previous page, when it is a page of this site other than the failing one."""
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//") or path == request.full_path.rstrip("?"):
        return None
    return path


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_page(exc: HTTPException):
    code = exc.code or 500
    if code not in MESSAGES:
        return exc
    if exc.response is not None:  # a view built its own answer (a file download's, an API's)
        return exc
    title, message = MESSAGES[code]
    if code == 413:
        message = _too_large()
    if _wants_json():
        resp = jsonify(error=code, message=str(message))
        resp.status_code = code
        return resp
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() == "allow"]  # 405 keeps its Allow
    context = {"code": code, "title": title, "message": message, "back_url": _back_url(),
               "home_url": url_for("admin.index")}
    body = None
    try:
        if getattr(current_user, "is_authenticated", False) and getattr(current_user, "active", False):
            admin = current_app.extensions["profreg_admin"]
            body = admin.index_view.render("errors/panel.html", **context)
    except Exception:  # noqa: BLE001 - the panel itself failed (a broken session): the plain page
        log.exception("error page inside the panel failed; plain page instead")
        discard()
    if body is None:
        try:
            body = render_template("errors/plain.html", **context)
        except Exception:  # noqa: BLE001 - last resort: no template at all
            log.exception("plain error page failed")
            body = f"<!DOCTYPE html><title>{code}</title><h1>{code}</h1><p><a href=\"/admin/\">/admin/</a></p>"
    return body, code, headers


def internal_error(exc):
    """An unhandled exception (500): logged with its traceback, shown without it."""
    original = getattr(exc, "original_exception", None) or exc
    if not isinstance(original, HTTPException):
        log.error("unhandled exception on %s %s", request.method, request.path, exc_info=original)
    discard()
    return error_page(exc if isinstance(exc, HTTPException) else InternalServerError())


def database_unavailable(exc):
    """The database went away (a restart, a failover, the network): 503 at once, in the user's
    language, without touching the database again (the plain page: the panel's layout reads the
    user's notices). The pool's pre-ping (``pool_pre_ping``) replaces the dead connections on the next
    request, so the app recovers by itself when the database is back."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path,
                str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        discard()
    except Exception:  # noqa: BLE001 - the rollback itself needs the lost connection
        log.debug("rollback after a lost connection failed", exc_info=True)
    g._login_user = login_manager.anonymous_user()  # the page must not load the user (that needs the database)
    title, message = MESSAGES[503]
    headers = [("Retry-After", "30")]
    if _wants_json():
        resp = jsonify(error=503, message=str(message))
        resp.status_code = 503
        resp.headers.update(headers)
        return resp
    context = {"code": 503, "title": title, "message": message, "back_url": _back_url(), "home_url": url_for("admin.index")}
    return render_template("errors/plain.html", **context), 503, headers


def value_refused(exc: DataError):
    """The database refused a value of the request as data (a number beyond its column, a NUL character
    in a text): the user's input, not the server's fault — 400 in the user's language, nothing written.
    Checks before the database catch what they can (``base._refuse_out_of_range_numbers``, the forms'
    validators); this is the one answer for whatever slips past them."""
    log.warning("value refused by the database on %s %s: %s", request.method, request.path,
                str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__)
    discard()
    return error_page(BadRequest())


def _unavailable(exc) -> bool:
    """Is ``exc`` a lost or refused database connection (rather than a broken query)?"""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError)) and isinstance(
        getattr(exc, "orig", None), (psycopg.OperationalError, psycopg.InterfaceError))


def internal_or_unavailable(exc):
    original = getattr(exc, "original_exception", None) or exc
    if _unavailable(original):
        return database_unavailable(original)
    return internal_error(exc)


def _too_large():
    """413: the request body exceeded ``MAX_CONTENT_LENGTH`` (refused before it was read)."""
    mb = f"{current_app.config.get('MAX_UPLOAD_BYTES', 0) / (1024 * 1024):g}"
    return _l("What you sent is larger than the register accepts (files up to %(mb)s MB). Nothing was saved; "
              "send a smaller file.", mb=mb)


def register(app: Flask) -> None:
    for code in (403, 404, 405, 413):
        app.register_error_handler(code, error_page)
    app.register_error_handler(DataError, value_refused)
    app.register_error_handler(500, internal_or_unavailable)
