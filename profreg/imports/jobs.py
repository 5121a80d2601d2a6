"""RQ entry point of a background import (files over ``IMPORT_INLINE_MAX_ROWS`` rows)."""
from __future__ import annotations

from ..jobs.runtime import job_context
from .services import run_as_user


def import_job(run_id: int) -> int:
    """Validate (and unless a dry run write) the file of import ``run_id`` as its user; returns the rows done."""
    with job_context():
        return run_as_user(run_id)


__all__ = ["import_job"]
