"""Every list's Export menu (csv and xlsx), downloaded through the browser from the served app, as
ministry and as hr: the file opens (csv module, openpyxl) and holds as many data rows as the list's
count on the page. The CSV export once broke only in a served app (the stream read its rows after
the request's session had committed): the in-process test client could not see it."""
from __future__ import annotations

import csv
import re

import openpyxl
import pytest

from .conftest import ARTIFACTS

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
    checked, problems = [], []
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
            with page.expect_download(timeout=60_000) as dl:
                item.first.click()
            download = dl.value
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
