"""The advanced-training list in the browser: HR forms the list of the organization's employees due for
advanced training (preview, then save as a draft), the head of the organization approves it, and the
xlsx, csv and pdf downloads open and hold the list's rows (csv module, openpyxl, pypdf)."""
from __future__ import annotations

import csv
import re

import openpyxl
from pypdf import PdfReader

from .conftest import DEMO_USERS, download, login, logout, org_of

ROW = "table tbody tr:not(:has(td[colspan]))"


def _free_period(served, org_id: int) -> str:
    used = {p for (p,) in served.sql("SELECT period FROM training_list WHERE organization_id = :o", o=org_id)}
    return next(f"{y}Q{q}" for y in range(2031, 2100) for q in range(1, 5) if f"{y}Q{q}" not in used)


def _iins(page) -> list[str]:
    """The IINs in the first column of the page's list table."""
    return [t.strip() for t in page.locator(f"{ROW} td:first-child").all_inner_texts()]


def test_hr_forms_the_list_the_head_approves_it_and_every_download_holds_its_rows(page, served):
    org = org_of(served, "hr")
    assert org_of(served, "org_head") == org, "the demo head and HR work in the same organization"
    period = _free_period(served, org)

    # HR: New list → Preview → Save as draft
    login(page, DEMO_USERS["hr"])
    page.goto("/admin/training_lists/?lang=en")
    page.get_by_role("link", name="New list").click()
    page.fill("input[name=period]", period)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    found = page.locator("h2", has_text=re.compile(r"Workers found: \d+")).inner_text()
    n_found = int(re.search(r"\d+", found).group())
    assert n_found >= 1, "the demo organization has no employee due for advanced training"
    preview = sorted(_iins(page))
    assert len(preview) == n_found
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_load_state()
    assert any("The list was saved as a draft." in t for t in page.locator(".alert").all_inner_texts())
    assert re.search(r"/admin/training_lists/\d+/$", page.url), page.url
    detail_url = page.url.split("?")[0]
    assert sorted(_iins(page)) == preview
    assert page.locator("h1 .badge", has_text="Draft").count() == 1
    # HR may not approve (docs/roles.md: the A right is the head's)
    assert page.get_by_role("button", name="Approve").count() == 0
    logout(page)

    # the head: approve (the browser's confirm dialog accepted)
    login(page, DEMO_USERS["org_head"])
    page.goto(f"{detail_url}?lang=en")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert page.locator("h1 .badge", has_text="Approved").count() == 1
    assert served.sql("SELECT status FROM training_list WHERE organization_id = :o AND period = :p",
                      o=org, p=period)[0][0] == "approved"
    listed = sorted(_iins(page))
    assert listed == preview
    names = [t.strip() for t in page.locator(f"{ROW} td:nth-child(2)").all_inner_texts()]

    # the three downloads, each opened
    files = {fmt: download(page, page.locator("a.btn", has_text=re.compile(rf"^\s*{fmt.upper()}\s*$")),
                           "org_head", f"training-{period}")
             for fmt in ("xlsx", "csv", "pdf")}

    with open(files["csv"], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    assert "IIN" in header and "Full name" in header, header
    assert sorted(r[header.index("IIN")] for r in data) == listed
    assert sorted(r[header.index("Full name")] for r in data) == sorted(names)

    wb = openpyxl.load_workbook(files["xlsx"], read_only=True)
    cells = [[c for c in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(cells) if "IIN" in r)
    col = cells[head].index("IIN")
    xlsx_iins = sorted(str(r[col]) for r in cells[head + 1:] if r[col] and re.fullmatch(r"\d{12}", str(r[col])))
    assert xlsx_iins == listed

    pdf = files["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(files["pdf"])
    assert len(reader.pages) >= 1
    text = "".join(p.extract_text() or "" for p in reader.pages)
    missing = [iin for iin in listed if iin not in text]
    assert not missing, f"IINs of the list missing from the pdf: {missing}"
