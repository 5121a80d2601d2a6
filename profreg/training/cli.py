"""``flask --app app profreg export training-list --org BIN --period 2027Q1 --format xlsx|csv|pdf --out PATH``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from ..cli_options import lang_option
from ..errors import DomainError
from ..extensions import db
from ..orgs.models import Organization
from . import exports, services
from .models import TrainingList


def register(group) -> None:
    export = group.commands["export"]

    @export.command("training-list")
    @click.option("--org", "org_bin", required=True, help="BIN of the organization.")
    @click.option("--period", required=True, help="Period of the list, e.g. 2027Q1 or 2027.")
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf"]), default="xlsx", show_default=True)
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
    @lang_option("Language of headers and reasons.", default="ru")
    @with_appcontext
    def export_training_list(org_bin, period, fmt, out, lang):
        """Export an organization's advanced-training list for a period."""

        try:
            period = services.parse_period(period)
        except DomainError as exc:
            raise click.BadParameter(str(exc.message), param_hint="--period") from None
        org = db.session.execute(select(Organization).where(Organization.bin == org_bin)).scalar_one_or_none()
        if org is None:
            raise click.BadParameter(f"no organization with BIN {org_bin}", param_hint="--org")
        lst = db.session.execute(select(TrainingList).where(TrainingList.organization_id == org.id,
                                                            TrainingList.period == period)).scalar_one_or_none()
        if lst is None:
            raise click.ClickException(f"no training list of {org_bin} for {period}")

        with current_app.test_request_context(), force_locale(lang):
            n = exports.write_list(lst, fmt, out)
        click.echo(f"{out}: {n} workers ({lst.status})")
