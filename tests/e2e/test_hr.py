"""HR in the browser: register a worker (identity document, education, certificate) from the new-worker
screen and see the worker page; bad input (invalid IIN, birth date in the future, empty required
fields, a NUL byte in the name) shows field errors and writes nothing."""
from __future__ import annotations

from datetime import date

import pytest

from profreg.identity import make_iin

# valid IINs (17 May 1990, woman) with serials the demo country does not use
IIN_OK, IIN_OK2 = [i for i in (make_iin(date(1990, 5, 17), "F", s) for s in range(9100, 9120)) if i][:2]


def _ref(served, table, code):
    return str(served.sql(f"SELECT id FROM {table} WHERE code = :c", c=code)[0][0])


def _select(page, name, value):
    page.locator(f"select[name='{name}']").select_option(value, force=True)


def _fill_new_worker(page, served, iin, birth="1990-05-17", surname="Жұмабекова"):
    page.goto("/admin/workers/new/?lang=ru")
    page.fill("input[name=iin]", iin)
    page.fill("input[name=surname]", surname)
    page.fill("input[name=name]", "Ләззат")
    _select(page, "sex", "F")
    page.fill("input[name=birth_date]", birth)
    page.fill("input[name=birth_place]", "Қарағанды")
    _select(page, "citizenship", _ref(served, "country", "KZ"))
    _select(page, "id_doc_type", _ref(served, "identity_document_type", "ID_CARD"))
    page.fill("input[name=id_doc_number]", "045612378")
    page.fill("input[name=id_doc_issuer]", "МВД РК")
    page.fill("input[name=id_doc_issued]", "2020-01-01")
    page.fill("[name=residence_address]", "Астана, ул. Сарыарка 1")
    page.fill("input[name=registration_place]", "Астана")
    page.fill("input[name=registration_date]", "2019-09-01")
    _select(page, "hire_position", _ref(served, "position", "NURSE"))
    _select(page, "hire_specialty", _ref(served, "specialty", "NURSING"))
    page.fill("input[name=hire_date]", served.sql("SELECT CURRENT_DATE")[0][0].isoformat())
    page.fill("input[name=hire_fte]", "1.00")
    # inline forms: one education document, one certificate
    page.locator("#education_documents-button").click()
    _select(page, "education_documents-0-kind", "general")
    _select(page, "education_documents-0-level", _ref(served, "education_level", "SECONDARY"))
    inst = str(served.sql("SELECT min(id) FROM education_institution")[0][0])
    _select(page, "education_documents-0-institution", inst)
    page.fill("input[name='education_documents-0-number']", "ТКБ-0012345")
    page.fill("input[name='education_documents-0-issue_date']", "2011-06-30")
    page.locator("#certificates-button").click()
    page.fill("input[name='certificates-0-number']", f"KZ-E2E-{iin[-6:]}")
    _select(page, "certificates-0-specialty", _ref(served, "specialty", "NURSING"))
    page.fill("input[name='certificates-0-issue_date']", "2024-01-10")
    page.fill("input[name='certificates-0-valid_until']", "2029-01-09")


def _save(page):
    page.locator("form.admin-form input[type=submit]:not([name])").first.click()
    page.wait_for_load_state()


def _field_errors(page) -> str:
    return " | ".join(page.locator(".invalid-feedback, .help-block, .text-danger, .alert-danger").all_inner_texts())


def _workers(served, iin):
    return served.sql("SELECT count(*) FROM worker WHERE iin = :i", i=iin)[0][0]


def test_hr_registers_a_worker_with_education_and_certificate(as_role, served):
    page = as_role("hr", lang="ru")
    _fill_new_worker(page, served, IIN_OK)
    _save(page)
    assert _workers(served, IIN_OK) == 1, _field_errors(page)
    wid = served.sql("SELECT id FROM worker WHERE iin = :i", i=IIN_OK)[0][0]
    page.goto(f"/admin/workers/details/?id={wid}&lang=ru")
    assert "Жұмабекова" in page.content()
    page.locator("#tab-link-education").click()  # each tab is a link that opens the card on it
    page.wait_for_url("**tab=education**")
    assert "ТКБ-0012345" in page.locator("#tab-education").inner_text()
    page.locator("#tab-link-certificates").click()
    page.wait_for_url("**tab=certificates**")
    assert f"KZ-E2E-{IIN_OK[-6:]}" in page.locator("#tab-certificates").inner_text()
    # the list finds it by IIN
    page.goto(f"/admin/workers/?search={IIN_OK}")
    assert page.locator("table.model-list tbody tr:not(:has(td[colspan]))").count() == 1


@pytest.mark.parametrize("case", ["invalid_iin", "future_birth", "empty_required", "nul_in_name"])
def test_bad_input_shows_field_errors_and_writes_nothing(as_role, served, case):
    page = as_role("hr", lang="en")
    iin = IIN_OK2[:-1] + str((int(IIN_OK2[-1]) + 1) % 10) if case == "invalid_iin" else IIN_OK2
    before = served.sql("SELECT count(*) FROM worker")[0][0]
    _fill_new_worker(page, served, iin,
                     birth="2099-01-01" if case == "future_birth" else "1990-05-17",
                     surname="Жұма\x00бекова" if case == "nul_in_name" else "Жұмабекова")
    if case == "empty_required":
        page.fill("input[name=surname]", "")
        page.fill("input[name=birth_place]", "")
        # the browser's own check would stop the submission: the server must refuse it as well
        page.eval_on_selector("form.admin-form", "f => f.noValidate = true")
    _save(page)
    assert "/new/" in page.url, page.url
    errors = _field_errors(page)
    assert errors.strip(), "no error shown"
    assert served.sql("SELECT count(*) FROM worker")[0][0] == before, errors
