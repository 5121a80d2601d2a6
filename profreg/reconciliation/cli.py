"""``flask --app app profreg reconcile esutd|certificates FILE``: reconcile a registry extract
(docs/reconciliation.md). Thin: the adapter reads, ``services.reconcile`` compares."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import access
from ..auth.models import User
from ..cli_options import lang_option
from ..extensions import db
from ..uow import cli_command
from .adapters import file_adapter
from .models import KIND_LABELS, SOURCE_CERTIFICATES, SOURCE_ESUTD, Discrepancy
from .services import reconcile


def register(group):
    @group.group("reconcile")
    def reconcile_group():
        """Reconcile the register with a state registry's extract (csv or xlsx)."""

    for source, doc in ((SOURCE_ESUTD, "a labour-contract extract (ESUTD): IIN, employer BIN, contract "
                                       "start/end, position"),
                        (SOURCE_CERTIFICATES, "an accredited issuer's certificate registry extract: IIN, number, "
                                              "specialty, date of issue, valid until")):
        @reconcile_group.command(source, help=f"Reconcile FILE, {doc}; the discrepancies become worklist "
                                              "items of each organization's HR.")
        @click.argument("file", type=click.Path(exists=True, dir_okay=False))
        @click.option("--as", "email", help="E-mail of the user whose scope applies (default: the whole country).")
        @lang_option("Language of the summary.")
        @with_appcontext
        def command(file, email, lang, source=source):
            with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
                _run(source, file, email)


@cli_command
def _run(source: str, file: str, email: str | None) -> None:
    actor = access.CommandLineActor()
    if email:
        actor = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
        if actor is None or not actor.active:
            raise click.ClickException(f"no active user {email}")
    run = reconcile(file_adapter(source, file, Path(file).name), actor=actor)
    click.echo(_("Rows read: %(n)d; rejected: %(bad)d; outside the register or the scope: %(out)d; "
                 "organizations reconciled: %(orgs)d.", n=run.rows_read, bad=run.rows_rejected,
                 out=run.rows_outside, orgs=run.organizations))
    for line in (run.problems or "").splitlines():
        click.echo(_("Row %(line)s", line=line), err=True)
    items = db.session.execute(select(Discrepancy).where(Discrepancy.run_id == run.id)
                               .order_by(Discrepancy.organization_id, Discrepancy.kind, Discrepancy.iin)).scalars().all()
    counts = Counter(d.kind for d in items)
    click.echo(_("Discrepancies: %(n)d; closed (no longer in the registry): %(closed)d.", n=len(items),
                 closed=run.items_closed))
    for kind, label in KIND_LABELS.items():
        if counts.get(kind):
            click.echo(f"  {label}: {counts[kind]}")
    for d in items:
        click.echo(f"  {d.organization.bin}  {d.iin}  {d.kind_label}")
