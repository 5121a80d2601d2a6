"""``flask --app app profreg i18n ...``: extract, update, compile and check the translation catalogs.

Thin wrappers over pybabel with the project's options, so nobody has to remember the keywords:

- ``extract``  → ``translations/messages.pot`` from ``babel.cfg`` (python + jinja2 templates);
- ``update``   → extract, then merge the template into the kk / ru / en catalogs (new entries empty,
  no fuzzy guesses, obsolete entries dropped); English entries are filled with their msgid;
- ``compile``  → ``.mo`` files for the ``messages`` domain and for Flask-Admin's ``admin`` domain
  (``translations/admin/kk``), written atomically;
- ``check``    → exit status 1 when a catalog is stale, incomplete, fuzzy or has broken placeholders.

The same functions back ``tests/i18n``.
"""
from __future__ import annotations

import ast
import io
import os
import tempfile
from pathlib import Path

import click
import flask_admin
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python as babel_extract_python
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from .domains import ROOT

TRANSLATIONS = ROOT / "translations"
ADMIN_TRANSLATIONS = TRANSLATIONS / "admin"
POT = TRANSLATIONS / "messages.pot"
BABEL_CFG = ROOT / "babel.cfg"
LANGUAGES = ("kk", "ru", "en")
#: lazy_gettext / ngettext aliases used in the code base (pybabel knows _, gettext, ngettext by default).
KEYWORDS = ("_l", "lazy_gettext", "_n:1,2", "lazy_ngettext:1,2")
PROJECT = "profreg"
HEADER = ("# profreg: {lang} catalog of the Professional Register (messages domain).\n"
          "# Updated with `flask --app app profreg i18n update`;\n# every entry must be translated.")


def extract_python(fileobj, keywords, comment_tags, options):
    """babel.cfg's Python method: pybabel's own extractor, plus gettext calls written inside f-strings
    (``f"{_('Due date')} {q}"``), which it misses on Python 3.11 (an f-string is one token there)."""

    data = fileobj.read()
    yield from babel_extract_python(io.BytesIO(data), keywords, comment_tags, options)
    try:
        tree = ast.parse(data)
    except SyntaxError:
        return
    seen = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in keywords
                    and id(call) not in seen):
                seen.add(id(call))
                args = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                             for a in call.args)
                if args:
                    yield call.lineno, call.func.id, args if len(args) > 1 else args[0], []


def _pybabel(*args: str) -> None:
    rc = CommandLineInterface().run(["pybabel", "-q", *args])
    if rc:
        raise click.ClickException(f"pybabel {args[0]} failed ({rc})")


def extract_args(output: Path) -> list[str]:
    """The pybabel extract command line (documented in README "Translations")."""
    args = ["extract", "-F", str(BABEL_CFG)]
    for k in KEYWORDS:
        args += ["-k", k]
    return args + ["--add-location", "file", "--sort-by-file", "--project", PROJECT, "-o", str(output), "."]


def extract(output: Path = POT) -> Catalog:
    """Run a fresh extraction into ``output`` and return it as a catalog."""
    previous = output.read_bytes() if output.exists() else None
    cwd = os.getcwd()
    os.chdir(ROOT)  # babel.cfg patterns are relative to the project root
    try:
        _pybabel(*extract_args(output))
    finally:
        os.chdir(cwd)
    if previous is not None and _without_dates(previous) == _without_dates(output.read_bytes()):
        output.write_bytes(previous)
    return read_catalog(output)


def fresh_extraction() -> Catalog:
    """Extract into a temporary file (the committed template stays untouched)."""
    with tempfile.TemporaryDirectory() as tmp:
        return extract(Path(tmp) / "messages.pot")


def po_path(lang: str, domain: str = "messages", base: Path = TRANSLATIONS) -> Path:
    return base / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


_DATES = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def _without_dates(data: bytes) -> bytes:
    return b"\n".join(line for line in data.splitlines() if not line.startswith(_DATES))


def _write_if_changed(path: Path, data: bytes) -> None:
    """Keep the file when only its time stamps would change (no churn in git between extractions)."""
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(data):
        return
    path.write_bytes(data)


def write_catalog(path: Path, catalog: Catalog) -> None:
    buf = io.BytesIO()
    write_po(buf, catalog)  # pybabel's defaults, so `pybabel update` and this helper write the same file
    _write_if_changed(path, buf.getvalue())


def message_key(message) -> str:
    """The msgid (singular form for plural entries) plus context."""
    mid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return f"{message.context}\x04{mid}" if message.context else mid


def fill_english(catalog: Catalog) -> int:
    """English msgids are the source text: empty English entries get their msgid."""
    n = 0
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, (list, tuple)):
            if not all(m.string or ()):
                m.string = tuple(m.id[:2]) + tuple(m.id[1] for _ in range(catalog.num_plurals - 2))
                n += 1
        elif not m.string:
            m.string = m.id
            n += 1
        m.flags.discard("fuzzy")
    return n


def update(force: bool = False) -> Catalog:
    """Extract, then merge into every language catalog (init missing ones); English filled from msgids.
    Refuses (unless ``force``) when the extraction lost most msgids: a broken babel.cfg would otherwise
    drop the translations as obsolete."""
    template = extract(POT)
    found = sum(1 for m in template if m.id)
    if not force and po_path("ru").exists():
        known = sum(1 for m in read_catalog(po_path("ru"), locale="ru") if m.id)
        if found < 0.7 * known:
            raise click.ClickException(f"the extraction found {found} msgids, the catalogs hold {known}: "
                                       "check babel.cfg (or pass --force)")
    for lang in LANGUAGES:
        path = po_path(lang)
        if path.exists():
            catalog = read_catalog(path, locale=lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project=PROJECT, version="1", fuzzy=False,
                              header_comment=HEADER.format(lang=lang), language_team=f"profreg {lang}",
                              last_translator="profreg i18n", copyright_holder=PROJECT)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        if lang == "en":
            fill_english(catalog)
        write_catalog(path, catalog)
    return template


def _compile_one(po: Path) -> Path:
    mo = po.with_suffix(".mo")
    catalog = read_catalog(po)
    fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        os.replace(tmp, mo)  # atomic: a running app never reads a half-written file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo


def all_po_files() -> list[Path]:
    files = [po_path(lang) for lang in LANGUAGES]
    files += sorted(ADMIN_TRANSLATIONS.glob("*/LC_MESSAGES/admin.po"))
    return [p for p in files if p.exists()]


def compile_catalogs(only_stale: bool = False) -> list[Path]:
    """Build ``.mo`` next to every ``.po`` (messages in kk/ru/en, Flask-Admin's admin domain in kk)."""
    done = []
    for po in all_po_files():
        mo = po.with_suffix(".mo")
        if only_stale and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        done.append(_compile_one(po))
    return done


def catalog_problems(template: Catalog | None = None) -> list[str]:
    """Everything that makes the catalogs incomplete: stale against the code, differing msgids,
    untranslated or fuzzy entries, placeholder mismatches (Babel's checkers)."""
    template = template if template is not None else fresh_extraction()
    wanted = {message_key(m) for m in template if m.id}
    problems = []
    keys = {}
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            problems.append(f"{lang}: {path.relative_to(ROOT)} is missing")
            continue
        catalog = read_catalog(path, locale=lang)
        keys[lang] = {message_key(m) for m in catalog if m.id}
        if catalog.fuzzy:
            problems.append(f"{lang}: the catalog header is marked fuzzy")
        problems += [f"{lang}: not in the catalog (run `flask --app app profreg i18n update`): {k!r}"
                     for k in sorted(wanted - keys[lang])]
        problems += [f"{lang}: no longer in the code: {k!r}" for k in sorted(keys[lang] - wanted)]
        problems += _entry_problems(lang, catalog)
    if len(keys) == len(LANGUAGES) and len({frozenset(k) for k in keys.values()}) > 1:
        problems.append("the kk, ru and en catalogs differ in their msgids")
    problems += admin_catalog_problems()
    return problems


def _entry_problems(lang: str, catalog: Catalog) -> list[str]:
    out = []
    for m in catalog:
        if not m.id:
            continue
        key = message_key(m)
        if "fuzzy" in m.flags:
            out.append(f"{lang}: fuzzy: {key!r}")
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        if not all(s and s.strip() for s in strings) or (m.pluralizable and len(strings) != catalog.num_plurals):
            out.append(f"{lang}: untranslated: {key!r}")
            continue
        for err in m.check(catalog):
            out.append(f"{lang}: {key!r}: {err}")
    return out


def flask_admin_msgids() -> set[str]:
    """Flask-Admin's own msgids, taken from its shipped Russian catalog."""

    ru = Path(flask_admin.__file__).parent / "translations" / "ru" / "LC_MESSAGES" / "admin.po"
    return {message_key(m) for m in read_catalog(ru) if m.id}


#: Flask-Admin's page-size menu builds its msgids at run time (``ngettext('{} item'.format(n), ...)``),
#: so no shipped catalog has them: our kk and ru admin catalogs carry one entry per page size.
PAGE_SIZE_MSGIDS = tuple(f"{n} item" for n in (20, 50, 100))


def flask_admin_mo_gaps(lang: str) -> set[str]:
    """msgids translated in Flask-Admin's shipped ``<lang>/admin.po`` but missing from its compiled
    ``admin.mo`` (2.2.1 ships a ru .mo older than its .po): our catalog of that language supplies them."""

    base = Path(flask_admin.__file__).parent / "translations" / lang / "LC_MESSAGES" / "admin"
    if not base.with_suffix(".po").exists() or not base.with_suffix(".mo").exists():
        return set()
    with open(base.with_suffix(".mo"), "rb") as f:
        compiled = {message_key(m) for m in read_mo(f) if m.id}
    return {message_key(m) for m in read_catalog(base.with_suffix(".po")) if m.id and m.string} - compiled


def admin_catalog_problems() -> list[str]:
    """Flask-Admin ships no Kazakh: our kk admin.po must translate every one of its msgids; every
    admin catalog (kk, and the ru additions) must be complete and carry the page-size entries."""
    out = []
    path = po_path("kk", "admin", ADMIN_TRANSLATIONS)
    if not path.exists():
        return [f"admin/kk: {path.relative_to(ROOT)} is missing"]
    for path in sorted(ADMIN_TRANSLATIONS.glob("*/LC_MESSAGES/admin.po")):
        lang = path.parent.parent.name
        catalog = read_catalog(path, locale=lang)
        have = {message_key(m) for m in catalog if m.id}
        wanted = set(PAGE_SIZE_MSGIDS) | flask_admin_mo_gaps(lang) | (flask_admin_msgids() if lang == "kk" else set())
        out += [f"admin/{lang}: missing Flask-Admin msgid {k!r}" for k in sorted(wanted - have)]
        if catalog.fuzzy:
            out.append(f"admin/{lang}: the catalog header is marked fuzzy")
        out += _entry_problems(f"admin/{lang}", catalog)
    return out


@click.group("i18n")
def i18n_group():
    """Translation catalogs: extract, update, compile, check (see README "Translations")."""


@i18n_group.command("extract")
def extract_cmd():
    """Write translations/messages.pot from the code and templates."""
    catalog = extract(POT)
    click.echo(f"{POT.relative_to(ROOT)}: {sum(1 for m in catalog if m.id)} messages")


@i18n_group.command("update")
@click.option("--force", is_flag=True, help="Merge even when the extraction lost most msgids.")
def update_cmd(force):
    """Extract and merge new msgids into the kk, ru and en catalogs."""
    update(force)
    for lang in LANGUAGES:
        catalog = read_catalog(po_path(lang), locale=lang)
        todo = sum(1 for m in catalog if m.id and not all(m.string if m.pluralizable else [m.string]))
        click.echo(f"{lang}: {sum(1 for m in catalog if m.id)} messages, {todo} to translate")


@i18n_group.command("compile")
def compile_cmd():
    """Build the .mo files (messages in kk/ru/en, Flask-Admin's admin domain in kk)."""
    for mo in compile_catalogs():
        click.echo(f"compiled {mo.relative_to(ROOT)}")


@i18n_group.command("check")
def check_cmd():
    """Fail when a catalog is stale, incomplete, fuzzy or has broken placeholders."""
    problems = catalog_problems()
    for p in problems:
        click.echo(p, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("catalogs complete")


if __name__ == "__main__":  # also runs without the app: python -m profreg.i18n_cli update
    i18n_group()
