"""Pages rendered in kk, ru and en show that language, and no English is left on kk and ru pages:
the workers list, a worker form with a validation error, the dashboard, the sign-in page."""
from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import csrf_token, login
from tests.i18n.pages import english_words, visible_text

#: Strings each page must show, per language (menu, column labels, Flask-Admin chrome, messages).
KNOWN = {
    "workers": {
        "kk": ["Қызметкерлер", "Тегі", "ЖСН", "Туған күні", "Тізім", "Құру", "Іздеу", "Шығу", "Кәсіптік тіркелім"],
        "ru": ["Работники", "Фамилия", "ИИН", "Дата рождения", "Список", "Создать", "Поиск", "Выйти",
               "Профессиональный регистр"],
        "en": ["Workers", "Surname", "IIN", "Date of birth", "List", "Create", "Search", "Sign out",
               "Professional Register"],
    },
    "form": {
        # the IIN check digit error, a WTForms "required" error (surname), a required select left on its
        # placeholder (position), form labels, Flask-Admin's Save button
        "kk": ["ЖСН: бақылау цифры қате.", "Бұл өріс міндетті", "Тізімнен мәнді таңдаңыз.", "Тегі", "Әкесінің аты",
               "Сақтау"],
        "ru": ["ИИН: неверная контрольная цифра.", "Обязательное поле", "Выберите значение из списка.", "Фамилия",
               "Отчество", "Сохранить"],
        "en": ["IIN has a wrong check digit.", "This field is required.", "Choose a value from the list.",
               "Surname", "Patronymic", "Save"],
    },
    "dashboard": {
        "kk": ["Көрсеткіштер тақтасы", "Белсенді қызметкерлер", "Бұғатталған қызметкерлер",
               "Персоналды басқару қызметінің басшысы"],
        "ru": ["Панель показателей", "Активные работники", "Заблокированные работники",
               "Руководитель службы управления персоналом"],
        "en": ["Dashboard", "Active workers", "Blocked workers", "Chief of personnel service"],
    },
    "login": {
        "kk": ["Денсаулық сақтау қызметкерлерінің кәсіптік тіркелімі", "Электрондық пошта", "Құпиясөз", "Кіру"],
        "ru": ["Профессиональный регистр работников здравоохранения", "Электронная почта", "Пароль", "Войти"],
        "en": ["Professional Register of healthcare workers", "E-mail", "Password", "Sign in"],
    },
}
#: English labels that must not survive on a kk or ru page (the generic check below catches the rest).
ENGLISH = ["Workers", "Surname", "Dashboard", "Sign out", "Date of birth", "Save", "Create", "List",
           "Search", "Professional Register", "This field is required", "Choose a value from", "wrong check digit", "Active workers"]
LANGS = ("kk", "ru", "en")


@pytest.fixture
def hr_client(client, factory):
    org = factory.org()
    factory.worker(org, surname="Қасымова", birth=date(1987, 4, 12), certificate_until=date(2030, 1, 1))
    hr = factory.user("hr_chief", org=org)
    login(client, hr)
    return client


def page(client, url, lang, **kw):
    sep = "&" if "?" in url else "?"
    resp = client.get(f"{url}{sep}lang={lang}", **kw)
    assert resp.status_code == 200, resp.status_code
    return visible_text(resp.get_data(as_text=True))


def worker_form_with_error(client, lang, ref):
    from profreg.models import Country

    token = csrf_token(client, "/admin/workers/new/")
    resp = client.post(f"/admin/workers/new/?lang={lang}", data={
        "csrf_token": token, "iin": "850315300018", "surname": "", "name": "Иван", "sex": "M",
        "birth_date": "1985-03-15", "birth_place": "Алматы", "citizenship": str(ref(Country, "KZ").id)})
    assert resp.status_code == 200
    return visible_text(resp.get_data(as_text=True))


def assert_language(text, where, lang):
    missing = [s for s in KNOWN[where][lang] if s not in text]
    assert not missing, f"{where} in {lang}: missing {missing}"
    if lang != "en":
        leftovers = [s for s in ENGLISH if s in text]
        assert not leftovers, f"{where} in {lang}: English left: {leftovers}"
        words = english_words(text)
        assert not words, f"{where} in {lang}: untranslated English words: {sorted(set(words))}"


@pytest.mark.parametrize("lang", LANGS)
def test_workers_list(hr_client, lang):
    text = page(hr_client, "/admin/workers/", lang)
    assert "Қасымова" in text
    assert_language(text, "workers", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_worker_form_with_a_validation_error(hr_client, lang, ref):
    text = worker_form_with_error(hr_client, lang, ref)
    assert_language(text, "form", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard(hr_client, lang):
    assert_language(page(hr_client, "/admin/", lang), "dashboard", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_login_page(client, lang):
    assert_language(page(client, "/login", lang), "login", lang)


@pytest.mark.parametrize("lang", ("kk", "ru"))
def test_every_list_and_create_page_the_user_reaches_is_free_of_english(client, factory, lang):
    """Walk the menu of an hr_chief and of a ministry user: no English in the interface of any list or
    create page (table cells are data: reference names and codes as stored)."""
    from flask import current_app

    org = factory.org()
    factory.worker(org, certificate_until=date(2030, 1, 1))
    failures = {}
    for user in (factory.user("hr_chief", org=org), factory.user("ministry")):
        login(client, user)
        admin = current_app.extensions["profreg_admin"]
        for view in admin._views:
            url = getattr(view, "url", None)
            if not url or not view.is_visible():
                continue
            for suffix in ("/", "/new/") if hasattr(view, "model") else ("/",):
                try:
                    resp = client.get(f"{url.rstrip('/')}{suffix}?lang={lang}")
                except Exception:  # a view failing for another reason is not this test's business
                    from profreg.extensions import db

                    db.session.rollback()
                    continue
                if resp.status_code != 200:
                    continue
                words = english_words(visible_text(resp.get_data(as_text=True), skip_cells=True))
                if words:
                    failures[f"{user.role} {url}{suffix}"] = sorted(set(words))
        client.get("/logout")
    assert not failures, "\n".join(f"{page}: {words}" for page, words in failures.items())


@pytest.mark.parametrize("lang", ("kk", "ru"))
def test_mail_bodies_are_in_the_recipients_language(app, lang):
    """E-mail texts (plain-text templates) carry no English in kk and ru."""
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale

    from profreg import ROOT

    ctx = {"worker": SimpleNamespace(full_name="Қасымова Айгүл"), "user": SimpleNamespace(email="hr@test.kz"),
           "certificate": SimpleNamespace(number="KZ-1"), "specialty": "—", "valid_until": "—", "day": "—",
           "lines": ["—"]}
    mails = sorted((ROOT / "profreg" / "templates" / "notifications" / "mail").glob("*.txt"))
    assert mails
    for path in mails:
        with app.test_request_context("/"), force_locale(lang):
            body = render_template(f"notifications/mail/{path.name}", **ctx)
        words = english_words(body.replace("KZ-1", ""))
        assert not words, (path.name, words)
        assert {"kk": "Кәсіптік тіркелім", "ru": "Профессиональн"}[lang].lower() in body.lower(), path.name


@pytest.mark.parametrize("lang, label, confirm, end", [
    ("kk", "Жою", "Таңдалған жазбаларды шынымен жойғыңыз келе ме?", "Еңбек қатынасын тоқтату"),
    ("ru", "Удалить", "Вы уверены, что хотите удалить выбранные записи?", "Прекратить трудовые отношения"),
    ("en", "Delete", "Are you sure you want to delete selected records?", "End employment")])
def test_bulk_actions_speak_the_language(hr_client, lang, label, confirm, end):
    """The mass-delete action (staffing lines: the workers list has none, docs/integrity.md) is worded by
    our catalogs (Flask-Admin's shipped ru one is garbled); so is the workers list's "end employment"."""
    import json
    import re

    html = hr_client.get(f"/admin/staffing/?lang={lang}").get_data(as_text=True)
    data = re.search(r'id="actions-confirmation-data"[^>]*>(.*?)</div>', html, re.S)
    assert data and json.loads(data.group(1))["delete"] == confirm
    assert label in visible_text(html)
    workers = hr_client.get(f"/admin/workers/?lang={lang}").get_data(as_text=True)
    assert end in visible_text(workers) and label not in visible_text(workers)
