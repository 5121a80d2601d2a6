"""``flask --app app profreg api-token create --email E [--name N] [--expires-days N]``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..auth.models import User
from ..extensions import db
from ..uow import cli_command
from .services import create_token


def register(group):
    @group.group("api-token")
    def api_token():
        """API tokens (docs/api.md)."""

    @api_token.command("create")
    @click.option("--email", required=True, help="The user the token acts as (his role and scope).")
    @click.option("--name", default=None, help="What the token is for (shown in the panel).")
    @click.option("--expires-days", type=int, default=None, help="Expire after N days (default: never).")
    @with_appcontext
    @cli_command
    def create_cmd(email, name, expires_days):
        """Make a token; it is printed once, on the last line (only its hash is stored)."""
        user = db.session.execute(select(User).where(func.lower(User.email) == email.strip().lower())
                                  ).scalar_one_or_none()
        token, raw = create_token(user, name, expires_days)
        click.echo(f"token {token.id} for {user.email} ({user.role})"
                   + (f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""))
        click.echo(raw)
