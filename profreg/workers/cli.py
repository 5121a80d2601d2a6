"""``flask --app app profreg employment end``: end a worker's episode in the user's organization from the
command line, through ``workers.services.end_employment`` (the Labour Code ground and the category of
leaving, issue 20.6), as the panel, the import, the API and the reconciliation do."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..auth.models import User
from ..cli_options import parse_date
from ..extensions import db
from ..reference.models import LabourCodeGround
from ..uow import cli_command
from .models import END_CATEGORIES, Worker
from .services import end_employment


def register(group):
    @group.group("employment")
    def employment_group():
        """Employment episodes."""

    @employment_group.command("end")
    @click.option("--iin", required=True, help="IIN of the worker.")
    @click.option("--date", "end_date", required=True, callback=parse_date, help="Last day (YYYY-MM-DD).")
    @click.option("--ground", required=True, help="Labour Code ground code (reference labour_code_grounds).")
    @click.option("--category", required=True, type=click.Choice(END_CATEGORIES), help="Category of leaving.")
    @click.option("--as", "email", required=True, help="E-mail of the HR user of the organization.")
    @with_appcontext
    def end_cmd(iin, end_date, ground, category, email):
        """End the worker's episodes in the user's organization on --date."""
        for line in _end(iin, end_date, ground, category, email):
            click.echo(line)


@cli_command
def _end(iin: str, end_date, ground_code: str, category: str, email: str) -> list[str]:
    actor = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if actor is None or not actor.active:
        raise click.ClickException(f"no active user {email}")
    worker = db.session.execute(select(Worker).where(Worker.iin == iin.strip())).scalar_one_or_none()
    if worker is None:
        raise click.ClickException(f"no worker with IIN {iin}")
    ground = db.session.execute(select(LabourCodeGround).where(LabourCodeGround.code == ground_code.strip())) \
        .scalar_one_or_none()
    if ground is None:
        raise click.BadParameter(f"unknown Labour Code ground {ground_code}", param_hint="--ground")
    episodes = end_employment(worker, actor, end_date, ground, category)
    return [f"ended episode {e.id} ({e.organization.bin}) on {e.end_date.isoformat()}: {ground.code}, {category}"
            for e in episodes]
