"""``flask --app app profreg import template|run``: the import from the command line (docs/import.md)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_login import login_user
from sqlalchemy import select

from .. import clock
from ..auth.models import User
from ..cli_options import lang_option
from ..errors import Refusal
from ..extensions import db
from ..orgs.models import Organization
from ..uow import discard, unit_of_work
from .columns import KINDS
from .models import FAILED
from .services import CREATE, REJECTED, UNCHANGED, UPDATE, execute, start
from .template import template_kinds, write_template


def register(group):
    @group.group("import")
    def import_group():
        """Bulk import of workers, education, certificates, CPD and staffing tables from xlsx or csv."""

    @import_group.command("template")
    @click.option("--kind", type=click.Choice([*KINDS, "all"]), default="all", show_default=True)
    @lang_option("Language of the headers and the allowed values.", default="ru")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
    @with_appcontext
    def template_cmd(kind, lang, out):
        """Write the import template (headers, an example row, the allowed values); ``all`` is the four
        kinds of a worker's record, ``staffing`` the staffing table's own template."""
        write_template(out, template_kinds(kind), lang)
        click.echo(f"template written to {out}")

    @import_group.command("run")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--org", "org_bin", help="BIN of the default organization (rows without org_bin).")
    @click.option("--as", "email", required=True, help="E-mail of the user whose rights and scope apply.")
    @click.option("--dry-run", is_flag=True, help="Validate and report only; write nothing.")
    @click.option("--atomic", is_flag=True, help="Write nothing if any row is rejected.")
    @click.option("--report", "report", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="The report (xlsx): the file's rows with status and reasons.")
    @lang_option("Language of the report's reasons.", default="ru")
    @with_appcontext
    def run_cmd(file, org_bin, email, dry_run, atomic, report, lang):
        """Validate (and unless --dry-run write) FILE as the user --as; exit 1 when a row is rejected."""
        ok = _run(file, org_bin, email, dry_run, atomic, report, lang)
        if not ok:
            raise SystemExit(1)


def _run(file, org_bin, email, dry_run, atomic, report, lang) -> bool:
    """The import from the command line, run as the background job runs it (``run_as_user``): the run's
    record is one unit, then every chunk of workers commits (``execute``'s units); an atomic import
    validates the whole file first. One transaction around a whole file would hold a SAVEPOINT per chunk,
    and past 64 of them PostgreSQL checks every row the import wrote against its subtransaction log:
    each chunk's look-ups got slower than the last (measured: 100,000 workers 149 s, docs/performance.md)."""
    try:
        return _run_units(file, org_bin, email, dry_run, atomic, report, lang)
    except Refusal as exc:
        raise click.ClickException("; ".join(str(m) for m in exc.errors.values())) from None


def _run_units(file, org_bin, email, dry_run, atomic, report, lang) -> bool:
    actor = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if actor is None or not actor.active:
        raise click.ClickException(f"no active user {email}")
    org = None
    if org_bin:
        org = db.session.execute(select(Organization).where(Organization.bin == org_bin)).scalar_one_or_none()
        if org is None:
            raise click.BadParameter(f"no organization with BIN {org_bin}", param_hint="--org")
    folder = Path(current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=Path(file).suffix, delete=False) as tmp:
        copy = Path(tmp.name)
    shutil.copyfile(file, copy)
    with current_app.test_request_context("/"), force_locale(lang):
        login_user(actor)  # the audit trail and the record guard see the importing user
        with unit_of_work():
            run = start(copy, file_name=Path(file).name, actor=actor, default_org=org, dry_run=dry_run,
                        atomic=atomic, lang=lang)
        try:  # no unit around the run: each chunk of workers commits, as in the background job
            result = execute(run, actor, report_path=report)
        except Exception as exc:
            discard()
            with unit_of_work():
                run.state, run.error, run.finished_at = FAILED, str(exc)[:500], clock.utcnow_naive()
            raise
        with unit_of_work():  # the run's outcome (the chunks committed their rows on the way)
            db.session.add(run)
    if result.book is None:
        click.echo(f"refused: {result.message}", err=True)
        return False
    book = result.book
    if book.format == "csv":
        click.echo(f"csv: encoding {book.encoding}, delimiter {book.delimiter!r}")
    for kind, counts in result.outcomes.per_sheet.items():
        click.echo(f"{kind}: " + ", ".join(f"{k} {counts[k]}" for k in (CREATE, UPDATE, UNCHANGED, REJECTED)))
    c = result.outcomes.counts
    click.echo(f"total: created {c[CREATE]}, updated {c[UPDATE]}, unchanged {c[UNCHANGED]}, rejected {c[REJECTED]}"
               + (" (dry run: nothing written)" if dry_run else ""))
    if result.message:
        click.echo(result.message)
    click.echo(f"report: {report}")
    return result.ok
