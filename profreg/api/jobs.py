"""RQ entry point of the FHIR bulk export (``fhir_export.py``)."""
from __future__ import annotations

from ..jobs.runtime import job_context
from . import fhir_export


def fhir_export_job(group: str) -> int:
    """Write the NDJSON files of export ``group``; returns the number of resources written."""
    with job_context():
        return fhir_export.run(group)


__all__ = ["fhir_export_job"]
