"""The reporting calendar page (one per role: what is due, late, submitted, received), the frozen
documents behind it (view, xlsx/csv), the authorized body's receipts and requests, and the coordinators'
answers. Thin: ``reporting.services`` and ``access`` decide."""
from __future__ import annotations

import io
import json
from datetime import date

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, clock
from ..admin.base import ProtectedBaseView
from ..analytics.admin import forecast_heading
from ..analytics.tables import forecast_tables
from ..errors import DomainError, NotAllowed
from ..exports import send_tempfile
from ..i18n import fmt_period
from ..monitoring import services as S
from ..monitoring.admin import CATEGORY
from ..monitoring.tables import heading_lines, report_tables, scope_label, tables_to_csv, tables_to_xlsx
from ..uow import show_error
from . import services as R

KIND_LABELS = {R.MONTHLY: _l("Monthly monitoring report"), R.FORECAST: _l("Quarterly forecast"),
               R.REQUEST: _l("Request of the authorized body")}
STATE_LABELS = {R.DUE: _l("Due"), R.OVERDUE: _l("Late: not submitted"), "submitted_on_time": _l("Submitted on time"),
                "submitted_late": _l("Submitted late"), R.RECEIVED: _l("Received")}
STATE_BADGES = {R.DUE: "secondary", R.OVERDUE: "danger", "submitted_on_time": "info", "submitted_late": "warning",
                R.RECEIVED: "success"}


def _tables(kind: str, snap: dict):
    """The translated tables of a frozen document (an answer: of the figures it carries)."""
    if kind == R.REQUEST:
        if snap.get("answer") == R.MONTHLY:
            return report_tables(snap["figures"])
        if snap.get("answer") == R.FORECAST:
            return forecast_tables(snap["figures"])
        return []
    return report_tables(snap) if kind == R.MONTHLY else forecast_tables(snap)


class ReportingView(ProtectedBaseView):
    resource = "reporting"

    @expose("/")
    def index(self):
        items = R.calendar_items(current_user)
        wanted = request.args.get("state")
        if wanted in STATE_LABELS:
            items = [i for i in items if i.state == wanted]
        return self.render("reporting/calendar.html", items=items, kind_labels=KIND_LABELS,
                           state_labels=STATE_LABELS, badges=STATE_BADGES, wanted=wanted, scope_label=scope_label,
                           fmt_period=fmt_period, request_scopes=R.request_scope_choices(current_user), min_due=clock.today().isoformat(),
                           may=lambda item, action: access.reporting_scope_allowed(
                               current_user, item.scope.kind, item.scope.id, action),
                           sees_drafts=access.reporting_sees_drafts(current_user))

    def _doc(self, action=access.LIST):
        kind = request.values.get("kind", "")
        try:
            ident = int(request.values.get("id", ""))
        except ValueError:
            abort(404)
        try:
            return kind, R.get_document(kind, ident, current_user, action)
        except NotAllowed:
            abort(404 if action == access.LIST else 403)

    @expose("/document")
    def document(self):
        kind, row = self._doc()
        snap = R.document_snapshot(kind, row, current_user)
        history = json.loads(row.history or "[]")
        due = R.due_of(kind, row)
        return self.render("reporting/document.html", kind=kind, row=row, snap=snap,
                           tables=_tables(kind, snap) if snap else [], kind_labels=KIND_LABELS,
                           status=R.document_state(row, due), status_label=S.status_label, history=history,
                           scope_label=scope_label, scope=R.Scope(row.scope, row.scope_id).describe(),
                           period=getattr(row, "period", None) or getattr(row, "quarter", ""),
                           may_receive=access.reporting_scope_allowed(current_user, row.scope, row.scope_id,
                                                                      access.RECEIVE),
                           may_answer=kind == R.REQUEST and access.reporting_scope_allowed(
                               current_user, row.scope, row.scope_id, access.ANSWER))

    @expose("/document/export")
    def export(self):
        kind, row = self._doc(access.EXPORT)
        fmt = request.args.get("format", "xlsx")
        if fmt not in ("xlsx", "csv"):
            abort(400)
        snap = R.document_snapshot(kind, row, current_user)
        if snap is None:
            abort(404)
        tables = _tables(kind, snap)
        if not tables:  # an answer with a file: the file itself is the document
            abort(404)
        name = f"{kind}_{getattr(row, 'period', None) or row.quarter}_{row.scope}{row.scope_id or ''}_{row.id}.{fmt}"
        if fmt == "csv":
            return send_tempfile(lambda p: tables_to_csv(p, tables), ".csv", name)
        checksum = f"{_('Checksum (SHA-256)')}: {row.checksum or ''}"
        if kind == R.FORECAST:
            head = forecast_heading(snap, row)
        elif kind == R.REQUEST and snap.get("answer") == R.FORECAST:
            head = [str(KIND_LABELS[kind]), row.topic, *forecast_heading(snap["figures"]), checksum]
        else:
            figures = snap["figures"] if kind == R.REQUEST else snap
            head = heading_lines(figures, str(KIND_LABELS[kind]), checksum)
        return send_tempfile(lambda p: tables_to_xlsx(p, tables, head), ".xlsx", name)

    @expose("/document/file")
    def file(self):
        kind, row = self._doc(access.DETAILS)
        if kind != R.REQUEST or row.status != "submitted":
            abort(404)
        try:
            name, ctype, content = R.answer_file(row)
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".document", kind=kind, id=row.id))
        return send_file(io.BytesIO(content), mimetype=ctype, as_attachment=True, download_name=name)

    def _back(self, kind=None, ident=None):
        if kind and ident:
            return redirect(url_for(".document", kind=kind, id=ident))
        return redirect(url_for(".index"))

    def _step(self, step, message, kind=None, ident=None):
        try:
            step()
        except DomainError as exc:
            show_error(exc)
        else:
            flash(message, "success")
        return self._back(kind, ident)

    @expose("/receive", methods=["POST"])
    def receive(self):
        kind, row = self._doc(access.RECEIVE)
        return self._step(lambda: R.receive(kind, row.id, current_user), _("Receipt was acknowledged."),
                          kind, row.id)

    @expose("/request", methods=["POST"])
    def register(self):
        if not access.can(current_user, "reporting", access.CREATE):
            abort(403)
        try:
            scope = S.parse_scope(request.form.get("scope") or "country", current_user)
            due = date.fromisoformat(request.form.get("due_date", ""))
        except (DomainError, ValueError):
            flash(_("Choose a region or the whole country and a due date."), "error")
            return self._back()
        return self._step(lambda: R.register_request(current_user, request.form.get("topic", ""), scope,
                                                     request.form.get("period", ""), due),
                          _("The request was registered."))

    @expose("/answer", methods=["POST"])
    def answer(self):
        kind, row = self._doc(access.ANSWER)
        if kind != R.REQUEST:
            abort(400)
        reason = request.form.get("reason") or None
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            content = upload.read()
            return self._step(lambda: R.answer_with_file(row.id, current_user, upload.filename, content,
                                                         upload.mimetype, reason),
                              _("The answer was submitted."), kind, row.id)
        return self._step(lambda: R.answer_with_snapshot(row.id, current_user, reason),
                          _("The answer was submitted."), kind, row.id)


def register_views(admin):
    admin.add_view(ReportingView(name=_l("Reporting calendar"), endpoint="reporting", url="/admin/reporting",
                                 category=CATEGORY))
