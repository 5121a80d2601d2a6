"""Issue 18, open redirects: ``/login?next=/%09/evil.example/`` and Flask-Admin's ``?url=http:evil.example``
stay on the site; a newline in ``next=`` is no 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from profreg.redirects import safe_next

HOSTILE = [
    "/\t/evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "http:evil.example",
    "http://evil.example/", "https:/evil.example", "javascript:alert(1)", " /admin/", "/admin/\n/x",
    "/\r\n//evil.example", "/\x00/evil.example", "/\u202e/evil", "/\u200b/evil", "/\u3000/evil.example",
    "evil.example", "", None, "///evil.example", "/%09/x\x7f",
]
FINE = ["/admin/", "/admin/workers/?page=2&search=%D0%98", "/admin/workers/details/?id=5#x", "/password"]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_every_off_site_form(target):
    assert safe_next(target) is None
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", FINE)
def test_safe_next_keeps_same_origin_paths(target):
    assert safe_next(target) == target


def _sign_in_form(client, url):
    import re

    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("raw", ["/%09/evil.example/", "/%0a/evil.example/", "%5C%5Cevil.example", "/%5Cevil.example",
                                 "http:evil.example", "/%0d%0aSet-Cookie:x=1"])
def test_login_next_stays_on_the_site(world, client, raw):
    from tests.conftest import PASSWORD

    user = world.users["hr"]
    from profreg.auth.services import set_password
    set_password(user, PASSWORD)
    world.db.session.commit()
    url = f"/login?next={raw}"
    tok = _sign_in_form(client, url)
    resp = client.post(url, data={"email": user.email, "password": PASSWORD, "csrf_token": tok})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location
    assert "\n" not in location and "\t" not in location


@pytest.mark.parametrize("raw", ["http:evil.example", "//evil.example", "/%09/evil.example/", "/%5Cevil.example",
                                 "https:evil.example/x", "/%0d%0ax"])
@pytest.mark.parametrize("page", ["/admin/workers/new/", "/admin/workers/", "/admin/certificates/new/"])
def test_flask_admin_url_parameter_stays_on_the_site(world, make_client, raw, page):
    c = make_client(world.users["hr"])
    resp = c.get(f"{page}?url={raw}")
    body = resp.get_data(as_text=True)
    assert resp.status_code in (200, 302)
    assert "evil.example" not in body
    if resp.status_code == 302:
        assert "evil" not in resp.headers["Location"] and resp.headers["Location"].startswith("/")


def test_flask_admin_url_parameter_kept_when_safe(world, make_client):
    c = make_client(world.users["hr"])
    back = "/admin/workers/?page=1"
    body = c.get(f"/admin/workers/new/?url={quote(back, safe='')}").get_data(as_text=True)
    assert "/admin/workers/?page=1" in body


def test_a_hostile_url_on_a_post_is_refused_without_writing(world, make_client):
    from tests.panel.conftest import token

    c = make_client(world.users["admin"])
    resp = c.post("/admin/users/delete/?url=http:evil.example",
                  data={"csrf_token": token(c), "id": str(world.users["hr"].id)})
    assert resp.status_code == 400 or not resp.headers.get("Location", "").count("evil")
    world.db.session.expire_all()
    assert world.users["hr"].active is True
