"""List exports: one pipeline for the Export menu of every list of the panel (docs/exports.md).

The rows are the list's own: the view's scoped query with the user's search, filters and sort
(``list_query``), each cell through the view's ``get_export_value`` (the export formatters, then the
project's formula neutraliser). The files come from the project's writers (``profreg.exports``: csv
with BOM, constant-memory xlsx), the same the CLI and the reports use.

* Up to ``EXPORT_INLINE_MAX_ROWS`` rows (default 10,000) the file is made in the request and sent.
* A bigger list is never cut: an ``ExportFile`` records the request (list, query string, format,
  language, user) and ``jobs.exports.export_job`` makes the file in the background (RQ; without ``REDIS_URL`` in
  the request itself, as the demo runs), with its progress on the user's Exports page, an in-app
  notice with the download link when it is done, the file kept ``EXPORT_KEEP_HOURS`` hours and
  downloadable by that user only.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask import current_app, flash, redirect, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user
from rq import get_current_job
from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..auth.models import User
from ..exports import Sheet, send_tempfile, write_csv, write_xlsx
from ..extensions import db
from ..jobs.models import DONE, FAILED, RUNNING, ExportFile
from ..jobs.queue import enqueue, get_queue, job_exists, queue_available
from ..notifications.models import EXPORT_READY, Notice, Notification
from ..uow import after_commit, unit_of_work

#: Rows fetched per query while a file is written (the progress advances per chunk).
CHUNK = 2000
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx"}
#: The RQ entry point, by name (it builds the app in the worker: importing it here would be a cycle).
EXPORT_JOB = "profreg.jobs.exports.export_job"


def inline_limit() -> int:
    return int(current_app.config.get("EXPORT_INLINE_MAX_ROWS", 10_000))


def export_columns(view) -> list[tuple[str, str]]:
    """(name, label) of the view's export columns, labels in the current language."""
    return [(name, str(label)) for name, label in view.get_export_columns()]


def list_query(view):
    """(count, query) of the list as the user sees it now: scope, search, filters and sort from the
    request, no page; ordered by the primary key after the list's own order, so chunks never overlap."""
    args = view._get_list_extra_args()
    sort = view._get_column_by_idx(args.sort)
    count, query = view.get_list(0, sort[0] if sort is not None else None, args.sort_desc, args.search,
                                 args.filters, execute=False, page_size=1)
    query = query.limit(None).offset(None)
    pk = inspect(view.model).primary_key
    query = query.order_by(*pk)
    # the related rows a column shows, in the same query (no query per row)
    relationships = inspect(view.model).relationships
    for name, _label in export_columns(view):
        head = name.split(".", 1)[0]
        if head in relationships and not relationships[head].uselist:
            query = query.options(joinedload(getattr(view.model, head)))
    if count is None:
        count = query.order_by(None).count()
    return count, query


def list_rows(view, query, progress=None, chunk: int = CHUNK):
    """The export rows of ``query`` in chunks of ``chunk``; after each chunk ``progress(rows_so_far)``.
    The keys of every row are read first, in the list's order (one query of integers), then each chunk
    is loaded by its keys: an OFFSET page would read all the rows before it again (the association's
    CPD export of 286,000 rows took four minutes that way), and a server-side cursor would not survive
    the progress commits. Memory stays at the keys and one chunk of objects."""
    names = [name for name, _label in export_columns(view)]
    pk = inspect(view.model).primary_key
    if len(pk) != 1:
        yield from _offset_rows(view, query, names, progress, chunk)
        return
    key = pk[0]
    ids = [row[0] for row in db.session.execute(query.statement.with_only_columns(key))]
    done = 0
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        by_id = {getattr(m, key.key): m for m in query.order_by(None).filter(key.in_(part))}
        for row_id in part:
            model = by_id.get(row_id)
            if model is not None:  # (deleted meanwhile)
                yield [view.get_export_value(model, name) for name in names]
                done += 1
        if progress is not None:
            progress(done)


def _offset_rows(view, query, names, progress, chunk):
    done = 0
    while True:
        batch = query.offset(done).limit(chunk).all()
        for model in batch:
            yield [view.get_export_value(model, name) for name in names]
        done += len(batch)
        if progress is not None and batch:
            progress(done)
        if len(batch) < chunk:
            return


def write_list(view, export_type: str, path, query, progress=None) -> int:
    """Write the list ``query`` of ``view`` to ``path``: through the dataset's own exporter when the view
    has one (``dataset_export(path, export_type, statement)``: the one the CLI uses, e.g. the workers
    register's database-rendered file; the worker records' lists, ``admin.record_export``) and it
    answers, else row by row with the project's writers."""
    dataset_export = getattr(view, "dataset_export", None)
    if dataset_export is not None:
        rows = dataset_export(path, export_type, query.statement)
        if rows is not None:  # None: not for this database or these columns; the rows below then
            if progress is not None:
                progress(rows)
            return rows
    return write_file(view, export_type, path, list_rows(view, query, progress))


def write_file(view, export_type: str, path, rows) -> int:
    """Write ``rows`` of ``view`` as ``export_type`` to ``path`` with the project's writers."""
    headers = [label for _name, label in export_columns(view)]
    if export_type == "csv":
        return write_csv(path, headers, rows)
    return write_xlsx(path, [Sheet(title=str(view.name), headers=headers, rows=rows)])[0]


def list_export(view, export_type: str):
    """The Export menu's answer: the file at once for a list up to ``inline_limit()`` rows, else a
    background export and the user's Exports page."""
    count, query = list_query(view)
    if count <= inline_limit():
        return send_tempfile(lambda path: write_list(view, export_type, path, query),
                             SUFFIX[export_type], view.get_export_name(export_type))
    export = start_background(view, export_type, count)
    return redirect(url_for("exports.index", id=export.id))


def start_background(view, export_type: str, count: int) -> ExportFile:
    """Record a background export of the current list and start it: queued on RQ after the request
    commits, or made now in this request when there is no Redis (the demo)."""
    now = clock.utcnow_naive()
    export = ExportFile(user_id=current_user.id, title=str(view.name), endpoint=view.endpoint,
                        query_string=request.query_string.decode()[:2000], export_type=export_type,
                        locale=str(get_locale() or "") or None, rows_total=count, rows_done=0,
                        created_at=now, expires_at=now + timedelta(hours=keep_hours()))
    db.session.add(export)
    db.session.flush()
    export_id = export.id
    if not getattr(get_queue(), "is_async", True):
        run_export(export_id)
    elif queue_available():
        after_commit(lambda: _enqueue(export_id))
    else:  # kept, queued by ``resume_exports`` (cron) once Redis is back: nothing asked is lost
        flash(_("The job queue is unavailable right now. Your export is saved and starts as soon as the "
                "queue is back; it will appear here."), "warning")
    return export


def _job_id(export_id: int) -> str:
    return f"export-{export_id}"


def _enqueue(export_id: int):
    return enqueue(EXPORT_JOB, export_id, job_id=_job_id(export_id), job_timeout=4 * 3600)


#: A queued export without its RQ job this long after it was asked for is queued again.
RESUME_AFTER = timedelta(minutes=2)


def resume_exports(now=None) -> int:
    """Queue again the exports asked for while the queue was unreachable (or whose job RQ lost): queued,
    older than ``RESUME_AFTER``, and without their job in RQ. Returns how many. (A job whose worker was
    killed is RQ's: it retries it with the job's ``Retry``.)"""
    now = now or clock.utcnow_naive()
    waiting = db.session.execute(select(ExportFile.id).where(
        ExportFile.state == "queued", ExportFile.created_at < now - RESUME_AFTER,
        ExportFile.expires_at >= now)).scalars().all()
    resumed = 0
    for export_id in waiting:
        if not job_exists(_job_id(export_id)):
            _enqueue(export_id)
            resumed += 1
    return resumed


def keep_hours() -> int:
    return int(current_app.config.get("EXPORT_KEEP_HOURS", 72))


def export_folder() -> Path:
    folder = Path(current_app.config.get("EXPORT_FOLDER") or Path(current_app.instance_path) / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _view(endpoint: str):
    for view in current_app.extensions["profreg_admin"]._views:
        if view.endpoint == endpoint:
            return view
    raise LookupError(endpoint)


def run_export(export_id: int) -> ExportFile:
    """Make the file of a recorded export as its user (scope and rights of that user, the language of
    the request), with progress per chunk; on success an in-app notice with the download link."""
    export = db.session.get(ExportFile, export_id)
    user = db.session.get(User, export.user_id)
    view = _view(export.endpoint)
    job = get_current_job()
    with current_app.test_request_context(f"/admin/{export.endpoint}/", query_string=export.query_string), \
            force_locale(export.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
        login_user(user)
        with unit_of_work():
            export.state, export.started_at = RUNNING, clock.utcnow_naive()
            export.rq_job_id = job.id if job is not None else None
        path = export_folder() / f"export-{export.id}{SUFFIX[export.export_type]}"
        part = path.with_name(path.name + ".part")  # renamed once whole: a killed job leaves no file to offer
        try:
            count, query = list_query(view)

            def progress(done: int) -> None:
                with unit_of_work():
                    export.rows_done, export.rows_total = done, max(count, done)

            rows = write_list(view, export.export_type, part, query, progress)
            os.replace(part, path)
        except Exception as exc:
            part.unlink(missing_ok=True)
            with unit_of_work():
                export.state, export.error, export.finished_at = FAILED, str(exc)[:500], clock.utcnow_naive()
            raise
        with unit_of_work():
            export.state, export.path, export.size = DONE, str(path), os.path.getsize(path)
            export.rows_done = export.rows_total = rows
            export.finished_at = clock.utcnow_naive()
            notice = Notice(kind=EXPORT_READY, event_key=f"export:{export.id}", worker_id=None, export_id=export.id,
                            batch="export", created_at=export.finished_at)
            db.session.add(notice)
            db.session.flush()
            db.session.add(Notification(notice_id=notice.id, user_id=user.id, created_at=export.finished_at))
    return export


def purge_expired(now=None) -> int:
    """Remove the files and records of exports past ``expires_at`` (the daily sweep calls it)."""
    now = now or clock.utcnow_naive()
    expired = db.session.execute(select(ExportFile).where(ExportFile.expires_at < now)).scalars().all()
    for export in expired:
        if export.path:
            Path(export.path).unlink(missing_ok=True)
    ids = [e.id for e in expired]
    db.session.execute(delete(Notification).where(Notification.notice_id.in_(
        select(Notice.id).where(Notice.export_id.in_(ids)))).execution_options(synchronize_session=False))
    db.session.execute(delete(Notice).where(Notice.export_id.in_(ids)).execution_options(synchronize_session=False))
    db.session.execute(delete(ExportFile).where(ExportFile.id.in_([e.id for e in expired]))
                       .execution_options(synchronize_session=False))
    return len(expired)


__all__ = ["EXPORT_JOB", "SUFFIX", "keep_hours", "list_export", "list_query", "list_rows", "purge_expired", "resume_exports",
           "run_export", "write_file"]
