"""RQ entry point of background list exports (``admin/exporting.py``)."""
from __future__ import annotations

from ..admin.exporting import purge_expired, resume_exports, run_export
from ..uow import unit_of_work
from .runtime import job_context


def export_job(export_id: int) -> int:
    """Make the file of export ``export_id`` as its user; returns its row count."""
    with job_context():
        return run_export(export_id).rows_done


def purge_exports() -> int:
    """Remove the files and records of expired exports (cron, hourly); returns how many."""
    with job_context(), unit_of_work():
        return purge_expired()


def resume_queued_exports() -> int:
    """Queue the exports asked for while Redis was unreachable (cron, every 5 minutes); returns how many."""
    with job_context(), unit_of_work():
        return resume_exports()


__all__ = ["export_job", "purge_exports", "resume_queued_exports"]
