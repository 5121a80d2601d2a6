"""``flask --app app profreg ...``: thin commands over services. Domains add their own subcommands
through ``profreg/<domain>/cli.py`` exposing ``register(group)``."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from . import clock
from .access import Role
from .auth.models import User
from .auth.services import create_user, provision_totp
from .certificates.services import block_expired
from .cli_options import parse_date
from .demo import showcase
from .demo.generator import DEMO_PASSWORD, create_demo_users, echo_progress, generate
from .domains import modules
from .extensions import db
from .i18n_cli import i18n_group
from .notifications.services import unread_count
from .orgs.models import Organization
from .reference.models import AdminUnit, Specialty
from .reference.services import load_districts, load_reference
from .uow import cli_command, unit_of_work
from .workers.models import Worker


@click.group("profreg")
def profreg_cli():
    """Professional Register commands."""


@profreg_cli.command("load-reference")
@click.option("--districts", type=click.Path(exists=True, dir_okay=False), help="CSV of lower-level KATO units.")
@with_appcontext
@cli_command
def load_reference_cmd(districts):
    """Load (or update) reference data from the seed files."""

    counts = load_reference()
    if districts:
        counts["districts"] = load_districts(Path(districts))
    for k, v in counts.items():
        click.echo(f"{k}: {v}")


@profreg_cli.command("demo")
@click.option("--workers", default=300, show_default=True, help="Number of synthetic workers.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same country).")
@click.option("--today", callback=parse_date, help="Stand on this date (YYYY-MM-DD).")
@with_appcontext
def demo_cmd(workers, seed, today):
    """Reference data + a deterministic synthetic country + one demo user per role."""

    if workers < 0:
        raise click.BadParameter("must be >= 0", param_hint="--workers")
    if today:
        clock.set_today(today)
    t0 = time.perf_counter()
    # Several units: reference data, the synthetic country, the demo users, the blocks of the day, the
    # training lists and the monthly report, then the certificate sweep (the daily job, one unit per step).
    with unit_of_work():
        load_reference()
    fresh = not db.session.execute(select(Worker.id).limit(1)).first()
    if not fresh:
        click.echo("The register already holds workers: synthetic data not added again.")
    else:
        click.echo(f"Generating {workers:,} workers (seed {seed})...")
        with unit_of_work():
            counts = generate(workers=workers, seed=seed, progress=echo_progress)
            org = showcase.demo_organization()
            if org is not None:  # the demo HR must have a warning to see
                showcase.ensure_expiring_certificate(org)
        if db.engine.dialect.name == "postgresql":
            # Planner statistics of the freshly loaded tables first: without them PostgreSQL takes them for
            # empty and plans the blocking step's per-post probes as nested full scans (minutes, not seconds).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    # The users before the blocks: the block notices then reach the demo organization's HR.
    with unit_of_work():
        users = create_demo_users()
    if fresh:
        with unit_of_work():
            blocked = block_expired()
        if db.engine.dialect.name == "postgresql":
            # After a bulk load: planner statistics, and the visibility map that lets the list counts
            # and scope probes be index-only scans (autovacuum may be off or not have run yet).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        for k, v in counts.items():
            click.echo(f"  {k}: {v:,}")
        click.echo(f"  blocked (no valid certificate): {blocked:,}")
    org = showcase.demo_organization()
    if org is not None:
        with unit_of_work():
            lists = showcase.training_lists(org)
        click.echo(f"Demo organization: {org.name_en} (BIN {org.bin})")
        for info in lists:
            click.echo(f"  training list {info.period}: {info.status}, {info.workers:,} workers")
    with unit_of_work():
        period, region, _report = showcase.monthly_report()
    click.echo(f"Monthly report {period} of {region.name_en}: submitted")
    if org is not None:
        # registry extracts built from the register with known differences, reconciled like any file
        # (docs/reconciliation.md): the demo HR's worklist has contracts, dismissals and certificates to settle
        with unit_of_work():
            for line in showcase.reconcile_demo_extracts(Path(current_app.instance_path) / "demo"):
                click.echo(line)
    # The daily sweep, run by the certificates domain's own command (``profreg sweep --no-mail``: run_sweep,
    # one unit of work per step; mails stay queued in the outbox). Not imported here: cli <- app <- jobs.
    click.get_current_context().invoke(profreg_cli.commands["sweep"], today=None, enqueue=False, no_mail=True)
    hr = db.session.execute(select(User).where(User.email == "hr@profreg.kz")).scalar_one()
    click.echo(f"  unread notifications of hr@profreg.kz: {unread_count(hr):,}")
    click.echo(f"Done in {time.perf_counter() - t0:.1f} s. Demo logins (password: {DEMO_PASSWORD}):")
    for email, role in users:
        click.echo(f"  {role:<12} {email}")
    if org is not None and lists:
        click.echo("Export the approved training list:")
        click.echo(f"  flask --app app profreg export training-list --org {org.bin} --period {lists[0].period} "
                   f"--format xlsx --out training-list.xlsx")


@profreg_cli.group("users")
def users_group():
    """Manage users."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--org", "org_bin", help="BIN of the user's organization (org_head, hr_chief, hr).")
@click.option("--region", "region_kato", help="KATO code of the user's region (region).")
@click.option("--district", "district_kato",
              help="KATO code of a district of that region: limits a region coordinator to it (rule 4.1).")
@click.option("--specialty", "specialties", multiple=True, help="Specialty code (association); repeatable.")
@click.option("--password", help="Initial password; asked for when omitted. The user must change it.")
@click.option("--totp-secret", help="Base32 TOTP secret (at least 128 bits): two-step sign-in in force at once, "
                                    "for automated clients that compute the codes themselves.")
@with_appcontext
@cli_command
def users_create(email, role, org_bin, region_kato, district_kato, specialties, password, totp_secret):
    """Create a user."""

    org = region = district = None
    if org_bin:
        org = db.session.execute(select(Organization).where(Organization.bin == org_bin)).scalar_one_or_none()
        if org is None:
            raise click.BadParameter(f"no organization with BIN {org_bin}", param_hint="--org")
    if region_kato:
        region = db.session.execute(select(AdminUnit).where(AdminUnit.code == region_kato)).scalar_one_or_none()
        if region is None:
            raise click.BadParameter(f"no region with KATO code {region_kato}", param_hint="--region")
    if district_kato:
        district = db.session.execute(select(AdminUnit).where(AdminUnit.code == district_kato,
                                                              AdminUnit.level == 2)).scalar_one_or_none()
        if district is None:
            raise click.BadParameter(f"no district with KATO code {district_kato}", param_hint="--district")
    specs = []
    for code in specialties:
        s = db.session.execute(select(Specialty).where(Specialty.code == code)).scalar_one_or_none()
        if s is None:
            raise click.BadParameter(f"no specialty {code}", param_hint="--specialty")
        specs.append(s)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user(email, role, password, organization=org, region=region, district=district,
                       specialties=specs, must_change=True)
    if totp_secret:
        provision_totp(user, totp_secret)
    click.echo(f"created {user.email} ({user.role}); the password must be changed at first sign-in"
               + ("; two-step sign-in is on" if totp_secret else ""))


@profreg_cli.group("export")
def export_group():
    """Exports (xlsx / csv / pdf)."""


for _cli in modules("cli"):  # each domain adds its subcommands
    _cli.register(profreg_cli)

profreg_cli.add_command(i18n_group)  # translation catalogs: extract / update / compile / check
