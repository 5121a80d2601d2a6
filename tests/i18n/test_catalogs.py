"""The catalogs are complete: current with the code, fully translated, no fuzzy entries, the same msgids
in kk / ru / en, placeholders intact, Flask-Admin's own strings in Kazakh, official terminology.

When one of these fails after a code change: ``flask --app app profreg i18n update`` (or
``python -m profreg.i18n_cli update``), translate the new entries in translations/kk and translations/ru,
then ``... i18n compile``. See README "Translations"."""
from __future__ import annotations

import re

import pytest
from babel import Locale

from profreg.i18n_cli import (
    LANGUAGES,
    admin_catalog_problems,
    catalog_problems,
    fresh_extraction,
    message_key,
    po_path,
    read_catalog,
)

KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


@pytest.fixture(scope="module")
def extracted():
    return fresh_extraction()


@pytest.fixture(scope="module")
def catalogs():
    return {lang: read_catalog(po_path(lang), locale=lang) for lang in LANGUAGES}


def keys(catalog):
    return {message_key(m) for m in catalog if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_extracted_msgid_is_in_the_catalog(extracted, catalogs, lang):
    missing = sorted(keys(extracted) - keys(catalogs[lang]))
    assert not missing, f"{lang}: stale catalog, run `profreg i18n update`; missing: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_holds_no_msgid_the_code_dropped(extracted, catalogs, lang):
    extra = sorted(keys(catalogs[lang]) - keys(extracted))
    assert not extra, f"{lang}: msgids no longer in the code (run `profreg i18n update`): {extra}"


def test_kk_ru_en_have_the_same_msgids(catalogs):
    kk, ru, en = (keys(catalogs[lang]) for lang in LANGUAGES)
    assert kk == ru == en, {"only kk": kk - ru, "only ru": ru - kk, "not en": (kk | ru) - en}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_untranslated_or_fuzzy_entry(catalogs, lang):
    catalog = catalogs[lang]
    assert not catalog.fuzzy, f"{lang}: header marked fuzzy (pybabel compile would skip the catalog)"
    bad = []
    for m in catalog:
        if not m.id:
            continue
        strings = list(m.string) if m.pluralizable else [m.string]
        if "fuzzy" in m.flags or not all(s and s.strip() for s in strings):
            bad.append(message_key(m))
        elif m.pluralizable and len(strings) != catalog.num_plurals:
            bad.append(message_key(m))
    assert not bad, f"{lang}: untranslated or fuzzy: {bad}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_survive_translation(catalogs, lang):
    """Babel's checkers: every python-format placeholder of the msgid is in the msgstr and vice versa."""
    catalog = catalogs[lang]
    errors = [(message_key(m), str(e)) for m in catalog if m.id for e in m.check(catalog)]
    assert not errors
    for m in catalog:
        if m.id and not m.pluralizable:
            assert set(re.findall(r"%\(\w+\)s", m.id)) == set(re.findall(r"%\(\w+\)s", m.string)), m.id


def test_plural_forms_follow_babel(catalogs):
    """Catalog headers carry CLDR's plural rules: Kazakh has 2 forms, Russian 3, English 2."""
    assert catalogs["kk"].num_plurals == 2 and catalogs["kk"].plural_expr == "(n != 1)"
    assert catalogs["ru"].num_plurals == 3
    assert catalogs["en"].num_plurals == 2
    kk = Locale.parse("kk").plural_form
    assert [kk(n) for n in (0, 1, 2, 5, 21)] == ["other", "one", "other", "other", "other"]


def test_the_helper_reports_a_clean_state(extracted):
    assert catalog_problems(extracted) == []


def test_flask_admin_strings_exist_in_kazakh():
    """Flask-Admin ships no kk catalog; ours translates every msgid of its shipped ru catalog."""
    assert admin_catalog_problems() == []
    from profreg.i18n_cli import ADMIN_TRANSLATIONS

    kk = {message_key(m): m.string for m in read_catalog(po_path("kk", "admin", ADMIN_TRANSLATIONS)) if m.id}
    assert kk["List"] == "Тізім" and kk["Create"] == "Құру" and kk["Save"] == "Сақтау"


def test_kazakh_catalog_is_kazakh_and_russian_is_russian(catalogs):
    """Guards against a Russian text pasted into the Kazakh catalog (or an English one left in either)."""
    kk = [m.string for m in catalogs["kk"] if m.id and not m.pluralizable]
    ru = [m.string for m in catalogs["ru"] if m.id and not m.pluralizable]
    with_kk_letters = sum(1 for s in kk if KAZAKH_LETTERS.search(s))
    assert with_kk_letters / len(kk) > 0.6
    assert not [s for s in ru if KAZAKH_LETTERS.search(s)]
    same = [m.id for m in catalogs["kk"] if m.id and not m.pluralizable
            and m.string == catalogs["ru"].get(m.id).string and re.search("[а-яА-Я]{4}", m.string)]
    assert len(same) <= 0.03 * len(kk), same  # shared loanwords only (Телефон, Файл, Мониторинг, ...)
    latin = [s for s in kk + ru if re.fullmatch(r"[A-Za-z ,.\-]+", s)]
    assert not latin, latin


@pytest.mark.parametrize("msgid, kk, ru", [
    ("Professional Register", "Кәсіптік тіркелім", "Профессиональный регистр"),
    ("IIN", "ЖСН", "ИИН"),
    ("BIN", "БСН", "БИН"),
    ("Personnel service specialist", "Персоналды басқару қызметінің маманы",
     "Специалист службы управления персоналом"),
    ("Chief of personnel service", "Персоналды басқару қызметінің басшысы",
     "Руководитель службы управления персоналом"),
    ("Advanced training", "Біліктілікті арттыру", "Повышение квалификации"),
    ("Specialist certificates", "Маман сертификаттары", "Сертификаты специалистов"),
    ("Identity document", "Жеке басын куәландыратын құжат", "Документ, удостоверяющий личность"),
])
def test_official_terminology_of_the_rules(catalogs, msgid, kk, ru):
    """Terms as written in KR DSM-253/2020 (rules-kk.txt and its Russian text)."""
    assert catalogs["kk"].get(msgid).string == kk
    assert catalogs["ru"].get(msgid).string == ru


def test_english_catalog_is_the_source_text(catalogs):
    for m in catalogs["en"]:
        if m.id and not m.pluralizable:
            assert m.string.strip(), m.id


def test_gettext_inside_f_strings_is_extracted():
    """pybabel's Python extractor misses ``f"{_('...')}"`` on Python 3.11; babel.cfg's method adds them."""
    import io

    from profreg.i18n_cli import extract_python

    source = b"q = 1\nlabel = f\"{_('Due soon')} {q}\"\nplain = _l('Plain')\nn = f\"{ngettext('a', 'b', q)}\"\n"
    found = [msgs for _line, _fn, msgs, _c in extract_python(io.BytesIO(source), ["_", "_l", "ngettext"], [], {})]
    assert "Due soon" in found and "Plain" in found and ("a", "b", None) in found
