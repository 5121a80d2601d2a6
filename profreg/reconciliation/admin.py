"""The reconciliation page (Register → Reconciliation with state registries): the worklist of
discrepancies of the user's scope with each item's one-click action, the upload of a registry extract,
"check again", the history of runs, and the "end the episode" form of an item. Thin: every rule is in
``reconciliation.services`` (and ``workers.services.end_employment`` for an ending)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired

from .. import access, clock
from ..admin.base import PanelForm, ProtectedBaseView
from ..admin.dateinput import LocalDateField
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..i18n import fmt_date
from ..imports.reader import FileRefused, check_size
from ..imports.services import import_folder
from ..orgs.models import Organization
from ..reference.models import LabourCodeGround
from ..uow import show_error
from ..workdays.services import WorkingCalendar
from ..workers.models import END_CATEGORY_LABELS
from .adapters import file_adapter
from .models import (
    CERTIFICATE_DIFFERS,
    CERTIFICATE_MISSING,
    CONTRACT_MISSING,
    DISMISSAL_MISSING,
    KIND_LABELS,
    NO_CONTRACT,
    OPEN,
    SOURCE_LABELS,
    SOURCES,
    STATUS_LABELS,
    Discrepancy,
    ReconciliationRun,
)
from .services import days_overdue, end_from_item, item_for, recheck, reconcile

ALLOWED_SUFFIXES = (".xlsx", ".csv", ".txt")
PAGE_ROWS = 500
DIFFERENCE_LABELS = {"specialty": _l("Specialty"), "issue_date": _l("Date of issue"), "valid_until": _l("Valid until")}


def _grounds():
    return db.session.query(LabourCodeGround).filter(LabourCodeGround.is_active.is_(True)).order_by(LabourCodeGround.id)


class EndFromItemForm(PanelForm):
    """The "end the episode" action of a worklist item: the last day (the contract's end when the registry
    gives one), the Labour Code ground and the category of leaving (issue 20.6)."""

    end_date = LocalDateField(_l("End date"), validators=[DataRequired()])
    end_ground = QuerySelectField(_l("Labour Code ground"), query_factory=_grounds, validators=[DataRequired()])
    end_category = SelectField(_l("Category of leaving"), validators=[DataRequired()],
                               choices=lambda: [(k, v) for k, v in END_CATEGORY_LABELS.items()])


def action_of(item: Discrepancy) -> tuple[str, str] | None:
    """(label, URL) of an open item's one-click action: the hire form prefilled with the contract, the
    end of the episode, the certificate form prefilled with the registry's certificate, or the
    correction of the certificate recorded differently."""
    if item.status != OPEN:
        return None
    if item.kind == CONTRACT_MISSING:
        args = {"iin": item.iin, "hire_date": item.start_date.isoformat() if item.start_date else None,
                "position": item.position}
        endpoint = "workers.hire_view" if item.worker_id else "workers.create_view"
        return str(_l("Open the hire form")), url_for(endpoint, **{k: v for k, v in args.items() if v})
    if item.kind in (NO_CONTRACT, DISMISSAL_MISSING):
        return str(_l("End the episode")), url_for("reconciliation.end", id=item.id)
    if item.kind == CERTIFICATE_MISSING:
        args = {"worker": item.worker_id, "number": item.number, "specialty": item.specialty_id,
                "issue_date": item.start_date.isoformat() if item.start_date else None,
                "valid_until": item.end_date.isoformat() if item.end_date else None, "issuer": item.issuer}
        return str(_l("Add the certificate")), url_for("certificates.create_view",
                                                       **{k: v for k, v in args.items() if v})
    if item.kind == CERTIFICATE_DIFFERS and item.certificate_id:
        return str(_l("Correct the certificate")), url_for("certificates.correct_view", id=item.certificate_id)
    return None


def describe(item: Discrepancy) -> str:
    """What the registry says, in words (never a stored code)."""
    if item.source == "esutd":
        parts = [_("contract from %(date)s", date=fmt_date(item.start_date))]
        if item.end_date:
            parts.append(_("until %(date)s", date=fmt_date(item.end_date)))
        if item.position:
            parts.append(item.position)
        return ", ".join(parts)
    parts = [_("No. %(number)s", number=item.number or "")]
    if item.specialty is not None:
        parts.append(item.specialty.name)
    parts.append(_("issued %(date)s", date=fmt_date(item.start_date)))
    if item.end_date:
        parts.append(_("valid until %(date)s", date=fmt_date(item.end_date)))
    if item.differences:
        parts.append(_("differs: %(fields)s", fields=", ".join(str(DIFFERENCE_LABELS.get(f, "")) for f in
                                                             item.differences.split(","))))
    return ", ".join(parts)


class ReconciliationView(ProtectedBaseView):
    """The worklist of discrepancies with state registries, and the upload of a registry extract."""

    resource = "reconciliation"

    def _items(self, status: str, kind: str | None, org_id: int | None):
        q = access.scoped(select(Discrepancy), Discrepancy, current_user)
        if status in STATUS_LABELS:
            q = q.where(Discrepancy.status == status)
        if kind in KIND_LABELS:
            q = q.where(Discrepancy.kind == kind)
        if org_id:
            q = q.where(Discrepancy.organization_id == org_id)
        return db.session.execute(q.order_by(Discrepancy.organization_id, Discrepancy.kind, Discrepancy.start_date,
                                             Discrepancy.id).limit(PAGE_ROWS)).scalars().all()

    @expose("/")
    def index(self):
        status = request.args.get("status", OPEN)
        kind = request.args.get("kind") or None
        org_id = request.args.get("org", type=int)
        items = self._items(status, kind, org_id)
        cal, today = WorkingCalendar.load(), clock.today()
        orgs = {o.id: o for o in db.session.execute(select(Organization).where(
            Organization.id.in_({i.organization_id for i in items} or {0}))).scalars()}
        rows = [{"item": i, "organization": orgs.get(i.organization_id), "kind": KIND_LABELS[i.kind],
                 "status": STATUS_LABELS.get(i.status, ""), "what": describe(i),
                 "overdue": days_overdue(i, today, cal), "action": action_of(i)} for i in items]
        runs = db.session.execute(access.scoped(select(ReconciliationRun), ReconciliationRun, current_user)
                                  .order_by(ReconciliationRun.started_at.desc(), ReconciliationRun.id.desc())
                                  .limit(20)).scalars().all()
        return self.render("reconciliation/index.html", rows=rows, runs=runs, status=status, kind=kind,
                           org_id=org_id, statuses=STATUS_LABELS, kinds=KIND_LABELS, sources=SOURCE_LABELS,
                           may_run=access.can(current_user, "reconciliation", access.CREATE),
                           may_act=access.can(current_user, "reconciliation", access.EDIT), limit=PAGE_ROWS)

    @expose("/upload/", methods=("POST",))
    def upload(self):
        access.require(current_user, "reconciliation", access.CREATE)
        source = request.form.get("source", "")
        upload = request.files.get("file")
        if source not in SOURCES:
            flash(_l("Choose the registry the file comes from."), "error")
            return redirect(url_for(".index"))
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
            run = reconcile(file_adapter(source, path, Path(upload.filename).name), actor=current_user)
        except FileRefused as exc:
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        finally:
            path.unlink(missing_ok=True)
        flash(_("%(file)s: %(rows)d rows read, %(bad)d rejected, %(out)d outside the register or your area; "
                "%(found)d discrepancies in %(orgs)d organizations, %(closed)d closed.", file=run.file_name,
                rows=run.rows_read, bad=run.rows_rejected, out=run.rows_outside, found=run.items_found,
                orgs=run.organizations, closed=run.items_closed), "success")
        return redirect(url_for(".index"))

    @expose("/recheck/", methods=("POST",))
    def recheck_view(self):
        n = recheck(current_user)
        flash(ngettext("%(num)d item is resolved: the register now agrees with the registry.",
                       "%(num)d items are resolved: the register now agrees with the registry.", n), "success")
        return redirect(url_for(".index"))

    @expose("/end/", methods=("GET", "POST"))
    def end(self):
        try:
            item = item_for(current_user, request.values.get("id"), access.EDIT)
        except NotAllowed:
            abort(404)
        if item.kind not in (NO_CONTRACT, DISMISSAL_MISSING) or item.status != OPEN:
            abort(404)
        access.require(current_user, "employment", access.END, org_id=item.organization_id)  # 403 otherwise
        form = EndFromItemForm(request.form if request.method == "POST" else None)
        if request.method == "GET":
            form.end_date.data = item.end_date or clock.today()
        if request.method == "POST" and form.validate():
            try:
                end_from_item(item, actor=current_user, end_date=form.end_date.data, end_ground=form.end_ground.data,
                              end_category=form.end_category.data)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("The employment of %(name)s in your organization was ended.", name=item.worker.full_name),
                      "success")
                return redirect(url_for(".index"))
        return self.render("reconciliation/end.html", form=form, item=item, kind=KIND_LABELS[item.kind],
                           what=describe(item))


def register_views(admin) -> None:
    admin.add_view(ReconciliationView(name=_l("Reconciliation with state registries"), endpoint="reconciliation",
                                      url="/admin/reconciliation", category=_l("Register")))


__all__ = ["ReconciliationView", "action_of", "describe", "register_views"]
