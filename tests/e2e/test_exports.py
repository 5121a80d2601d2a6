"""Every list's Export menu (csv and xlsx), downloaded through the browser from the served app, as
ministry and as hr: the file opens (csv module, openpyxl) and holds as many data rows as the list's
count on the page. A list longer than the served app's inline limit (``INLINE_EXPORT_LIMIT``) is
exported in the background by the rq worker: the browser lands on "My exports", and the file is
fetched through the link of the "export ready" notification, complete. The CSV export once broke only in a served app (the stream read its rows after
the request's session had committed): the in-process test client could not see it."""
from __future__ import annotations

import csv
import re

import openpyxl
import pytest

from .conftest import ARTIFACTS, INLINE_EXPORT_LIMIT

LIST_COUNT = re.compile(r"\((\d[\d\s\u00a0,]*)\)")


def _menu_lists(page) -> list[str]:
    """The list pages of the role's menu (model views and others), in menu order."""
    page.goto("/admin/?lang=en")
    hrefs = page.eval_on_selector_all(
        "#admin-navbar-collapse a[href^='/admin/']", "els => els.map(e => e.getAttribute('href'))")
    seen = []
    for href in hrefs:
        path = href.split("?")[0]
        if path != "/admin/" and path not in seen:
            seen.append(path)
    return seen


def _shown(page) -> int:
    """Data rows of the table on the page (Flask-Admin's "no items" row spans every column)."""
    return page.locator("table.model-list tbody tr:not(:has(td[colspan]))").count()


def _list_count(page) -> int | None:
    """The count in the list's tab, "List (N)"; 0 for an empty list (no count shown); None for a list
    that shows rows but no count (``simple_list_pager``: the audit log)."""
    text = page.locator(".nav-tabs .nav-link.active, .nav .nav-link.active").first.inner_text()
    m = LIST_COUNT.search(text)
    if m:
        return int(re.sub(r"\D", "", m.group(1)))
    return None if _shown(page) else 0


def _export(page, item, background: list):
    """Click an Export item: the download itself, or (a background export) the download through the
    notification's link once the rq worker has made the file."""
    downloads = []

    def caught(download):
        downloads.append(download)

    page.on("download", caught)
    try:
        item.first.click()
        for _ in range(120):
            if downloads or "/admin/exports/" in page.url:
                break
            page.wait_for_timeout(250)
    finally:
        page.remove_listener("download", caught)
    if downloads:
        return downloads[0]
    assert "/admin/exports/" in page.url, f"neither a download nor My exports: {page.url}"
    background.append(page.url)
    assert page.locator("h1", has_text="My exports").count() == 1
    export_id = re.search(r"[?&]id=(\d+)", page.url)
    assert export_id, f"My exports without the new export's id: {page.url}"
    # this export's own link: an earlier export's notification (of another test, or of a list before
    # this one) may still be unread, and its file is not this list's
    own = f"a[href='/admin/exports/download/{export_id.group(1)}/']"
    for _ in range(120):  # the rq worker makes the file; the notification carries the link
        page.goto("/admin/notifications/?lang=en&unread=1")
        link = page.locator(own)
        if link.count():
            with page.expect_download(timeout=60_000) as dl:
                link.first.click()
            page.locator("form:has(input[name=all]) button").first.click()  # read, to keep the list short
            return dl.value
        page.wait_for_timeout(500)
    raise AssertionError(f"no export-ready notification for export {export_id.group(1)} within a minute")


def _rows(path, export_type: str) -> list[list]:
    if export_type == "csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    wb = openpyxl.load_workbook(path, read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("role", ["ministry", "hr"])
@pytest.mark.parametrize("export_type", ["csv", "xlsx"])
def test_every_list_export_holds_every_listed_row(as_role, role, export_type):
    page = as_role(role)
    checked, problems, background = [], [], []
    for path in _menu_lists(page):
        page.goto(f"{path}?lang=en")
        menu = page.locator("a.dropdown-toggle", has_text=re.compile(r"^\s*Export\s*$"))
        if not menu.count():
            continue
        count = _list_count(page)
        shown = _shown(page)
        menu.first.click()
        item = page.locator(f".dropdown-menu a.dropdown-item[href*='/export/{export_type}/']")
        try:
            download = _export(page, item, background)
            assert download.failure() is None, download.failure()
            target = ARTIFACTS / "downloads" / role / download.suggested_filename
            download.save_as(target)
            rows = _rows(target, export_type)
        except Exception as exc:  # noqa: BLE001 - every list is checked, failures reported together
            problems.append(f"{path}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            continue
        checked.append(path)
        if not rows:
            problems.append(f"{path}: empty file (no header row)")
        elif count is None:  # no count on the page: at least the rows of its first page
            if len(rows) - 1 < shown:
                problems.append(f"{path}: {len(rows) - 1} data rows in the {export_type}, the page shows {shown}")
        elif len(rows) - 1 != count:
            problems.append(f"{path}: {len(rows) - 1} data rows in the {export_type}, the list shows {count}")
    assert not problems, "\n".join(problems)
    assert len(checked) >= (8 if role == "ministry" else 4), checked
    if role == "ministry":  # its workers and employment lists exceed the inline limit
        assert len(background) >= 2, (INLINE_EXPORT_LIMIT, background)
