"""Issue 15, item 5: one format per locale on every page, report and export (docs/formats.md): dates
dd.mm.yyyy, moments dd.mm.yyyy HH:MM in Almaty time, months and quarters in words, numbers with the
locale's separators, and no internal code of the register's vocabulary in any page or export."""
from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from profreg.i18n import fmt_date, fmt_datetime, fmt_month, fmt_number, fmt_percent, fmt_period
from profreg.reference.models import EmploymentEndReason, LabourCodeGround, Specialty
from tests.conftest import login
from tests.monitoring.test_report import PERIOD, country  # noqa: F401  (the fixture)

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_MONTH = re.compile(r"\b\d{4}-(0[1-9]|1[0-2])\b")
QUARTER_CODE = re.compile(r"\b\d{4}Q[1-4]\b")
#: Babel's medium dates the pages used to show: "2026 ж. 30 қар.", "30 нояб. 2026 г.", "Nov 30, 2026"
MEDIUM_DATE = re.compile(r"\b\d{4} ж\. \d{1,2} \w+|\b\d{1,2} \w{3,5}\. \d{4}|\b[A-Z][a-z]{2} \d{1,2}, \d{4}")
DOTTED = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
#: codes of the report vocabulary (outflow categories, position groups, sexes)
VOCABULARY = ("voluntary", "involuntary", "not_stated", "retirement", "emigration", "doctor", "nurse",
              "pharmacist", "manager", "in_sector", "leaves_sector", "abroad", "death", "transfer")


@pytest.mark.parametrize("lang, expected", [
    ("kk", ("02.03.2026", "30.11.2026 11:28", "2026 ж. қараша", "2027 ж. I тоқсан", "1 234 567,5", "97,5%")),
    ("ru", ("02.03.2026", "30.11.2026 11:28", "ноябрь 2026 г.", "I квартал 2027 г.", "1 234 567,5", "97,5 %")),
    ("en", ("02.03.2026", "30.11.2026 11:28", "November 2026", "Q1 2027", "1,234,567.5", "97.5%"))])
def test_one_format_per_locale(app, lang, expected):
    with app.test_request_context(), force_locale(lang):
        got = (fmt_date(date(2026, 3, 2)), fmt_datetime(datetime(2026, 11, 30, 6, 28)),  # 06:28 UTC = 11:28 Almaty
               fmt_month("2026-11"), fmt_period("2027Q1"), fmt_number(1234567.5), fmt_percent(97.46))
    norm = tuple(s.replace("\u00a0", " ").replace("\u202f", " ") for s in got)
    assert norm == expected
    with app.test_request_context(), force_locale(lang):
        assert fmt_date(datetime(2026, 11, 30, 20, 0)) == "01.12.2026"  # 20:00 UTC is the next day in Almaty
        assert fmt_period("2026-11") == fmt_month("2026-11") and fmt_date("2026-03-02") == "02.03.2026"


def visible_text(page: str) -> str:
    """What a reader sees: no tags, no attribute values, no scripts or styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page))
    return text.replace("\u00a0", " ").replace("\u202f", " ")  # Babel's no-break spaces


def codes_in(text: str, codes) -> list[str]:
    return [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]


def _vocabulary_codes(db) -> tuple:
    specialties = [c for (c,) in db.session.query(Specialty.code) if not c.isdigit()]
    reasons = [c for (c,) in db.session.query(EmploymentEndReason.code)]
    grounds = [c for (c,) in db.session.query(LabourCodeGround.code)]
    return (*VOCABULARY, *specialties, *reasons, *grounds, "HOSPITAL", "POLYCLINIC")


@pytest.fixture
def ministry(client, factory):
    login(client, factory.user("ministry"))
    return client


def test_the_monitoring_report_in_ru_shows_names_dates_and_numbers_not_codes(country, ministry, db):  # noqa: F811
    codes = _vocabulary_codes(db)
    page = ministry.get(f"/admin/monitoring/?period={PERIOD}&live=1&lang=ru").get_data(as_text=True)
    text = visible_text(page)
    assert "Добровольно" in text or "По собственному" in text or "Выбыло" in text or "Увольнения" in text or "Выбытие" in text
    assert not codes_in(text, codes), codes_in(text, codes)
    assert not ISO_DATE.search(text) and not ISO_MONTH.search(text), (ISO_DATE.findall(text), ISO_MONTH.findall(text))
    assert "октябрь 2026 г." in text
    assert re.search(r"\b\d{2}\.\d{2}\.\d{4}\b", text)  # the due date


def test_the_monitoring_exports_in_ru_use_semicolons_names_and_dates(country, ministry, db):  # noqa: F811
    codes = _vocabulary_codes(db)
    resp = ministry.get(f"/admin/monitoring/export?period={PERIOD}&format=csv&live=1&lang=ru")
    assert resp.status_code == 200
    raw = resp.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert len(rows) > 5 and all(len(r) == 6 for r in rows), rows[:3]  # one cell per column: ';' splits them
    cells = [c for r in rows for c in r]
    assert not codes_in(" | ".join(cells), codes), codes_in(" | ".join(cells), codes)

    resp = ministry.get(f"/admin/monitoring/export?period={PERIOD}&format=xlsx&live=1&lang=ru")
    wb = load_workbook(io.BytesIO(resp.get_data()))
    values = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    joined = " | ".join(values).replace("\u00a0", " ").replace("\u202f", " ")
    assert not codes_in(joined, codes), codes_in(joined, codes)
    assert "октябрь 2026 г." in joined and not ISO_DATE.search(joined), [v for v in values if ISO_DATE.search(v)]


def test_the_forecast_names_quarters_and_specialties_in_words(country, ministry, db):  # noqa: F811
    codes = [c for c in _vocabulary_codes(db) if c not in VOCABULARY]
    for lang, first in (("ru", "I квартал 2027 г."), ("kk", "2027 ж. I тоқсан"), ("en", "Q1 2027")):
        text = visible_text(ministry.get(f"/admin/forecast/?quarter=2027Q1&lang={lang}").get_data(as_text=True))
        assert first in text, lang
        assert not QUARTER_CODE.search(text), QUARTER_CODE.findall(text)
        assert not codes_in(text, codes) and not ISO_DATE.search(text), (lang, codes_in(text, codes))
    text = visible_text(ministry.get("/admin/charts/?lang=ru").get_data(as_text=True))
    assert not QUARTER_CODE.search(text) and not ISO_MONTH.search(text) and not ISO_DATE.search(text)


# --- the main pages of a few roles, in kk and ru ------------------------------------------------------

from tests.panel.conftest import make_client, world  # noqa: E402, F401  (the fixtures)

PAGES = ("/admin/", "/admin/workers/", "/admin/workers/details/?id={wA}", "/admin/workers/edit/?id={wA}",
         "/admin/certificates/", "/admin/employment/", "/admin/education/", "/admin/cpd/", "/admin/documents/",
         "/admin/audit/", "/admin/training/", "/admin/monitoring/", "/admin/notifications/")


@pytest.mark.parametrize("role", ["hr", "org_head", "region", "ministry"])
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_main_pages_show_no_iso_date_and_no_code(world, make_client, db, role, lang):  # noqa: F811
    client = make_client(world.users[role])
    codes = (*_vocabulary_codes(db), "certificate_expired")
    seen = 0
    for url in PAGES:
        resp = client.get(url.format(wA=world.wA.id) + ("&" if "?" in url else "?") + f"lang={lang}")
        if resp.status_code != 200:
            continue  # not this role's page
        seen += 1
        text = visible_text(resp.get_data(as_text=True))
        assert not ISO_DATE.search(text), (url, ISO_DATE.findall(text)[:3])
        assert not QUARTER_CODE.search(text), (url, QUARTER_CODE.findall(text)[:3])
        assert not MEDIUM_DATE.search(text), (url, MEDIUM_DATE.findall(text)[:3])
        if "details" in url:  # the worker's dates (birth, hire, certificate) as dd.mm.yyyy
            assert DOTTED.search(text), url
        if url != "/admin/audit/":  # its entries on reference data show a classifier's "Code" field, rightly
            assert not codes_in(text, codes), (url, codes_in(text, codes))
    assert seen >= 3, role
