"""``flask --app app profreg export forecast ...``: a thin command over the forecast (rule 7)."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from ..cli_options import lang_option
from ..monitoring import services as S
from ..monitoring.tables import tables_to_csv, tables_to_xlsx
from ..uow import cli_command
from .forecast import compute_forecast, parse_quarter
from .tables import forecast_tables


def register(group):
    export = group.commands["export"]

    @export.command("forecast")
    @click.option("--quarter", required=True, help="First projected quarter, e.g. 2027Q1.")
    @click.option("--region", "region_kato", help="KATO code of a region (default: the whole country).")
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
    @lang_option()
    @with_appcontext
    @cli_command
    def export_forecast(quarter, region_kato, fmt, out, lang):
        """Quarterly forecast (8 quarters), qualification calendar and staffing need."""
        t0 = time.perf_counter()
        with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
            q = parse_quarter(quarter)
            scope = S.scope_from_codes(region_kato)
            fc = compute_forecast(q, scope)
            tables = forecast_tables(fc)
            if fmt == "csv":
                tables_to_csv(out, tables)
            else:
                tables_to_xlsx(out, tables, [f"{_('Quarterly forecast')} {fc['quarters'][0]}–{fc['quarters'][-1]}",
                                             f"{_('Base date')}: {fc['base_date']}"])
        click.echo(f"{out}: {fmt}, forecast from {q.label}, {time.perf_counter() - t0:.1f} s")
