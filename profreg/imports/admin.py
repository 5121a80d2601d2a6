"""The import page (Register → Import): upload, dry run and its report, confirm, the history of imports.

Thin: every rule is in ``imports.services`` (and the services it calls); the page checks the right to
import (``access``: resource ``import``), keeps the uploaded file, starts the run inline or as a
background job (files over ``IMPORT_INLINE_MAX_ROWS`` rows with Redis) and shows its progress. The
progress refreshes with a ``<meta http-equiv="refresh">`` (no script)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..admin.base import ProtectedBaseView
from ..extensions import db
from ..jobs.queue import enqueue, get_queue
from ..orgs.models import Organization
from ..uow import after_commit
from .columns import kind_label
from .models import DONE, FAILED, QUEUED, RUNNING, ImportRun
from .reader import FileRefused, check_size
from .services import (
    STATUS_LABELS,
    estimated_rows,
    execute,
    get_run,
    import_folder,
    inline_limit,
    kinds_for,
    runs_query,
    start,
)
from .template import template_kinds, write_template

IMPORT_JOB = "profreg.imports.jobs.import_job"
STATE_LABELS = {QUEUED: _l("waiting"), RUNNING: _l("in progress"), DONE: _l("done"), FAILED: _l("failed")}
ALLOWED_SUFFIXES = (".xlsx", ".csv", ".txt")


class ImportView(ProtectedBaseView):
    """Upload a file: it is first checked (a dry run: nothing written) and reported row by row; the
    user then confirms the import of the same file (optionally all-or-nothing)."""

    resource = "import"

    def _lang(self) -> str:
        return str(get_locale() or "ru")

    def _orgs(self):
        ids = access.org_ids_select(current_user)
        query = select(Organization).order_by(Organization.name_ru).limit(500)
        if ids is not None:
            query = query.where(Organization.id.in_(ids))
        return db.session.execute(query).scalars().all()

    @expose("/")
    def index(self):
        runs = db.session.execute(runs_query(current_user).order_by(ImportRun.created_at.desc(), ImportRun.id.desc())
                                  .limit(50)).scalars().all()
        running = any(r.state in (QUEUED, RUNNING) for r in runs)
        may_import = access.can(current_user, "import", access.CREATE)
        return self.render("imports/index.html", runs=runs, running=running, may_import=may_import,
                           orgs=self._orgs() if may_import and current_user.organization_id is None else [],
                           kinds=[(k, kind_label(k, self._lang())) for k in kinds_for(current_user)],
                           state_labels={k: str(v) for k, v in STATE_LABELS.items()},
                           status_labels={k: str(v) for k, v in STATUS_LABELS.items()},
                           highlight=request.args.get("id", type=int))

    @expose("/template/")
    def template(self):
        kind = request.args.get("kind", "all")
        if kind not in (*kinds_for(current_user), "all"):
            abort(404)
        tmp = Path(tempfile.mkdtemp()) / f"import-{kind}-{self._lang()}.xlsx"
        write_template(tmp, template_kinds(kind), self._lang())
        return send_file(tmp, as_attachment=True, download_name=tmp.name, max_age=0)

    @expose("/upload/", methods=("POST",))
    def upload(self):
        access.require(current_user, "import", access.CREATE)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_l("Choose a file."), "error")
            return redirect(url_for(".index"))
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            flash(_l("Upload an .xlsx or .csv file."), "error")
            return redirect(url_for(".index"))
        with tempfile.NamedTemporaryFile(dir=import_folder(), suffix=suffix, delete=False) as tmp:
            path = Path(tmp.name)
        upload.save(path)
        try:
            check_size(path)
        except FileRefused as exc:
            path.unlink(missing_ok=True)
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        org = None
        org_id = request.form.get("org", type=int)
        if org_id and current_user.organization_id is None:
            org = db.session.get(Organization, org_id)
        run = start(path, file_name=Path(upload.filename).name, actor=current_user, default_org=org, dry_run=True,
                    atomic=bool(request.form.get("atomic")), lang=self._lang())
        return self._launch(run)

    @expose("/<int:run_id>/confirm/", methods=("POST",))
    def confirm(self, run_id: int):
        access.require(current_user, "import", access.CREATE)
        checked = get_run(current_user, run_id)
        if checked is None or checked.user_id != current_user.id or not checked.dry_run or checked.state != DONE \
                or not checked.upload_path or not Path(checked.upload_path).exists():
            abort(404)
        run = start(Path(checked.upload_path), file_name=checked.file_name, actor=current_user,
                    default_org=checked.organization if current_user.organization_id is None else None,
                    dry_run=False, atomic=bool(request.form.get("atomic")), lang=self._lang())
        return self._launch(run)

    def _launch(self, run):
        """Inline for small files (or without Redis), else queued on RQ after the request commits."""
        rows = estimated_rows(run.upload_path, run.file_name)
        run.rows_total = rows
        if rows > inline_limit() and getattr(get_queue(), "is_async", False):
            run.state = QUEUED
            run_id = run.id
            after_commit(lambda: enqueue(IMPORT_JOB, run_id, job_timeout=4 * 3600))
        else:
            report = import_folder() / f"import-{run.id}-report.xlsx"
            execute(run, current_user._get_current_object(), report_path=report)
        return redirect(url_for(".index", id=run.id))

    @expose("/<int:run_id>/report/")
    def report(self, run_id: int):
        run = get_run(current_user, run_id)
        if run is None or not run.report_path or not Path(run.report_path).exists():
            abort(404)
        name = f"{Path(run.file_name).stem} — {run.created_at:%Y-%m-%d %H%M}.xlsx"
        return send_file(run.report_path, as_attachment=True, download_name=name, max_age=0)


def register_views(admin) -> None:
    admin.add_view(ImportView(name=_l("Import"), endpoint="imports", url="/admin/imports",
                              category=_l("Register")))


__all__ = ["ImportView", "register_views"]
