"""/healthz, /readyz and /metrics, and one log line per request (docs/operations.md).

- ``/healthz``: the process answers (no database call): for a load balancer's liveness check.
- ``/readyz``: the database answers, its schema is at the code's migration head, Redis answers when
  configured: 200 or 503 with the failing check named, as JSON.
- ``/metrics``: Prometheus text format, for operators only (a signed-in ``admin``, or
  ``Authorization: Bearer <METRICS_TOKEN>`` for the scraper); anonymous callers get 401.
- Every request is logged once by the ``profreg.request`` logger: request id (the caller's
  ``X-Request-ID`` when it is a plain token, else a new one, echoed in the response), method, path,
  endpoint, status, duration in ms and the user's id; as JSON when ``LOG_FORMAT=json`` (production).
"""
from __future__ import annotations

import hmac
import logging
import re
import sys
import time
import uuid

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pythonjsonlogger.json import JsonFormatter

from .. import access
from ..extensions import csrf
from . import metrics
from .services import readiness

bp = Blueprint("ops", __name__)
log = logging.getLogger("profreg.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Probes and the scraper are not counted per request (they would drown the figures operators read).
QUIET = frozenset({"ops.healthz", "ops.readyz", "ops.metrics", "static"})


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    ready, checks = readiness()
    return jsonify(status="ready" if ready else "not ready", checks=checks), (200 if ready else 503)


def _scraper_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
        return True
    return access.may_operate(current_user)


@bp.route("/metrics", endpoint="metrics")
def metrics_page():
    if not _scraper_allowed():
        status = 403 if current_user.is_authenticated else 401
        return Response("operators only\n", status=status, mimetype="text/plain",
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
    return Response(generate_latest(metrics.scrape_registry()), mimetype=CONTENT_TYPE_LATEST)



def _start():
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    started = g.pop("request_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    response.headers["X-Request-ID"] = g.request_id
    endpoint = request.endpoint or "unmatched"
    if endpoint not in QUIET:
        metrics.observe(request.method, endpoint, response.status_code, seconds)
    user_id = current_user.get_id() if current_user and current_user.is_authenticated else None
    log.info("%s %s %s", request.method, request.path, response.status_code, extra={
        "request_id": g.request_id, "method": request.method, "path": request.path, "endpoint": endpoint,
        "status": response.status_code, "duration_ms": round(seconds * 1000, 1), "user_id": user_id})
    return response


def configure_logging(app) -> None:
    """One handler on ``profreg.request`` (stderr): JSON lines when ``LOG_FORMAT=json``, else text."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s %(duration_ms)sms user=%(user_id)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO if app.config.get("REQUEST_LOG", True) else logging.WARNING)
    log.propagate = False


def register(app):
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)
    configure_logging(app)
