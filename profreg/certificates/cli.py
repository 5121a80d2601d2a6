"""``flask --app app profreg sweep [--today YYYY-MM-DD] [--enqueue]`` and ``profreg mail send``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import clock
from ..cli_options import parse_date
from ..extensions import db
from ..jobs.queue import enqueue as enqueue_job
from ..workers.models import Worker
from .jobs import deliver_mail, run_sweep, sweep_job
from .services import notice_given


def register(group):
    @group.command("sweep")
    @click.option("--today", callback=parse_date, help="Stand on this date (YYYY-MM-DD).")
    @click.option("--enqueue", is_flag=True, help="Enqueue on RQ (REDIS_URL) instead of running here.")
    @click.option("--no-mail", is_flag=True, help="Queue mails in the outbox but do not send them now.")
    @with_appcontext
    def sweep_cmd(today, enqueue, no_mail):
        """Certificate sweep: warnings, blocking, unblocking, notices; prints the counts."""

        if enqueue:
            job = enqueue_job(sweep_job, today.isoformat() if today else None)
            click.echo(f"enqueued {job.id} ({job.get_status()})")
            return
        if today:
            clock.set_today(today)
        counts = run_sweep(today, deliver=not no_mail)
        click.echo(f"sweep {clock.today().isoformat()} (run {counts['run_id']}):")
        for k in ("warned", "blocked", "unblocked", "notifications", "mails_queued", "mails_sent",
                  "mails_failed"):
            click.echo(f"  {k}: {counts[k]:,}")

    @group.group("mail")
    def mail_group():
        """Mail outbox."""

    @mail_group.command("send")
    @with_appcontext
    def mail_send():
        """Send due mails of the outbox now (failed ones are retried with back-off)."""

        out = deliver_mail()
        click.echo(f"sent: {out['sent']}, failed: {out['failed']}")

    @group.command("notice")
    @click.option("--iin", required=True, help="IIN of the worker.")
    @with_appcontext
    def notice_cmd(iin):
        """Was the 2-month certificate notice given to this worker? (notices and mail delivery)"""

        worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one_or_none()
        if worker is None:
            raise click.ClickException("no worker with this IIN")
        rows = notice_given(worker)
        if not rows:
            click.echo("no 2-month notice recorded")
        for notice, mail in rows:
            where = (f"mail to {mail.recipient}: {mail.state} (attempts {mail.attempts}"
                     f"{', sent ' + mail.sent_at.isoformat(' ', 'minutes') if mail.sent_at else ''})"
                     if mail else "no e-mail on record (HR notified in the panel)")
            click.echo(f"{notice.created_at:%Y-%m-%d} certificate {notice.certificate_id}: {where}")
