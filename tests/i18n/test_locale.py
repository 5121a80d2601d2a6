"""Choosing the language, remembering it, and showing reference data, dates, numbers and plurals
the way the chosen locale writes them."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from babel import Locale
from babel.support import Translations

from profreg.i18n_cli import ADMIN_TRANSLATIONS
from tests.conftest import login
from tests.i18n.pages import visible_text

SIGN_IN = {"kk": "Кіру", "ru": "Войти", "en": "Sign in"}


DASHBOARD = {"kk": "Көрсеткіштер тақтасы", "ru": "Панель показателей", "en": "Dashboard"}


def lang_of(resp) -> str:
    """The language of a sign-in page (its <html lang>) or of a panel page (its dashboard menu entry)."""
    html = resp.get_data(as_text=True)
    m = re.search(r'<html lang="(\w+)"', html)
    if m:
        return m.group(1)
    found = [lang for lang, label in DASHBOARD.items() if label in visible_text(html)]
    return found[0] if len(found) == 1 else ""


# --- selection: ?lang → saved preference → Accept-Language → default (ru) ------------------------------

def test_default_is_russian(client):
    resp = client.get("/login")
    assert lang_of(resp) == "ru" and SIGN_IN["ru"] in resp.get_data(as_text=True)


@pytest.mark.parametrize("header, lang", [("kk", "kk"), ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"), ("en-US,en;q=0.9", "en"),
                                          ("ru-RU", "ru"), ("de-DE,fr;q=0.5", "ru")])
def test_browser_language_when_nothing_else_is_known(client, header, lang):
    resp = client.get("/login", headers={"Accept-Language": header})
    assert lang_of(resp) == lang and SIGN_IN[lang] in resp.get_data(as_text=True)


def test_query_parameter_wins_over_the_browser_and_is_kept_in_the_session(client):
    assert lang_of(client.get("/login?lang=kk", headers={"Accept-Language": "en"})) == "kk"
    assert lang_of(client.get("/login", headers={"Accept-Language": "en"})) == "kk"  # remembered
    assert lang_of(client.get("/login?lang=xx", headers={"Accept-Language": "en"})) == "kk"  # unknown: ignored


def test_choice_is_saved_for_the_user_and_wins_over_the_browser(app, factory, db):
    org = factory.org()
    user = factory.user("hr_chief", org=org)
    first = app.test_client()
    login(first, user)
    assert lang_of(first.get("/admin/?lang=kk")) == "kk"
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "kk"

    # Another browser, English preferred: the saved choice still wins. The test's pushed app context
    # shares ``g`` between requests (Flask-WTF caches the CSRF token there): start the new browser clean.
    from flask import g

    for key in list(g):
        g.pop(key)
    other = app.test_client()
    login(other, user)
    resp = other.get("/admin/", headers={"Accept-Language": "en"})
    assert lang_of(resp) == "kk"
    assert lang_of(other.get("/admin/?lang=en")) == "en"  # ... and ?lang= wins over it
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "en"


def test_switcher_on_the_sign_in_page_and_in_the_panel(client, factory):
    """Every page links to itself in each language, keeping its query (filters, page, next)."""
    html = client.get("/login?next=%2Fadmin%2Fworkers%2F&lang=ru").get_data(as_text=True)
    for code in ("kk", "ru", "en"):
        assert f'href="/login?next=%2Fadmin%2Fworkers%2F&amp;lang={code}"' in html
    assert "Қазақша" in html and "Русский" in html and "English" in html
    login(client, factory.user("hr_chief", org=factory.org()))
    for url in ("/admin/", "/admin/workers/", "/admin/workers/new/", "/admin/workers/?page=1&sort=1"):
        html = client.get(url).get_data(as_text=True)
        path, _, query = url.partition("?")
        keep = (query.replace("&", "&amp;") + "&amp;") if query else ""
        for code in ("kk", "ru", "en"):
            assert f'href="{path}?{keep}lang={code}"' in html, (url, code)


# --- reference data in the current locale: lists, dropdowns, filters, exports ---------------------------

@pytest.fixture
def hr(client, factory):
    org = factory.org()
    worker = factory.worker(None, birth=date(1987, 4, 12))
    factory.employment(worker, org, position="NURSE", hire=date(2020, 1, 10), fte="0.75")
    login(client, factory.user("hr_chief", org=org))
    return client


NURSE = {"kk": "Мейірбике", "ru": "Медицинская сестра", "en": "Nurse"}
KAZAKHSTAN = {"kk": "Қазақстан", "ru": "Казахстан", "en": "Kazakhstan"}


@pytest.mark.parametrize("lang", ("kk", "ru", "en"))
def test_reference_names_follow_the_locale(hr, lang):
    listing = visible_text(hr.get(f"/admin/employment/?lang={lang}").get_data(as_text=True))
    assert NURSE[lang] in listing
    assert not [n for other, n in NURSE.items() if other != lang and n in listing]

    form = hr.get(f"/admin/workers/new/?lang={lang}").get_data(as_text=True)  # citizenship dropdown
    assert re.search(rf"<option[^>]*>\s*{KAZAKHSTAN[lang]}\s*</option>", form)
    assert not re.search(rf"<option[^>]*>\s*{KAZAKHSTAN['ru' if lang != 'ru' else 'kk']}\s*</option>", form)

    export = hr.get(f"/admin/employment/export/csv/?lang={lang}")
    assert export.status_code == 200
    assert NURSE[lang] in export.get_data(as_text=True)


def test_filter_options_follow_the_locale(hr):
    """Filter choices (positions, specialties, ...) are shown in the language of the request."""
    kk = hr.get("/admin/workers/?lang=kk").get_data(as_text=True)
    ru = hr.get("/admin/workers/?lang=ru").get_data(as_text=True)
    esc = lambda s: s.encode("unicode_escape").decode()  # noqa: E731  (filter data is JSON in the page)
    assert NURSE["kk"] in kk or esc(NURSE["kk"]) in kk
    assert NURSE["ru"] in ru or esc(NURSE["ru"]) in ru
    assert esc(NURSE["ru"]) not in kk and NURSE["ru"] not in kk


# --- dates and numbers (Babel) --------------------------------------------------------------------------

@pytest.mark.parametrize("lang, birth, fte", [("kk", "12.04.1987", "0,75"), ("ru", "12.04.1987", "0,75"),
                                               ("en", "12.04.1987", "0.75")])  # docs/formats.md
def test_lists_format_dates_and_numbers_for_the_locale(hr, lang, birth, fte):
    workers = spaces(visible_text(hr.get(f"/admin/workers/?lang={lang}").get_data(as_text=True)))
    assert birth in workers and "1987-04-12" not in workers
    employment = visible_text(hr.get(f"/admin/employment/?lang={lang}").get_data(as_text=True))
    assert fte in employment.split("\n")


def spaces(text: str) -> str:
    """CLDR uses no-break and narrow no-break spaces (1 234,5; 2026 ж.); compare with plain ones."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def test_formatters(app):
    from flask_babel import force_locale

    from profreg.i18n import fmt_date, fmt_datetime, fmt_decimal

    # one date format in every language (docs/formats.md); numbers by the locale
    expected = {"kk": ("22.03.2026", "1 234 567,5", "22.03.2026 19:05"),
                "ru": ("22.03.2026", "1 234 567,5", "22.03.2026 19:05"),
                "en": ("22.03.2026", "1,234,567.5", "22.03.2026 19:05")}
    for lang, (d, n, dt) in expected.items():
        with app.test_request_context("/"), force_locale(lang):
            assert spaces(fmt_date(date(2026, 3, 22))) == spaces(d)
            assert spaces(fmt_decimal(Decimal("1234567.5"))) == n
            # stored timestamps are naive UTC; shown in Asia/Almaty (UTC+5)
            assert spaces(fmt_datetime(datetime(2026, 3, 22, 14, 5))) == spaces(dt)
            assert fmt_date(None) == "" and fmt_decimal(None) == ""


# --- plural forms come from Babel (CLDR) -----------------------------------------------------------------

def test_kazakh_and_russian_plurals_follow_babel():
    """The compiled catalogs choose plural forms exactly as CLDR (via Babel) says: Kazakh has one/other,
    Russian one/few/many."""
    from profreg.i18n_cli import compile_catalogs

    compile_catalogs(only_stale=True)
    import flask_admin

    builtin = f"{flask_admin.__path__[0]}/translations"
    singular, plural = "Record was successfully deleted.", "%(count)s records were successfully deleted."
    kk = Translations.load(str(ADMIN_TRANSLATIONS), ["kk"], "admin")
    ru = Translations.load(builtin, ["ru"], "admin")
    kk_rule, ru_rule = Locale.parse("kk").plural_form, Locale.parse("ru").plural_form
    kk_forms = {"one": "Жазба жойылды.", "other": "%(count)s жазба жойылды."}
    ru_forms = {"one": 0, "few": 1, "many": 2}
    ru_strings = [ru.ngettext(singular, plural, n) for n in (1, 2, 5)]
    for n in range(0, 130):
        assert kk.ngettext(singular, plural, n) == kk_forms[kk_rule(n)], n
        assert ru.ngettext(singular, plural, n) == ru_strings[ru_forms[ru_rule(n)]], n
    assert [kk_rule(n) for n in (1, 2, 21, 100)] == ["one", "other", "other", "other"]
    assert [ru_rule(n) for n in (1, 2, 5, 21, 22, 25, 111)] == ["one", "few", "many", "one", "few", "many", "many"]


def test_kazakh_plural_through_flask_babel(app):
    """ngettext in a kk request uses the catalog's plural rule (the one Babel writes for kk)."""
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale("kk"):
        assert ngettext("%(num)s worker", "%(num)s workers", 1) == "1 worker"
        assert ngettext("%(num)s worker", "%(num)s workers", 3) == "3 workers"
        from flask_babel import get_translations

        plural = get_translations().plural
        assert [plural(n) for n in (0, 1, 2, 21)] == [1, 0, 1, 1]


@pytest.mark.parametrize("lang, name, others", [("kk", "Аурухана", ("Больница", "Hospital")),
                                                ("ru", "Больница", ("Аурухана", "Hospital")),
                                                ("en", "Hospital", ("Аурухана", "Больница"))])
def test_organization_names_follow_the_locale(client, factory, lang, name, others):
    factory.org()
    login(client, factory.user("ministry"))
    text = visible_text(client.get(f"/admin/organizations/?lang={lang}").get_data(as_text=True))
    assert name in text and not any(o in text for o in others)


# --- the sign-in page's language is kept after sign-in --------------------------------------------

def _sign_in_from(client, url, user):
    from tests.conftest import PASSWORD

    page = client.get(url, headers={"Accept-Language": "en"})
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    resp = client.post(url, data={"email": user.email, "password": PASSWORD, "csrf_token": token},
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 302, resp.data[:300]


def _fresh_g():
    from flask import g

    for key in list(g):
        g.pop(key)


def test_language_chosen_on_the_sign_in_page_is_kept_and_saved_when_none_is(app, factory, db):
    user = factory.user("hr_chief", org=factory.org())
    assert user.locale is None
    _fresh_g()
    c = app.test_client()
    _sign_in_from(c, "/login?lang=kk", user)
    assert lang_of(c.get("/admin/", headers={"Accept-Language": "en"})) == "kk"
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "kk"


def test_sign_in_page_choice_wins_over_a_saved_preference_for_that_session_only(app, factory, db):
    user = factory.user("hr_chief", org=factory.org())
    user.locale = "ru"
    db.session.commit()
    _fresh_g()
    c = app.test_client()
    _sign_in_from(c, "/login?lang=kk", user)
    assert lang_of(c.get("/admin/", headers={"Accept-Language": "en"})) == "kk"
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "ru"  # not overwritten
    c.get("/logout")
    _fresh_g()
    other = app.test_client()
    _sign_in_from(other, "/login", user)  # no choice on the page: the saved preference
    assert lang_of(other.get("/admin/", headers={"Accept-Language": "en"})) == "ru"
