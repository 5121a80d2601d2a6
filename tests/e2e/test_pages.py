"""The main pages of each role: a screenshot of each in kk, ru and en (test-artifacts/e2e/pages/),
and an accessibility scan with axe-core (the copy bundled by the axe-playwright-python package)
that must find no *critical* violation. Main pages: the dashboard and the first list pages of the
role's menu, plus the notifications page."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, DEMO_USERS

MENU_PAGES = 4


def _main_pages(page) -> list[str]:
    page.goto("/admin/?lang=en")
    hrefs = page.eval_on_selector_all("#admin-navbar-collapse a[href^='/admin/']",
                                      "els => els.map(e => e.getAttribute('href').split('?')[0])")
    pages = ["/admin/"]
    for href in hrefs:
        if href not in pages and "/notifications" not in href:
            pages.append(href)
        if len(pages) > MENU_PAGES:
            break
    return pages + ["/admin/notifications/"]


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_main_pages_in_three_languages_without_critical_accessibility_violations(as_role, role):
    from axe_playwright_python.sync_playwright import Axe

    page = as_role(role)
    axe = Axe()
    out = ARTIFACTS / "pages" / role
    out.mkdir(parents=True, exist_ok=True)
    critical, errors = [], []
    for path in _main_pages(page):
        for lang in ("kk", "ru", "en"):
            resp = page.goto(f"{path}?lang={lang}")
            if resp.status >= 400:
                errors.append(f"{path} ({lang}): HTTP {resp.status}")
                continue
            assert page.locator("html").count()
            name = path.strip("/").replace("/", "_") or "admin"
            page.screenshot(path=out / f"{name}.{lang}.png", full_page=False)
        results = axe.run(page)
        for v in results.response["violations"]:
            if v.get("impact") == "critical":
                critical.append(f"{path}: {v['id']}: {v['help']} ({len(v['nodes'])} elements, e.g. "
                                f"{v['nodes'][0]['target']})")
    assert not errors, errors
    assert not critical, "\n".join(critical)
