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


# --- required selects are chosen, errors under their field, the worker's page after Create/Save -------

from datetime import date  # noqa: E402

from tests.factories import next_iin  # noqa: E402
from tests.panel.test_entry import _create_data, _field_errors  # noqa: E402

CHOOSE_ERROR = {"kk": "Тізімнен мәнді таңдаңыз.", "ru": "Выберите значение из списка.",
                "en": "Choose a value from the list."}


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_a_required_select_left_on_the_placeholder_is_a_field_error(world, make_client, lang):
    hr = make_client(world.users["hr"])
    data = _create_data(world, hr, iin=next_iin(date(1990, 5, 17), "F"), lang=lang, sex="__None",
                        hire_position="__None")
    resp = hr.post(f"/admin/workers/new/?lang={lang}", data=data)
    assert resp.status_code == 200
    errors = _field_errors(resp.get_data(as_text=True))
    assert errors.get("sex") == [CHOOSE_ERROR[lang]], errors
    assert "hire_position" in errors and "iin" not in errors, errors


def test_a_birth_date_or_sex_the_iin_does_not_encode_is_shown_under_that_field(world, make_client):
    hr = make_client(world.users["hr"])
    data = _create_data(world, hr, iin=next_iin(date(1990, 5, 17), "F"), sex="M", birth_date="1990-05-18")
    errors = _field_errors(hr.post("/admin/workers/new/", data=data).get_data(as_text=True))
    assert errors.get("birth_date") == ["IIN does not match the date of birth."], errors
    assert errors.get("sex") == ["IIN does not match the sex."], errors
    assert "iin" not in errors, errors
    future = _create_data(world, hr, iin=next_iin(date(1990, 5, 17), "F"), birth_date="2030-01-01")  # (2999: beyond +50 years, hygiene.py)
    errors = _field_errors(hr.post("/admin/workers/new/", data=future).get_data(as_text=True))
    assert "The date of birth cannot be in the future." in errors.get("birth_date", []), errors
    assert "iin" not in errors, errors


@pytest.mark.parametrize("lang, created, saved", [
    ("en", "Worker Жұмабекова Л. registered.", "Worker Жұмабекова Л. saved."),
    ("kk", "Қызметкер Жұмабекова Л. тіркелді.", "Қызметкер Жұмабекова Л. деректері сақталды."),
    ("ru", "Работник Жұмабекова Л. зарегистрирован.", "Данные работника Жұмабекова Л. сохранены."),
])
def test_create_and_save_lead_to_the_worker_page_with_a_message_naming_the_worker(world, make_client, lang,
                                                                                  created, saved):
    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    from profreg.extensions import db
    from profreg.workers.models import Worker
    from tests.panel.conftest import parse_form

    hr = make_client(world.users["hr"])
    iin = next_iin(date(1990, 5, 17), "F")
    resp = hr.post(f"/admin/workers/new/?lang={lang}", data=_create_data(world, hr, iin=iin, lang=lang))
    assert resp.status_code == 302, _field_errors(resp.get_data(as_text=True))
    worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one()
    assert f"/admin/workers/details/?id={worker.id}" in resp.headers["Location"]
    page = hr.get(resp.headers["Location"]).get_data(as_text=True)
    assert created in htmllib.unescape(page)
    assert "Record was successfully created." not in page

    edit_url = f"/admin/workers/edit/?id={worker.id}&lang={lang}"
    data = MultiDict(parse_form(hr.get(edit_url).get_data(as_text=True)).data)
    resp = hr.post(edit_url, data=data)
    assert resp.status_code == 302, _field_errors(resp.get_data(as_text=True))
    assert f"/admin/workers/details/?id={worker.id}" in resp.headers["Location"]
    assert saved in htmllib.unescape(hr.get(resp.headers["Location"]).get_data(as_text=True))


def test_the_iin_rule_the_form_script_mirrors(world, make_client):
    """The server-side decoder, and the rule the Create form's script receives as data."""
    from profreg.identity import iin_rule, parse_iin

    info = parse_iin("870412400711")
    assert (info.birth_date, info.sex) == (date(1987, 4, 12), "F")
    rule = iin_rule()
    assert rule["century"]["4"] == [1900, "F"] and len(rule["weights"]) == 2
    hr = make_client(world.users["hr"])
    page = hr.get("/admin/workers/new/").get_data(as_text=True)
    assert 'id="iin-rule"' in page and '"4": [1900, "F"]' in page and 'getElementById("iin")' in page
