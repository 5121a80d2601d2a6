"""Sign-in, the forced password change, the language switcher and sign-out, for each role, in the browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, DEMO_USERS, NEW_PASSWORD, login

# the panel's home page title in each language (translations/*/messages.po)
SIGN_OUT = {"kk": "Шығу", "ru": "Выйти", "en": "Sign out"}


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_first_sign_in_changes_password_switches_language_and_signs_out(page, role):
    email = f"new-{role}@e2e.kz"
    login(page, email, DEMO_PASSWORD)
    # forced password change: every page leads to the form until the password is changed
    assert page.url.endswith("/password"), page.url
    page.goto("/admin/")
    assert "/password" in page.url
    page.fill("input[name=current]", DEMO_PASSWORD)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/admin" in page.url, page.url
    assert page.locator(".alert-success").count() >= 1
    # the language switcher (navbar dropdown), each language in turn
    for lang in ("kk", "ru", "en"):
        page.locator("nav a.dropdown-toggle").filter(has_text=re.compile(r"^\s*(KK|RU|EN)\s*$")).click()
        page.locator(f"a.dropdown-item[href*='lang={lang}']").click()
        page.wait_for_url(f"**lang={lang}**")
        assert page.locator("nav a.dropdown-toggle").filter(
            has_text=re.compile(rf"^\s*{lang.upper()}\s*$")).count() == 1
        page.locator("nav a.dropdown-toggle", has_text="@").click()
        expect(page.locator("form[action$='/logout'] button.dropdown-item")).to_have_text(SIGN_OUT[lang])
        page.keyboard.press("Escape")
    # sign out, and the panel asks to sign in again; the new password works, the old one no longer
    page.locator("form[action$='/logout'] button.dropdown-item").click()
    page.wait_for_url("**/login**")
    page.goto("/admin/")
    assert "/login" in page.url
    login(page, email, NEW_PASSWORD)
    assert "/admin" in page.url and "/password" not in page.url


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_demo_user_signs_in_to_the_panel(page, role):
    login(page, DEMO_USERS[role])
    assert "/admin" in page.url
    assert page.locator("nav").count() >= 1
    assert not page.js_errors, page.js_errors
