"""Panel views: quarterly forecast, data currency (worklist and rankings), charts. Thin: services compute."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, clock, replica
from ..admin import app_kept_seconds
from ..admin.base import ProtectedBaseView, page_arg
from ..errors import DomainError
from ..memo import Memo
from ..monitoring import services as S
from ..monitoring.admin import CATEGORY, send_tempfile
from ..monitoring.tables import Table, name_of, tables_to_csv, tables_to_xlsx
from ..reporting import services as R
from ..uow import show_error
from ..workers.models import ENTRY_LABELS
from .charts import chart_data, render_charts
from .currency import district_ranking, organization_currency, region_ranking, worklist
from .forecast import compute_forecast, next_quarter, parse_quarter
from .tables import forecast_tables


class _ScopedPage(ProtectedBaseView):
    resource = "monitoring"

    def _scope(self):
        try:
            scope = S.parse_scope(request.args.get("scope"), current_user)
        except DomainError as exc:
            flash(exc.message, "error")
            scope = S.default_scope(current_user)
        if not S.authorize(current_user, scope):
            abort(403)
        return scope

    @staticmethod
    def _scope_value(scope):
        return "country" if scope.kind == "country" else f"{scope.kind}:{scope.id}"


class ForecastView(_ScopedPage):
    """Rule 7: 8-quarter cohort projection, qualification calendar and need, with method and inputs; the
    forecast of a quarter is drafted, frozen, submitted and resubmitted like the monthly report
    (``reporting.services``), and the stored forecast is what the page and its exports show."""

    def _quarter(self):
        try:
            return parse_quarter(request.values.get("quarter") or next_quarter().label)
        except DomainError as exc:
            if request.method != "GET":
                abort(400)
            flash(exc.message, "error")
            return next_quarter()

    def _forecast(self):
        scope, quarter = self._scope(), self._quarter()
        live = request.args.get("live") == "1"
        row = R.get_forecast(quarter.label, scope)
        if row is not None and not live:
            return scope, quarter, R.snapshot_of(row), row
        with replica.reads():  # the live forecast screen (a frozen submission reads the primary)
            return scope, quarter, compute_forecast(quarter, scope), row

    @expose("/")
    def index(self):
        scope, quarter, fc, row = self._forecast()
        history = json.loads(row.history or "[]") if row is not None else []
        return self.render("analytics/forecast.html", fc=fc, tables=forecast_tables(fc), quarter=quarter.label,
                           scope_value=self._scope_value(scope), scope_choices=S.scope_choices(current_user),
                           report=row, status=R.forecast_status(row, quarter.label), status_label=S.status_label,
                           history=history, live=request.args.get("live") == "1", key_name="quarter",
                           key_value=quarter.label,
                           can_create=S.authorize(current_user, scope, access.CREATE),
                           can_submit=S.authorize(current_user, scope, access.SUBMIT))

    def _run(self, step, message):
        quarter = self._quarter()
        scope = self._scope()
        try:
            step(quarter.label, scope)
        except DomainError as exc:
            show_error(exc)
        else:
            flash(message, "success")
        return redirect(url_for(".index", quarter=quarter.label, scope=self._scope_value(scope)))

    @expose("/generate", methods=["POST"])
    def generate(self):
        return self._run(lambda q, s: R.generate_forecast_draft(q, s, current_user), _("The draft was generated."))

    @expose("/submit", methods=["POST"])
    def submit(self):
        return self._run(lambda q, s: R.submit_forecast(q, s, current_user), _("The forecast was submitted."))

    @expose("/resubmit", methods=["POST"])
    def resubmit(self):
        reason = request.form.get("reason", "")
        return self._run(lambda q, s: R.resubmit_forecast(q, s, current_user, reason),
                         _("The forecast was resubmitted."))

    @expose("/export")
    def export(self):
        fmt = request.args.get("format", "xlsx")
        if fmt not in ("xlsx", "csv") or not access.can(current_user, "monitoring", access.EXPORT):
            abort(400 if fmt not in ("xlsx", "csv") else 403)
        scope, quarter, fc, row = self._forecast()
        tables = forecast_tables(fc)
        name = f"forecast_{quarter.label}_{scope.kind}{scope.id or ''}_{clock.now():%Y%m%d%H%M}.{fmt}"
        if fmt == "csv":
            return send_tempfile(lambda p: tables_to_csv(p, tables), ".csv", name)
        return send_tempfile(lambda p: tables_to_xlsx(p, tables, forecast_heading(fc, row)), ".xlsx", name)


def forecast_heading(fc: dict, row=None) -> list[str]:
    """The heading lines of a forecast export: title, base date and, for a stored forecast, its status
    and checksum (the frozen snapshot the file was made from)."""
    head = [_("Quarterly forecast"), f"{_('Base date')}: {fc['base_date']}"]
    if row is not None:
        st = R.forecast_status(row, fc["quarter"])
        head.append(f"{_('Status')}: {S.status_label(st['status'])}")
        if row.checksum:
            head.append(f"{_('Checksum (SHA-256)')}: {row.checksum}")
    return head


def currency_table(rows, by_region=False, by_district=False) -> Table:
    if by_district:
        by_region = True  # the folded rows have the same shape; only the unit's name differs
    unit = _("District") if by_district else _("Region")
    head = [_("Rank"), unit if by_region else _("BIN"), unit if by_region else _("Organization"),
            _("Records"), _("Updated or confirmed, %"), _("Missing mandatory fields"), _("Entries"),
            _("Late entries"), _("Certificates without an end date"), _("Score")]
    t = Table("currency", _("Data currency"), head)
    for r in rows:
        if by_district and not r["region"]:
            name = _("District not set")
        elif by_region:
            name = name_of(r["region_names"], r["region"])
        else:
            name = name_of(r["names"], r["bin"])
        t.rows.append([r["rank"], r["region"] if by_region else r["bin"], name,
                       r["records"], r["current_share"], r["incomplete"], r["entries"], r["late"], r["no_end_date"],
                       r["score"]])
    return t


#: Organizations per page of the data-currency ranking.
RANKING_PAGE = 100


class DataCurrencyView(_ScopedPage):
    """Rules 11-13: shares per organization, worklist for the organization, rankings for region/ministry."""

    def _months(self):
        try:
            return max(1, min(60, int(request.args.get("months", 12))))
        except ValueError:
            return 12

    @expose("/")
    def index(self):
        scope, months = self._scope(), self._months()
        rows = _ranking(scope, months)
        work = worklist(scope.id, months) if scope.kind == "org" else None
        regions = currency_table(region_ranking(rows), by_region=True) if scope.kind == "country" else None
        kept = app_kept_seconds() if scope.kind != "org" else 0
        districts = (currency_table(district_ranking(rows), by_district=True)
                     if scope.kind in (S.SCOPE_REGION, S.SCOPE_DISTRICT) else None)
        # the organizations' ranking a page at a time (the country: 2,000 rows took 0.4 s to render; the
        # csv export holds them all)
        pages = max(1, -(-len(rows) // RANKING_PAGE))
        page = min(page_arg(), pages)
        first = (page - 1) * RANKING_PAGE
        return self.render("analytics/currency.html", months=months,
                           orgs=currency_table(rows[first:first + RANKING_PAGE]), regions=regions,
                           districts=districts, kept_seconds=kept, page=page, pages=pages,
                           first=first + 1 if rows else 0, last=min(first + RANKING_PAGE, len(rows)), total=len(rows),
                           work=work, scope=scope, scope_value=self._scope_value(scope),
                           scope_choices=S.scope_choices(current_user), worker_url=_worker_url,
                           field_labels=ENTRY_LABELS)

    @expose("/export")
    def export(self):
        if not access.can(current_user, "monitoring", access.EXPORT):
            abort(403)
        scope, months = self._scope(), self._months()
        table = currency_table(organization_currency(scope, months))
        name = f"data_currency_{scope.kind}{scope.id or ''}_{clock.now():%Y%m%d%H%M}.csv"
        return send_tempfile(lambda p: tables_to_csv(p, [table]), ".csv", name)


def _worker_url(worker_id):
    try:
        return url_for("workers.details_view", id=worker_id)
    except Exception:  # the workers view may be absent in a trimmed build
        return None


class ChartsView(_ScopedPage):
    @expose("/")
    def index(self):
        scope = self._scope()
        return self.render("analytics/charts.html", charts=render_charts(chart_data(scope)),
                           scope_value=self._scope_value(scope), scope_choices=S.scope_choices(current_user))


#: A region's or the country's ranking (every organization: ~1 s over 300,000 workers) is computed at
#: most once per ``BIG_SCOPE_CACHE_SECONDS`` per scope for every process (profreg/memo.py), refreshed in
#: a thread while the page shows the figure it has; an organization's is always live.
#: The export is always computed.
_RANKINGS = Memo("data-currency rankings of big scopes", "BIG_SCOPE_CACHE_SECONDS", max_keys=200,
                 shared=True, background=True)


def _ranking(scope, months: int) -> list[dict]:
    if scope.kind == "org":
        return organization_currency(scope, months)
    rows = _RANKINGS.get((scope, months, clock.today()), lambda: organization_currency(scope, months))
    return [dict(r) for r in rows]


def register_views(admin):
    admin.add_view(ForecastView(name=_l("Quarterly forecast"), endpoint="forecast", url="/admin/forecast",
                                category=CATEGORY))
    admin.add_view(DataCurrencyView(name=_l("Data currency"), endpoint="data_currency",
                                    url="/admin/data-currency", category=CATEGORY))
    admin.add_view(ChartsView(name=_l("Charts"), endpoint="charts", url="/admin/charts", category=CATEGORY))
