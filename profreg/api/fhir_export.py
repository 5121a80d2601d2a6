"""FHIR Bulk Data export (``GET /fhir/$export``): one NDJSON file per resource type, made as the
user who asked (his FHIR scope), in the background on RQ (inline without ``REDIS_URL``, like the
panel's background exports). Each file is an ``ExportFile`` row (``profreg/jobs/models.py``): the
rows of one export share ``query_string = "group=…"``; the files are kept ``EXPORT_KEEP_HOURS`` and
purged with the panel's exports."""
from __future__ import annotations

import gc
import os
import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import orjson
from flask import has_request_context
from flask_babel import force_locale
from sqlalchemy import select

from .. import access, clock
from ..admin.exporting import export_folder, keep_hours
from ..auth.models import User
from ..extensions import db
from ..jobs.models import DONE, FAILED, QUEUED, RUNNING, ExportFile
from ..orgs.models import Organization
from ..reference.models import AdminUnit
from ..uow import unit_of_work
from ..workers.models import Employment, Worker
from . import fhir_resources as R

ENDPOINT = "fhir$export"
TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location")
CHUNK = 2000


def start(user, types: list[str], locale: str | None) -> str:
    """Record an export of ``types`` for ``user``; returns its group id (the job runs it)."""
    group = uuid.uuid4().hex
    now = clock.utcnow_naive()
    for t in types:
        db.session.add(ExportFile(user_id=user.id, title=t, endpoint=ENDPOINT, query_string=f"group={group}&type={t}",
                                  export_type="ndjson", locale=locale, state=QUEUED, rows_total=0, rows_done=0,
                                  created_at=now, expires_at=now + timedelta(hours=keep_hours())))
    db.session.flush()
    return group


def files(group: str, user=None) -> list[ExportFile]:
    q = select(ExportFile).where(ExportFile.endpoint == ENDPOINT, ExportFile.query_string.like(f"group={group}&%"))
    if user is not None:
        q = q.where(ExportFile.user_id == user.id)
    return db.session.execute(q.order_by(ExportFile.id)).scalars().all()


def _keyset(q, id_col, build, out, progress, scalars):
    """Write ``build``'s resources of the rows of ``q``, ``CHUNK`` at a time in id order. The cyclic
    garbage collector is paused meanwhile: the resources are plain dicts without cycles, and its
    passes over the growing heap cost half the export's time (measured: 1.6 s → 0.7 s per 20,000)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _write_chunks(q, id_col, build, out, progress, scalars)
    finally:
        if paused:
            gc.enable()


def _write_chunks(q, id_col, build, out, progress, scalars):
    after, n = 0, 0
    while True:
        result = (db.session.execute if scalars else db.session.connection().execute)(
            q.where(id_col > after).order_by(id_col).limit(CHUNK))
        rows = (result.scalars() if scalars else result).all()
        if not rows:
            return n
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        out.write(b"".join([dumps(resource, option=newline) for resource in build(rows)]))
        n += len(rows)
        after = rows[-1].id
        progress(n)
        if not has_request_context():  # a job: keep the session small (inline in a request: small data)
            db.session.expunge_all()


def _source(kind: str, user):
    if kind == "Practitioner":
        return (R.practitioner_select().where(Worker.in_register, access.fhir_worker_clause(user, Worker.id)),
                Worker.id, R.practitioners)
    if kind == "PractitionerRole":
        return (select(Employment).where(Employment.annulled_at.is_(None),
                                         access.fhir_worker_clause(user, Employment.worker_id)), Employment.id,
                R.practitioner_roles)
    if kind == "Organization":
        ids = access.fhir_org_ids(user)
        q = select(Organization)
        return (q if ids is None else q.where(Organization.id.in_(ids))), Organization.id, R.organizations
    return select(AdminUnit), AdminUnit.id, R.locations


def run(group: str) -> int:
    """Write every file of export ``group`` (progress per chunk, one unit of work per step)."""
    done = 0
    for export_id in [e.id for e in files(group)]:
        export = db.session.get(ExportFile, export_id)
        kind = parse_qs(export.query_string).get("type", ["Practitioner"])[0]
        user = db.session.get(User, export.user_id)
        with unit_of_work():
            export.state, export.started_at = RUNNING, clock.utcnow_naive()
        path = export_folder() / f"fhir-{group}-{kind}.ndjson"
        try:
            with force_locale(export.locale or "ru"), open(path, "wb") as out:
                q, id_col, build = _source(kind, user)

                def progress(n, export_id=export_id):
                    with unit_of_work():
                        db.session.get(ExportFile, export_id).rows_done = n

                count = _keyset(q, id_col, build, out, progress, scalars=kind != "Practitioner")
        except Exception as exc:
            path.unlink(missing_ok=True)
            with unit_of_work():
                row = db.session.get(ExportFile, export_id)
                row.state, row.error, row.finished_at = FAILED, str(exc)[:500], clock.utcnow_naive()
            raise
        with unit_of_work():
            row = db.session.get(ExportFile, export_id)
            row.state, row.path, row.size = DONE, str(path), os.path.getsize(path)
            row.rows_done = row.rows_total = count
            row.finished_at = clock.utcnow_naive()
        done += count
    return done


__all__ = ["DONE", "ENDPOINT", "FAILED", "RUNNING", "TYPES", "files", "run", "start"]
