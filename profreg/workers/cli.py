"""``flask --app app profreg workers hire``: a new employment episode through the same rule as the panel
(a blocked worker gets no clinical position until a valid certificate exists). ``… workers end``: the end
of a worker's episodes in the user's organization through ``services.end_employment`` (the Labour Code
ground and the category of leaving, issue 20.6), as the panel, the import, the API and the reconciliation."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from ..auth.models import User
from ..cli_options import lang_option, parse_date
from ..extensions import db
from ..orgs.models import Organization
from ..reference.models import LabourCodeGround, Position, Specialty
from ..uow import cli_command
from .exports import export as run_export
from .models import END_CATEGORIES, Worker
from .services import end_employment, hire


def register(group):
    @group.group("workers")
    def workers_group():
        """Workers and employment episodes."""

    @workers_group.command("hire")
    @click.option("--iin", required=True, help="IIN of a registered worker.")
    @click.option("--org", "org_bin", required=True, help="BIN of the employing organization.")
    @click.option("--position", "position_code", required=True, help="Position code.")
    @click.option("--specialty", "specialty_code", help="Specialty code.")
    @click.option("--date", "day", required=True, callback=parse_date, help="Hire date YYYY-MM-DD.")
    @click.option("--concurrent", is_flag=True,
                  help="A concurrent post (part-time; the worker's other employment continues): opens no transfer.")
    @with_appcontext
    @cli_command
    def hire_cmd(iin, org_bin, position_code, specialty_code, day, concurrent):
        """Open a new employment episode for a registered worker. Without --concurrent, an episode the
        worker still holds in another organization gets a transfer (that organization's HR is told)."""
        def one(model, col, value, hint):
            row = db.session.execute(select(model).where(col == value)).scalar_one_or_none()
            if row is None:
                raise click.BadParameter(f"not found: {value}", param_hint=hint)
            return row

        worker = one(Worker, Worker.iin, iin, "--iin")
        org = one(Organization, Organization.bin, org_bin, "--org")
        position = one(Position, Position.code, position_code, "--position")
        specialty = one(Specialty, Specialty.code, specialty_code, "--specialty") if specialty_code else None
        episode = hire(worker, organization=org, position=position, specialty=specialty, hire_date=day,
                       concurrent=concurrent)
        click.echo(f"episode {episode.id}: {worker.iin} → {org.bin} ({position.code}) from {day.isoformat()}"
                   + (" (concurrent)" if concurrent else ""))
        for transfer in episode.transfers_in:
            click.echo(f"transfer {transfer.id}: {transfer.organization.bin} must end episode "
                       f"{transfer.from_employment_id} by {transfer.due_date.isoformat()}")

    @workers_group.command("end")
    @click.option("--iin", required=True, help="IIN of the worker.")
    @click.option("--date", "end_date", required=True, callback=parse_date, help="Last day YYYY-MM-DD.")
    @click.option("--ground", required=True, help="Labour Code ground code (reference labour_code_grounds).")
    @click.option("--category", required=True, type=click.Choice(END_CATEGORIES), help="Category of leaving.")
    @click.option("--as", "email", required=True, help="E-mail of the HR user of the organization.")
    @with_appcontext
    @cli_command
    def end_cmd(iin, end_date, ground, category, email):
        """End the worker's episodes in the user's organization on --date (ground and category both)."""
        actor = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
        if actor is None or not actor.active:
            raise click.ClickException(f"no active user {email}")
        worker = db.session.execute(select(Worker).where(Worker.iin == iin.strip())).scalar_one_or_none()
        if worker is None:
            raise click.BadParameter(f"not found: {iin}", param_hint="--iin")
        row = db.session.execute(select(LabourCodeGround).where(LabourCodeGround.code == ground.strip())) \
            .scalar_one_or_none()
        if row is None:
            raise click.BadParameter(f"not found: {ground}", param_hint="--ground")
        for e in end_employment(worker, actor, end_date, row, category):
            click.echo(f"episode {e.id}: {worker.iin} in {e.organization.bin} ended on {e.end_date.isoformat()} "
                       f"({row.code}, {category})")

    export = group.commands.get("export")
    if export is not None:
        @export.command("workers")
        @click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
        @click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
        @lang_option("Language of headers, sex and status (default: BABEL_DEFAULT_LOCALE).")
        @with_appcontext
        def export_workers(fmt, out, lang):
            """The whole worker register (personal-data columns), streamed."""

            t0 = time.perf_counter()
            with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
                n = run_export(out, fmt)
            click.echo(f"{n} rows written to {out} in {time.perf_counter() - t0:.1f} s")

