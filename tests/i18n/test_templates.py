"""No user-visible text in a template outside gettext.

Each template is lexed with Jinja: everything inside ``{{ }}`` / ``{% %}`` and every ``{% trans %}``
block counts as translated (or dynamic); what remains is fed to an HTML parser, and any text node or
visible attribute (title, placeholder, alt, aria-label, button value) that still holds letters fails,
unless it is on the short allow-list below."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

from profreg import ROOT

TEMPLATES = ROOT / "profreg" / "templates"
#: Text that is the same in every language: language names (shown in their own language), codes.
ALLOWED = {"Қазақша", "Русский", "English", "ISBN", "DOI", "Scopus", "Web of Science", "ORCID", "KZ",
           "PDF", "CSV", "XLSX", "csv", "xlsx", "UTC"}
VISIBLE_ATTRS = {"title", "placeholder", "alt", "aria-label", "label"}
#: Stands for any {{ ... }} / {% ... %} / translated block; the spaces keep a construct inside a tag
#: (``<td{% if x %} class="a"{% endif %}>``) parseable as an attribute.
DYNAMIC = " \x01 "
LETTER = re.compile(r"[^\W\d_]")


def _env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"])


def static_text(source: str) -> str:
    """The template with every Jinja construct and every trans block replaced by a placeholder."""
    out, depth, tag = [], 0, None
    for _lineno, kind, value in _env().lex(source):
        if kind == "data":
            out.append(DYNAMIC if depth else value)
        elif kind in ("variable_begin", "block_begin"):
            out.append(DYNAMIC)
            tag = [] if kind == "block_begin" else None
        elif kind == "name" and tag is not None:
            tag.append(value)
        elif kind == "block_end":
            if tag and tag[0] == "trans":
                depth += 1
            elif tag and tag[0] == "endtrans":
                depth -= 1
            tag = None
    return "".join(out)


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name in VISIBLE_ATTRS or (name == "value" and attrs.get("type") in ("submit", "button", "reset")):
                self._check(value or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text):
        for chunk in text.split(DYNAMIC.strip()):
            chunk = " ".join(chunk.split())
            if LETTER.search(chunk) and chunk.strip(" .,:;()—-|/") not in ALLOWED:
                self.found.append(chunk)


def untranslated_text(source: str) -> list[str]:
    finder = _TextFinder()
    finder.feed(static_text(source))
    finder.close()
    return finder.found


def _templates() -> list[Path]:
    """HTML pages and plain-text (e-mail) templates."""
    return sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")])


def test_the_checker_catches_raw_text_and_accepts_gettext():
    assert untranslated_text("<p>Workers</p>") == ["Workers"]
    assert untranslated_text('<input placeholder="Search">') == ["Search"]
    assert untranslated_text('<a title="Sign out" href="{{ url }}">{{ _("Sign out") }}</a>') == ["Sign out"]
    assert untranslated_text("<th>{{ _('Date') }}</th><td>{{ d|dateformat }}</td>") == []
    assert untranslated_text("{% trans n=3 %}{{ n }} worker{% pluralize %}{{ n }} workers{% endtrans %}") == []
    assert untranslated_text("<script>var label = 'English text';</script><style>.a{color:red}</style>") == []
    assert untranslated_text("{# a comment #}<b>{{ x }} — {{ y }}</b>&nbsp;") == []
    assert untranslated_text("<p>{{ a }}: {{ b }} h</p>") == ["h"]
    assert untranslated_text('<span class="badge">{% if a %}{{ _("Yes") }}{% endif %}</span>') == []
    assert untranslated_text('<td{% if wide %} class="text-right"{% endif %}>{{ v }}</td>') == []
    assert untranslated_text('<td{% if wide %} title="Total"{% endif %}>{{ v }}</td>') == ["Total"]


def test_there_are_templates_to_check():
    names = {p.relative_to(TEMPLATES).as_posix() for p in _templates()}
    assert {"profreg/layout.html", "auth/base.html", "auth/login.html", "admin/index.html"} <= names
    assert any(name.endswith(".txt") for name in names)  # e-mail bodies are checked too


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_template_has_no_text_outside_gettext(path):
    found = untranslated_text(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: wrap in {{{{ _('...') }}}}: {found}"


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_template_formats_dates_with_babel(path):
    """Dates go through Babel (|fmt_date, |fmt_datetime, or Flask-Babel's |dateformat), not strftime."""
    source = path.read_text(encoding="utf-8")
    assert ".strftime(" not in source and ".isoformat()" not in source, path.relative_to(ROOT)


def test_jinja_filters_format_for_the_locale(app):
    from datetime import date

    from flask import render_template_string
    from flask_babel import force_locale

    tpl = "{{ d|fmt_date }} | {{ n|fmt_number }} | {{ none|fmt_date }}{{ none|fmt_number }} | {{ 'x'|fmt_number }}"
    out = {}
    for lang in ("kk", "ru", "en"):
        with app.test_request_context("/"), force_locale(lang):
            out[lang] = render_template_string(tpl, d=date(2026, 3, 22), n=12345, none=None)
            out[lang] = out[lang].replace("\xa0", " ").replace("\u202f", " ")
    assert out == {"kk": "22.03.2026 | 12 345 |  | x", "ru": "22.03.2026 | 12 345 |  | x",
                   "en": "22.03.2026 | 12,345 |  | x"}
