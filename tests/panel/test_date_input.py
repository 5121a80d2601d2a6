"""Issue 15 item 1, the date input: every date of every panel form is typed dd.mm.yyyy (also d.m.yyyy
and ISO), shown back as dd.mm.yyyy with a hint of the format, refused with a translated message under
the field otherwise, and gets the Monday-first calendar in the page's language from a static script."""
from __future__ import annotations

import re
from datetime import date

import pytest

from profreg.admin.dateinput import calendar_locale
from profreg.dates import parse_date, show_date
from profreg.workers.models import Worker
from tests.factories import next_iin
from tests.panel.conftest import parse_form
from tests.panel.test_entry import _create_data, _field_errors

PLACEHOLDER = {"kk": "кк.аа.жжжж", "ru": "дд.мм.гггг", "en": "dd.mm.yyyy"}
BAD = {"kk": "Күнді кк.аа.жжжж түрінде енгізіңіз, мысалы 31.12.2026.",
       "ru": "Введите дату в формате дд.мм.гггг, например 31.12.2026.",
       "en": "Enter the date as dd.mm.yyyy, for example 31.12.2026."}


@pytest.mark.parametrize("text, expected", [
    ("12.04.1987", date(1987, 4, 12)), ("1.2.2026", date(2026, 2, 1)), (" 01/02/2026 ", date(2026, 2, 1)),
    ("2026-03-22", date(2026, 3, 22)), ("", None), (None, None)])
def test_typed_dates_are_read_in_every_accepted_form(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31.02.2026", "12.04.87", "2026-13-01", "12 апреля 1987", "1987.04.12", "0.1.2026"])
def test_anything_else_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_a_date_is_shown_back_as_typed():
    assert show_date(date(2026, 3, 2)) == "02.03.2026" and show_date(None) == ""


def _date_inputs(page: str) -> list[str]:
    """Every <input> of a date field of the page (inline record forms' templates included)."""
    import html as htmllib

    page = htmllib.unescape(page)
    return [m.group(0) for m in re.finditer(r"<input[^>]*>", page) if 'data-role="datepicker"' in m.group(0)]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_date_input_of_the_worker_form_asks_for_dd_mm_yyyy(world, make_client, lang):
    hr = make_client(world.users["hr"])
    page = hr.get(f"/admin/workers/new/?lang={lang}").get_data(as_text=True)
    inputs = _date_inputs(page)
    # the worker's own dates, the first post's, and the inline record forms' (education, certificates...)
    names = {re.search(r'name="([^"]+)"', i).group(1).split("-")[-1] for i in inputs}
    assert {"birth_date", "hire_date", "id_doc_issued"} <= names, names
    assert len(inputs) >= 6, names
    for tag in inputs:
        assert 'data-date-format="DD.MM.YYYY"' in tag and f'placeholder="{PLACEHOLDER[lang]}"' in tag, tag
        assert 'type="text"' in tag, tag
    assert 'type="date"' not in page
    # the calendar: its names from the page (a JSON data block), its script from static files
    assert 'id="profreg-calendar"' in page and "/static/profreg/dates.js" in page
    assert "/static/vendor/flatpickr/flatpickr.min.js" in page


def test_the_record_forms_of_other_lists_ask_for_dd_mm_yyyy_too(world, make_client):
    hr = make_client(world.users["hr"])
    for url in ("/admin/certificates/new/?lang=ru", "/admin/education/new/?lang=ru", "/admin/cpd/new/?lang=ru",
                "/admin/employment/new/?lang=ru", "/admin/documents/new/?lang=ru", "/admin/qualifications/new/?lang=ru",
                "/admin/workers/hire/?lang=ru"):
        resp = hr.get(url)
        assert resp.status_code == 200, url
        page = resp.get_data(as_text=True)
        assert 'type="date"' not in page, url
        assert _date_inputs(page), url
        for tag in _date_inputs(page):
            assert 'data-date-format="DD.MM.YYYY"' in tag and 'placeholder="дд.мм.гггг"' in tag, (url, tag)


@pytest.mark.parametrize("typed", ["17.05.1990", "17.5.1990", "1990-05-17"])
def test_a_worker_is_registered_with_a_date_typed_dd_mm_yyyy(world, make_client, db, typed):
    hr = make_client(world.users["hr"])
    iin = next_iin(date(1990, 5, 17), "F")
    data = _create_data(world, hr, iin=iin, lang="ru", birth_date=typed, hire_date="23.11.2026")
    resp = hr.post("/admin/workers/new/?lang=ru", data=data)
    assert resp.status_code == 302, _field_errors(resp.get_data(as_text=True))
    worker = db.session.query(Worker).filter_by(iin=iin).one()
    assert worker.birth_date == date(1990, 5, 17)
    assert worker.employments[0].hire_date == date(2026, 11, 23)
    # and the edit form shows it back as dd.mm.yyyy
    page = hr.get(f"/admin/workers/edit/?id={worker.id}&lang=kk").get_data(as_text=True)
    assert dict(parse_form(page).data)["birth_date"] == "17.05.1990"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_date_that_is_not_one_is_refused_under_its_field_in_the_readers_language(world, make_client, db, lang):
    hr = make_client(world.users["hr"])
    iin = next_iin(date(1990, 5, 17), "F")
    data = _create_data(world, hr, iin=iin, lang=lang, birth_date="31.02.1990")
    resp = hr.post(f"/admin/workers/new/?lang={lang}", data=data)
    assert resp.status_code == 200
    errors = _field_errors(resp.get_data(as_text=True))
    assert errors.get("birth_date") == [BAD[lang]], errors
    assert db.session.query(Worker).filter_by(iin=iin).count() == 0
    # the typed text stays in the input, to be corrected
    assert 'value="31.02.1990"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("lang, january, monday", [("kk", "Қаңтар", "Дс"), ("ru", "Январь", "Пн"),
                                                   ("en", "January", "Mon")])
def test_the_calendar_speaks_the_pages_language_and_starts_on_monday(app, lang, january, monday):
    with app.test_request_context():
        cal = calendar_locale(lang)
    assert cal["firstDayOfWeek"] == 1
    assert cal["months"]["longhand"][0] == january
    assert cal["weekdays"]["shorthand"][1] == monday  # flatpickr counts weekdays from Sunday
    assert len(cal["weekdays"]["longhand"]) == 7 and len(cal["months"]["shorthand"]) == 12
    if lang == "kk":  # Kazakh letters, not the Latin "i" of flatpickr's own Kazakh locale
        assert "Сәуір" in cal["months"]["longhand"] and not any("i" in m for m in cal["months"]["longhand"])


def test_the_date_script_is_a_static_file_with_no_inline_script_of_its_own(app):
    from pathlib import Path

    static = Path(app.static_folder)
    assert (static / "profreg" / "dates.js").is_file()
    assert (static / "vendor" / "flatpickr" / "flatpickr.min.js").is_file()
    layout = (Path(app.root_path) / "templates" / "profreg" / "layout.html").read_text(encoding="utf-8")
    for script in re.findall(r"<script([^>]*)>(.*?)</script>", layout, re.S):
        attrs, body = script
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs


def test_the_worker_form_posts_one_csrf_token_and_one_lock_version_with_inline_records(world, make_client, db):
    # item 7's last sentence: an inline record (here an education document) used to carry the page's
    # csrf_token again, so the form posted it once per record besides its own
    hr = make_client(world.users["hr"])
    iin = next_iin(date(1990, 5, 17), "F")
    assert hr.post("/admin/workers/new/", data=_create_data(world, hr, iin=iin)).status_code == 302
    worker = db.session.query(Worker).filter_by(iin=iin).one()
    page = hr.get(f"/admin/workers/edit/?id={worker.id}").get_data(as_text=True)
    names = [k for k, _ in parse_form(page).data]
    assert any(n.startswith("education_documents-0-") for n in names), names
    assert names.count("csrf_token") == 1 and names.count("lock_version") == 1, names
    assert "education_documents-0-id" in names  # the record's own hidden id is still there
