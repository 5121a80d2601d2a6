"""What the two API blueprints (``/api/v1/`` in ``web.py``, ``/fhir/`` in ``fhir.py``) share: who the
request is (its bearer token, never the session), RFC 9457 problem answers, the rate-limit key."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from .. import uow
from ..errors import InvalidInput, NotAllowed, Refusal
from . import services

API_BLUEPRINTS = ("api", "fhir")
#: Endpoints of the API blueprints that need no token (FHIR's CapabilityStatement).
PUBLIC_ENDPOINTS = {"fhir.metadata"}
PROBLEM = "application/problem+json"


# ------------------------------------------------------------------------------------------ errors
class RequestInvalid(InvalidInput):
    """The request does not match the OpenAPI document (spectree's validation), in words."""


def _field_message(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind.startswith("string_too_long") or kind == "too_long":
        return _("The value is too long.")
    if kind.startswith("string_too_short") or kind == "too_short":
        return _("The value is too short.")
    if kind.startswith("date"):
        return _("Not a valid date (YYYY-MM-DD).")
    if kind.startswith("datetime"):
        return _("Not a valid date and time (ISO 8601).")
    if kind.startswith(("int", "float", "greater", "less", "decimal")):
        return _("Not a valid number in the allowed range.")
    if kind in ("literal_error", "enum"):
        return _("Not one of the allowed values.")
    if kind in ("model_type", "model_attributes_type", "dict_type", "json_invalid"):
        return _("The body must be a JSON object.")
    return _("Not a valid value.")


def spectree_before(req, _resp, error, _instance, *_args):
    if req.method in ("POST", "PUT", "PATCH") and req.mimetype != "application/json":
        raise RequestInvalid({None: _("Send the body as JSON (Content-Type: application/json).")})
    if error is not None:
        errors = {}
        for err in error.errors() if isinstance(error, ValidationError) else []:
            field = ".".join(str(p) for p in err.get("loc", ())) or None
            errors.setdefault(field, _field_message(err))
        raise RequestInvalid(errors or {None: _("The request is not valid.")})


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None, headers=None):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [{"field": k, "message": str(v)} for k, v in errors.items()]
    resp = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _refusal(exc: Refusal):
    uow.end(exc)  # the unit ends here: the writes a refusal keeps are committed, the rest discarded
    if isinstance(exc, services.TokenRefused):
        return problem(401, _("Unauthorized"), str(exc.message), headers={"WWW-Authenticate": 'Bearer realm="profreg"'})
    if isinstance(exc, NotAllowed):
        return problem(403, _("Forbidden"), str(exc.message))
    if isinstance(exc, services.NotFound):
        return problem(404, _("Not found"), str(exc.message))
    if isinstance(exc, services.StaleVersion):
        return problem(412, _("Precondition failed"), str(exc.message))
    errors = {k: v for k, v in exc.errors.items()}
    detail = "; ".join(str(v) for v in errors.values())
    return problem(422, _("The request breaks a rule of the register"), detail, errors)


def _http_error(exc: HTTPException):
    titles = {404: _("Not found"), 405: _("Method not allowed"), 429: _("Too many requests")}
    resp = problem(exc.code or 500, str(titles.get(exc.code, exc.name)),
                   str(exc.description) if exc.code == 429 else None)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def install_error_handlers(bp: Blueprint) -> None:
    bp.register_error_handler(Refusal, _refusal)
    bp.register_error_handler(HTTPException, _http_error)


# -------------------------------------------------------------------------------- identity, limits
def identify():
    """Before everything else of a request (the password-change redirect, the locale, the limits):
    an API request is its bearer token's user, never the session's."""
    if request.blueprint not in API_BLUEPRINTS:
        if g.pop("profreg_api", False):  # a test client reuses g across requests
            g.pop("_login_user", None)
        return None
    g.profreg_api = True
    g._login_user = AnonymousUserMixin()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = services.authenticate_token(services.bearer(request.headers.get("Authorization")))
    g._login_user, g.profreg_api_token_id = token.user, token.id
    return None


def forget(_exc=None) -> None:
    """After an API request: its token's user is not left on ``g`` (a pushed app context outlives
    the request: the CLI, jobs and tests must not act as that user)."""
    if g.pop("profreg_api", False):
        g.pop("_login_user", None)
        g.pop("profreg_api_token_id", None)


def drop_stray_retry_after(response):
    """Flask-Limiter sends ``Retry-After`` (the window's reset) on every answer when its headers are
    on; an API answer keeps it only where it means "come back later" (429, and 202 while an export
    runs). The X-RateLimit-* headers stay."""
    if g.get("profreg_api") and response.status_code not in (202, 429, 503):
        response.headers.pop("Retry-After", None)
    return response


def rate_key() -> str:
    """Rate limits count per token (per client address before a token is known)."""
    token_id = g.get("profreg_api_token_id")
    return f"token:{token_id}" if token_id else f"addr:{get_remote_address()}"


def rate() -> str:
    return current_app.config.get("API_RATE_LIMIT", "600/minute")


def user():
    return g._login_user
