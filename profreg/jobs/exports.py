"""RQ entry point of background list exports (``admin/exporting.py``)."""
from __future__ import annotations

from ..admin.exporting import run_export
from .runtime import job_context


def export_job(export_id: int) -> int:
    """Make the file of export ``export_id`` as its user; returns its row count."""
    with job_context():
        return run_export(export_id).rows_done


__all__ = ["export_job"]
