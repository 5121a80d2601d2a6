"""Visible text of a rendered page (text nodes and visible attributes, no script/style)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

VISIBLE_ATTRS = {"title", "placeholder", "alt", "aria-label", "label"}


class _Visible(HTMLParser):
    def __init__(self, skip_cells=False):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._cells = 0
        self.skip_cells = skip_cells

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "td":
            self._cells += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value and (name in VISIBLE_ATTRS or (name == "value" and attrs.get("type") in ("submit", "button"))):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if tag == "td" and self._cells:
            self._cells -= 1

    def handle_data(self, data):
        # JSON data blocks (filter definitions) and escaped HTML (Flask-Admin's hidden inline-form template)
        if self.skip_cells and self._cells:
            return  # table cells hold data (names, codes), not interface text
        if not self._skip and data.strip() and not data.lstrip().startswith(("{", "[", '"')) and "<" not in data:
            self.parts.append(data.strip())


def visible_text(html: str, skip_cells: bool = False) -> str:
    """Text a user sees (or hears from a screen reader); ``skip_cells`` leaves out table data cells."""
    p = _Visible(skip_cells)
    p.feed(html)
    p.close()
    return "\n".join(p.parts)


#: Latin words allowed on kk / ru pages: names of languages and formats, e-mail addresses, codes.
#: "Toggle navigation" is the aria-label of the navbar toggler hard-coded in Flask-Admin's base template.
LATIN_OK = {"Toggle", "navigation", "KK", "RU", "EN", "English", "CSV", "XLSX", "csv", "xlsx", "UTC", "PDF", "PNG", "JPEG", "PhD", "SHA-256", "ID", "DOI", "ISBN", "Scopus", "Web", "of", "Science", "ORCID", "KZ", "FTE",
            "API", "JSON", "NDJSON", "FHIR", "ETag", "If-Match", "Bearer", "Authorization", "Content-Type", "application",
            "II", "III", "IV"}  # Roman numerals of quarters: "II квартал 2027 г.", "2027 ж. IV тоқсан"


def english_words(text: str) -> list[str]:
    """Latin-script words left on a page that should be entirely Kazakh or Russian."""
    text = re.sub(r"\S+@\S+", " ", text)  # e-mail addresses
    words = re.findall(r"(?<![\w/.@\-])[A-Za-z][A-Za-z'\-]*[A-Za-z](?![\w/.@\-])", text)
    return [w for w in words if w not in LATIN_OK]
