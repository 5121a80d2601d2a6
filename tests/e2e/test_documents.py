"""Personnel documents and the worker page's history in the browser: HR uploads a document to a worker
(file input), downloads it back (the same bytes), corrects its data through "Correct" with a reason
(a new version) and sees both versions in the history of the worker page; HR edits the worker's
personal data and the change shows in the worker page's history of changes."""
from __future__ import annotations

import hashlib

from playwright.sync_api import expect

from tests.conftest import real_pdf

from .conftest import DEMO_USERS, download, login, logout, org_of

# a small PDF that parses as a whole (uploads are validated as whole files, issue 18)
PDF = real_pdf("e2e personnel document")


def _worker(served, org_id: int, offset: int = 0):
    """A current, active worker of ``org_id`` (the newest ones first, so tests pick different ones)."""
    return served.sql("""
        SELECT w.id, w.iin, w.birth_place, w.surname FROM worker w
        WHERE w.status = 'active' AND w.annulled_at IS NULL AND EXISTS (
          SELECT 1 FROM employment e WHERE e.worker_id = w.id AND e.organization_id = :o AND e.end_date IS NULL)
        ORDER BY w.id DESC OFFSET :n LIMIT 1""", o=org_id, n=offset)[0]


def _documents_tab(page, wid: int):
    page.goto(f"/admin/workers/details/?id={wid}&lang=en")
    page.locator("#tab-link-documents").click()  # a link: the card opens on that tab
    page.wait_for_url("**tab=documents**")
    return page.locator("#tab-documents")


def test_hr_uploads_downloads_and_corrects_a_personnel_document(page, served, tmp_path):
    org = org_of(served, "hr")
    wid, iin, _place, surname = _worker(served, org)
    number, corrected = f"E2E-{iin[-4:]}-01", f"E2E-{iin[-4:]}-02"
    doc_type = served.sql("SELECT min(id) FROM personnel_document_type")[0][0]
    upload = tmp_path / "prikaz.pdf"
    upload.write_bytes(PDF)

    login(page, DEMO_USERS["hr"])
    page.goto("/admin/documents/new/?lang=en")
    # the worker: an ajax lookup (select2), found by IIN as a user types it
    page.locator("#s2id_worker a.select2-choice").click()
    page.locator("#select2-drop input.select2-input").fill(iin)
    found = page.locator("#select2-drop li.select2-result-selectable")
    expect(found).to_have_count(1)  # the IIN is unique
    expect(found).to_contain_text(surname)
    found.click()
    page.locator("select[name=doc_type]").select_option(str(doc_type), force=True)
    page.fill("input[name=number]", number)
    page.fill("input[name=doc_date]", "2026-01-15")
    page.locator("input[name=doc_date]").press("Tab")  # closes the date picker, as a user leaves the field
    page.set_input_files("input[name=file]", str(upload))
    page.locator("form.admin-form input[type=submit]:not([name])").first.click()
    page.wait_for_load_state()
    assert served.sql("SELECT count(*) FROM personnel_document WHERE worker_id = :w AND number = :n",
                      w=wid, n=number)[0][0] == 1, page.locator(".alert, .text-danger, .help-block").all_inner_texts()

    # the worker page lists it; the download gives back the same bytes
    tab = _documents_tab(page, wid)
    row = tab.locator("tr", has_text=number)
    assert row.count() == 1
    got = download(page, row.get_by_role("link", name="Download"), "hr", "document")
    assert hashlib.sha256(got.read_bytes()).hexdigest() == hashlib.sha256(PDF).hexdigest()

    # Correct: a new version with a reason; the old one is kept in the history
    row.get_by_role("link", name="Correct").click()
    page.wait_for_url("**/admin/documents/correct/**")
    assert "number" in page.locator("form.record-action").inner_html()
    page.fill("input[name=number]", corrected)
    page.fill("textarea[name=reason]", "Typo in the order number")
    page.get_by_role("button", name="Save the correction").click()
    page.wait_for_url("**/admin/workers/details/**")
    assert any("saved as a new version" in t for t in page.locator(".alert").all_inner_texts())
    versions = served.sql("SELECT number, superseded_by_id IS NULL FROM personnel_document WHERE worker_id = :w "
                          "AND number IN (:a, :b) ORDER BY id", w=wid, a=number, b=corrected)
    assert versions == [(number, False), (corrected, True)]

    tab = _documents_tab(page, wid)
    assert tab.locator("tr", has_text=corrected).count() == 1
    assert tab.locator("tbody tr", has_text=number).count() == 0  # the old version is out of the table...
    history = tab.locator("details.record-history")
    history.locator("summary").click()
    text = history.inner_text()
    assert "Corrected" in text and "Typo in the order number" in text, text  # ...and in the history
    assert history.locator("del", has_text=number).count() == 1 and corrected in text, text
    # the corrected version keeps the stored file
    again = download(page, tab.locator("tr", has_text=corrected).get_by_role("link", name="Download"), "hr",
                     "document-corrected")
    assert again.read_bytes() == PDF


def test_hr_edits_personal_data_and_the_change_shows_in_the_history(page, served):
    org = org_of(served, "hr")
    wid, _iin, old_place, _surname = _worker(served, org, offset=1)
    new_place = f"{old_place or ''} E2E".strip()

    login(page, DEMO_USERS["hr"])
    page.goto(f"/admin/workers/details/?id={wid}&lang=en")
    page.goto(f"/admin/workers/edit/?id={wid}&lang=en")
    page.fill("input[name=birth_place]", new_place)
    page.locator("form.admin-form input[type=submit]:not([name])").first.click()
    page.wait_for_load_state()
    assert served.sql("SELECT birth_place FROM worker WHERE id = :w", w=wid)[0][0] == new_place, \
        page.locator(".alert, .text-danger, .help-block").all_inner_texts()

    # who reads the organization's audit trail (docs/roles.md: hr_chief, org_head) sees the change on the
    # worker page, by field label, with the old and the new value
    logout(page)
    login(page, DEMO_USERS["hr_chief"])
    page.goto(f"/admin/workers/details/?id={wid}&lang=en")
    page.locator("#tab-link-history").click()  # the history tab: a link that opens the card on it
    page.wait_for_url("**tab=history**")
    history = page.locator("table", has=page.locator("th", has_text="Old → new"))
    assert history.count() == 1, "no history of changes on the worker page"
    text = history.inner_text()
    assert "Place of birth" in text and new_place in text, text
