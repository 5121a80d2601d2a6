"""Issue 15 item 1, forms that help: no ``__None`` on any form, required selects start empty on a
translated placeholder, the IIN fills birth date and sex, errors under the field they concern, and
Create/Save lead to the worker's page with a specific message."""
from __future__ import annotations

import html as htmllib
import re

import pytest

CHOOSE = {"kk": "— таңдаңыз —", "ru": "— выберите —", "en": "— choose —"}


def selects(page: str) -> dict:
    """{name: (required, [(value, label, selected), ...])} of every select, the inline templates' too."""
    out = {}
    for m in re.finditer(r"<select([^>]*)>(.*?)</select>", htmllib.unescape(page), re.S):
        attrs = m.group(1)
        name = re.search(r'name="([^"]+)"', attrs).group(1)
        opts = [(re.search(r'value="([^"]*)"', a).group(1), label.strip(), "selected" in a)
                for a, label in re.findall(r"<option([^>]*)>([^<]*)</option>", m.group(2))]
        out[name] = (bool(re.search(r"\brequired\b", attrs)), opts)
    return out


def visible_text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_create_form_shows_no_none_and_no_preselected_required_select(world, make_client, lang):
    hr = make_client(world.users["hr"])
    page = hr.get(f"/admin/workers/new/?lang={lang}").get_data(as_text=True)
    assert "__None" not in visible_text(page)
    found = selects(page)
    for name in ("sex", "citizenship", "hire_position", "hire_specialty", "id_doc_type", "institution", "level"):
        assert name in found, name
    for name, (_required, opts) in found.items():
        first_value, first_label, first_selected = opts[0]
        assert first_value == "__None" and first_label == CHOOSE[lang], (name, opts[:2])
        assert first_selected, name  # nothing else is preselected on an empty Create form
        assert not any(selected for _v, _l, selected in opts[1:]), name


def test_other_panel_forms_show_no_none(world, make_client):
    hr = make_client(world.users["hr"])
    for url in ("/admin/workers/hire/?lang=kk", f"/admin/workers/edit/?id={world.wA.id}&lang=kk"):
        page = hr.get(url).get_data(as_text=True)
        assert "__None" not in visible_text(page), url
