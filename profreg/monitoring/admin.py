"""Panel views for the monthly monitoring report (thin: services do the work)."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, clock
from ..admin import app_kept_seconds
from ..admin.base import ProtectedBaseView
from ..errors import DomainError
from ..exports import send_tempfile  # noqa: F401  (re-exported for analytics)
from ..memo import Memo
from ..uow import show_error
from . import services as S
from .tables import heading_lines, report_tables, scope_label, tables_to_csv, tables_to_xlsx

CATEGORY = _l("Monitoring")


status_label = S.status_label  # the status in the reader's language (also on the dashboard)




#: A region's or the country's live figures (~2 s over 300,000 workers for the country) are computed at
#: most once per ``BIG_SCOPE_CACHE_SECONDS`` for every process (the page says so); an organization's, a
#: generated draft, a submission and an export are always computed.
_LIVE_REPORTS = Memo("live monthly reports of big scopes", "BIG_SCOPE_CACHE_SECONDS", max_keys=200, shared=True,
                     background=True)


class MonitoringReportView(ProtectedBaseView):
    """Monthly report: pick period and scope, see figures, generate / submit / resubmit, export."""

    resource = "monitoring"

    def _params(self):
        try:
            period = request.values.get("period") or S.previous_period()
            S.parse_period(period)
            scope = S.parse_scope(request.values.get("scope"), current_user)
        except DomainError as exc:
            if request.method != "GET":  # a change is never made on another report than the one named
                abort(400)
            flash(exc.message, "error")
            return S.previous_period(), S.default_scope(current_user)
        return period, scope

    @expose("/")
    def index(self):
        period, scope = self._params()
        live = request.args.get("live") == "1"
        if not S.authorize(current_user, scope):
            abort(403)
        try:
            snap, report = S.report_for_display(period, scope, current_user, live=live, keep=_LIVE_REPORTS.get)
        except DomainError as exc:
            flash(exc.message, "error")
            snap, report = S.compute_report(period, scope), None
        status = S.submission_status(report, period)
        history = json.loads(report.history or "[]") if report is not None else []
        return self.render(
            "monitoring/report.html", period=period, scope=scope, scope_value=self._scope_value(scope),
            scope_choices=S.scope_choices(current_user), snap=snap, report=report, live=live,
            tables=report_tables(snap), status=status, status_label=status_label, history=history,
            kept_seconds=app_kept_seconds() if scope.kind != S.SCOPE_ORG and (live or report is None) else 0,
            title=scope_label(snap["scope"]),
            can_create=S.authorize(current_user, scope, access.CREATE),
            can_submit=S.authorize(current_user, scope, access.SUBMIT),
            regions=S.region_statuses(period, current_user))

    @staticmethod
    def _scope_value(scope):
        return "country" if scope.kind == "country" else f"{scope.kind}:{scope.id}"

    def _back(self, period, scope):
        return redirect(url_for(".index", period=period, scope=self._scope_value(scope)))

    @expose("/generate", methods=["POST"])
    def generate(self):
        period, scope = self._params()
        return self._run(period, scope, lambda: S.generate_draft(period, scope, current_user),
                         _("The draft was generated."))

    @expose("/submit", methods=["POST"])
    def submit(self):
        period, scope = self._params()
        return self._run(period, scope, lambda: S.submit(period, scope, current_user),
                         _("The report was submitted."))

    @expose("/resubmit", methods=["POST"])
    def resubmit(self):
        period, scope = self._params()
        reason = request.form.get("reason", "")
        return self._run(period, scope, lambda: S.resubmit(period, scope, current_user, reason),
                         _("The report was resubmitted."))

    def _run(self, period, scope, step, message):
        """A step of the reporting calendar; the request commits it (profreg/uow.py). A refused step
        writes nothing: 403 for ``NotAllowed``, the message on the report page for a ``DomainError``."""
        try:
            step()
        except DomainError as exc:
            show_error(exc)
            return self._back(period, scope)
        flash(message, "success")
        return self._back(period, scope)

    @expose("/export")
    def export(self):
        period, scope = self._params()
        fmt = request.args.get("format", "xlsx")
        if fmt not in ("xlsx", "csv") or not S.authorize(current_user, scope, access.EXPORT):
            abort(403 if fmt in ("xlsx", "csv") else 400)
        snap, report = S.report_for_display(period, scope, current_user, live=request.args.get("live") == "1")
        tables = report_tables(snap)
        name = f"monitoring_{period}_{scope.kind}{scope.id or ''}_{clock.now():%Y%m%d%H%M}.{fmt}"
        if fmt == "csv":
            return send_tempfile(lambda p: tables_to_csv(p, tables), ".csv", name)
        head = heading_lines(snap, _("Monthly monitoring report"),
                             f"{_('Status')}: {status_label(S.submission_status(report, period)['status'])}")
        return send_tempfile(lambda p: tables_to_xlsx(p, tables, head), ".xlsx", name)


def register_views(admin):
    admin.add_view(MonitoringReportView(name=_l("Monthly report"), endpoint="monitoring",
                                        url="/admin/monitoring", category=CATEGORY))
