"""``flask --app app profreg export monitoring ...``: a thin command over the services."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from ..cli_options import lang_option
from ..uow import cli_command
from . import services as S
from .tables import heading_lines, report_tables, tables_to_csv, tables_to_xlsx


def register(group):
    export = group.commands["export"]

    @export.command("monitoring")
    @click.option("--period", required=True, help="Reporting month, YYYY-MM.")
    @click.option("--region", "region_kato", help="KATO code of a region (default: the whole country).")
    @click.option("--district", "district_kato", help="KATO code of a district (level 2).")
    @click.option("--org", "org_bin", help="BIN of an organization.")
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
    @click.option("--live", is_flag=True, help="Compute now even when a report was submitted.")
    @lang_option()
    @with_appcontext
    @cli_command
    def export_monitoring(period, region_kato, district_kato, org_bin, fmt, out, live, lang):
        """Monthly monitoring report (the submitted snapshot when there is one)."""

        t0 = time.perf_counter()
        with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
            S.parse_period(period)
            scope = S.scope_from_codes(region_kato, org_bin, district_kato)
            report = None if live else S.get_report(period, scope)
            snap = S.snapshot_of(report) if report is not None else S.compute_report(period, scope)
            tables = report_tables(snap)
            if fmt == "csv":
                tables_to_csv(out, tables)
            else:
                tables_to_xlsx(out, tables, heading_lines(snap, _("Monthly monitoring report")))
        source = f"{report.status} report" if report is not None else "computed now"
        click.echo(f"{out}: {fmt}, period {period}, {source}, {time.perf_counter() - t0:.1f} s")
