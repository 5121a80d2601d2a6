"""``flask --app app profreg reminders [--today YYYY-MM-DD]``: the reporting reminders of a day, inline
(what the daily ``rq cron`` job does; each reminder is sent once however often it runs)."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from .jobs import reminders_job


def register(group):
    @group.command("reminders")
    @click.option("--today", help="The day to stand on, YYYY-MM-DD (default: today in Almaty).")
    @with_appcontext
    def reminders(today):
        """Send the reporting reminders due today (coordinators, heads, HR chiefs), each once."""
        if today:
            try:
                date.fromisoformat(today)
            except ValueError:
                raise click.BadParameter("YYYY-MM-DD", param_hint="--today") from None
        counts = reminders_job(today)
        click.echo(f"reminders: {counts['reminders']} new, {counts['notifications']} in-app, "
                   f"{counts['mails_queued']} mails queued")
