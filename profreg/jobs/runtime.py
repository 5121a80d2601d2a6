"""The app context of a job: reuse the caller's (inline, tests) or build the app once per worker
process from the environment (``DATABASE_URL``, ``PROFREG_CONFIG``, ``MAIL_*``, ``REDIS_URL``...)."""
from __future__ import annotations

import contextlib
import os

from flask import current_app, has_app_context

from .. import create_app
from ..extensions import db

_APP = None


@contextlib.contextmanager
def job_context():
    global _APP
    if has_app_context():
        yield current_app
        return
    if _APP is None:

        _APP = create_app(os.environ.get("PROFREG_CONFIG", "default"))
    with _APP.app_context():

        try:
            yield _APP
        finally:
            db.session.remove()
