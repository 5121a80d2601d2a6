"""Monitoring and forecast opened and exported by region and ministry; the association's CPD view
shows masked IINs (it has no export: the role may list and read only)."""
from __future__ import annotations

import csv
import re

import openpyxl
import pytest

from .conftest import download as _download


@pytest.mark.parametrize("role", ["region", "ministry"])
@pytest.mark.parametrize("path", ["/admin/monitoring/", "/admin/forecast/"])
def test_report_opens_and_exports(as_role, role, path):
    page = as_role(role)
    resp = page.goto(f"{path}?lang=ru")
    assert resp.status == 200
    assert page.locator("table").count() >= 1
    xlsx = _download(page, page.locator("a.btn", has_text=re.compile(r"^\s*xlsx\s*$")).first, role, path.strip("/"))
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert sum(1 for ws in wb.worksheets for _ in ws.iter_rows()) > 1
    csv_path = _download(page, page.locator("a.btn", has_text=re.compile(r"^\s*csv\s*$")).first, role,
                         path.strip("/"))
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) > 1


def test_association_sees_cpd_with_masked_iins(as_role, served):
    page = as_role("association")
    page.goto("/admin/cpd/?lang=en")
    rows = page.locator("table.model-list tbody tr:not(:has(td[colspan]))")
    assert rows.count() >= 1
    text = page.locator("table.model-list").inner_text()
    assert not re.search(r"\b\d{12}\b", text), "a full IIN on the association's page"
    assert re.search(r"•{8}\d{4}", text), "no masked IIN shown"
    # the association may list and read, not export (profreg/access.py): no Export menu, the URL refused
    assert not page.locator("a.dropdown-toggle", has_text=re.compile(r"^\s*Export\s*$")).count()
    assert page.request.get("/admin/cpd/export/csv/", max_redirects=0).status in (302, 403)
