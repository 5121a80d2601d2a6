"""The main menu kept per role, language, page and "exports shown" (``admin/menu_cache.py``) is the menu
Flask-Admin renders fresh: the same HTML for every role and language, another one where they differ."""
from __future__ import annotations

import re

import pytest

from profreg.admin import menu_cache

MENU = re.compile(r'<ul class="nav navbar-nav mr-auto">.*?</ul>\s*(?=<ul class="nav navbar-nav navbar-right">)', re.S)


def _menu(client, url) -> str:
    html = client.get(url).get_data(as_text=True)
    found = MENU.search(html)
    assert found, "the main menu"
    return found.group(0)


@pytest.mark.parametrize("role", ["ministry", "region", "hr", "association", "admin", "authority"])
def test_the_kept_menu_is_the_fresh_one(world, make_client, role):
    client = make_client(world.users[role])
    for url in ("/admin/?lang=kk", "/admin/workers/?lang=ru", "/admin/notifications/?lang=en"):
        menu_cache.forget_menus()
        fresh = _menu(client, url)
        assert _menu(client, url) == fresh  # now from the kept copy
        assert menu_cache._KEPT, "kept"


def test_roles_languages_and_pages_keep_menus_of_their_own(world, make_client):
    menu_cache.forget_menus()
    ministry = _menu(make_client(world.users["ministry"]), "/admin/?lang=ru")
    hr = _menu(make_client(world.users["hr"]), "/admin/?lang=ru")
    assert ministry != hr and "/admin/user/" not in hr
    assert _menu(make_client(world.users["hr"]), "/admin/?lang=kk") != hr
    assert len(menu_cache._KEPT) == 3


def test_a_kept_export_shows_the_exports_item_to_its_user_only(world, make_client, db):
    """The one per-user item of the menu (My exports, once the user has a kept export) is in the key."""
    from datetime import timedelta

    from profreg import clock
    from profreg.jobs.models import ExportFile

    menu_cache.forget_menus()
    hr, chief = make_client(world.users["hr"]), make_client(world.users["hr_chief"])
    assert "/admin/exports/" not in _menu(hr, "/admin/?lang=en")
    db.session.add(ExportFile(user_id=world.users["hr"].id, title="Workers", endpoint="workers", export_type="csv",
                              expires_at=clock.utcnow_naive() + timedelta(hours=1)))
    db.session.commit()
    assert "/admin/exports/" in _menu(hr, "/admin/?lang=en")
    assert "/admin/exports/" not in _menu(chief, "/admin/?lang=en")
