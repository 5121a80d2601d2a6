"""Issue 15, item 4, in the browser: each role's dashboard in kk, ru and en (screenshots in
test-artifacts/e2e/dashboards/), its tiles and worklist rendered, a tile opening the list of exactly the
rows it counts; and the worker card (details page of a demo worker) in the three languages
(test-artifacts/e2e/worker-card/)."""
from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, DEMO_USERS

LANGS = ("kk", "ru", "en")
#: roles with a "needs attention" worklist
WORKLIST_ROLES = {"region", "org_head", "hr_chief", "hr"}
#: the trend's heading per language (the page is in that language)
TREND = {"kk": "Соңғы 12 ай", "ru": "Последние 12 месяцев", "en": "Last 12 months"}


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_dashboard_of_each_role_in_three_languages(as_role, role):
    page = as_role(role)
    out = ARTIFACTS / "dashboards"
    out.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        resp = page.goto(f"/admin/?lang={lang}")
        assert resp.status == 200
        tiles = page.locator(".dashboard-tiles a.dashboard-tile")
        assert tiles.count() >= 1, f"{role} {lang}: no tiles"
        for i in range(tiles.count()):  # every tile is a link with a number
            assert tiles.nth(i).get_attribute("href").startswith("/admin/")
            assert re.fullmatch(r"[\d\s\u00a0\u202f,.]+", tiles.nth(i).locator(".dashboard-value").inner_text())
        if role in WORKLIST_ROLES:
            assert page.locator(".dashboard-worklist li").count() >= 4, f"{role} {lang}: no worklist"
        if role in ("ministry", "region", "org_head", "hr_chief", "hr"):
            assert page.locator("svg.dashboard-trend").count() == 4
            assert TREND[lang] in page.locator("body").inner_text()
        if role == "ministry":
            assert page.locator("table.dashboard-reports tbody tr").count() >= 1
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "Internal Server Error" not in body
        page.screenshot(path=out / f"{role}.{lang}.png", full_page=True)
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("role", ["hr", "region"])
def test_a_tile_opens_the_list_of_exactly_its_rows(as_role, role):
    page = as_role(role)
    page.goto("/admin/?lang=en")
    tile = page.locator('a.dashboard-tile[data-tile="blocked"]')
    counted = _number(tile.locator(".dashboard-value").inner_text())
    tile.click()
    page.wait_for_load_state()
    assert "/admin/workers/" in page.url and "tile=blocked" in page.url
    assert page.locator(".dashboard-tile-filter").count() == 1
    rows = page.locator("table.model-list tbody tr")
    shown = 0 if page.locator("table.model-list").count() == 0 else rows.count()
    if counted <= 50:  # one page
        assert shown == counted or (counted == 0 and shown <= 1)
    else:
        assert shown == 50


def test_worker_card_in_three_languages(as_role):
    page = as_role("hr")
    page.goto("/admin/workers/?lang=en")
    link = page.locator("table.model-list a[href*='/admin/workers/details/']").first
    href = link.get_attribute("href")
    out = ARTIFACTS / "worker-card"
    out.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        sep = "&" if "?" in href else "?"
        resp = page.goto(f"{href}{sep}lang={lang}")
        assert resp.status == 200
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "Internal Server Error" not in body
        assert page.locator("table, .card").count() >= 1  # the card's content rendered
        page.screenshot(path=out / f"worker-card.{lang}.png", full_page=True)
