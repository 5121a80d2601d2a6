"""Issue 18, item 1: server-side revocable sessions. A cookie saved before sign-out is refused after it;
a password change or an administrator disabling the user ends the user's other sessions; an idle
session (30 min by default) and an old one (12 h) are signed out; sign-out is POST-only with a CSRF
token; each sign-in starts a new session id."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from profreg import clock
from tests.conftest import PASSWORD
from tests.panel.conftest import FreshContextClient, token


@pytest.fixture(autouse=True)
def _real_limits(app):
    """The production defaults (the testing config lets sessions live while other tests move the clock)."""
    from config import DefaultConfig

    saved = app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]
    app.config["SESSION_IDLE_MINUTES"] = DefaultConfig.SESSION_IDLE_MINUTES
    app.config["SESSION_MAX_HOURS"] = DefaultConfig.SESSION_MAX_HOURS
    assert (DefaultConfig.SESSION_IDLE_MINUTES, DefaultConfig.SESSION_MAX_HOURS) == (30, 12)
    yield
    app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"] = saved


def _with_password(world, role="hr"):
    from profreg.auth.passwords import hash_password

    user = world.users[role]
    user.password_hash = hash_password(PASSWORD)
    world.db.session.commit()
    return user


def _form_sign_in(app, user, password=PASSWORD):
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    r = c.post("/login", data={"email": user.email, "password": password, "csrf_token": token(c)})
    assert r.status_code == 302 and "/login" not in r.headers["Location"], r.get_data(as_text=True)[:300]
    return c


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    c.set_cookie("session", cookie)
    return c


def _signed_in(client, url="/admin/workers/") -> bool:
    r = client.get(url)
    if r.status_code == 302:
        assert "/login" in r.headers["Location"], r.headers["Location"]
        return False
    assert r.status_code == 200, r.status_code
    return True


def test_a_cookie_captured_before_sign_out_is_refused_after_it(app, world):
    user = _with_password(world)
    c = _form_sign_in(app, user)
    saved = _cookie(c)
    assert _signed_in(_replay(app, saved))
    r = c.post("/logout", data={"csrf_token": token(c, "/password")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert not _signed_in(c)
    assert not _signed_in(_replay(app, saved))  # the thief's copy of the cookie is dead too


def test_sign_out_is_post_only_and_needs_the_csrf_token(app, world):
    user = _with_password(world)
    c = _form_sign_in(app, user)
    assert c.get("/logout").status_code == 405  # an <img src=/logout> on any page signs no one out
    assert c.post("/logout").status_code == 400  # no CSRF token
    assert _signed_in(c)
    page = c.get("/admin/").get_data(as_text=True)
    assert re.search(r'<form[^>]+action="/logout"[^>]*method="post"|<form[^>]+method="post"[^>]*action="/logout"',
                     page), "the Sign out item is a small POST form"


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, world):
    user = _with_password(world)
    here, other = _form_sign_in(app, user), _form_sign_in(app, user)
    r = here.post("/password", data={"csrf_token": token(here, "/password"), "current": PASSWORD,
                                     "password": "Another-Long-Pass-77", "confirm": "Another-Long-Pass-77"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert _signed_in(here)
    assert not _signed_in(other)


def test_disabling_a_user_ends_the_users_sessions(app, world, make_client):
    user = _with_password(world)
    victim = _form_sign_in(app, user)
    assert _signed_in(victim, "/password")
    admin = make_client(world.users["admin"])
    r = admin.post("/admin/users/delete/", data={"csrf_token": token(admin), "id": str(user.id)})
    assert r.status_code == 302
    assert not _signed_in(victim, "/password")  # not even the pages any signed-in user may open


def test_an_admin_set_password_ends_the_users_sessions(app, world, make_client):
    user = _with_password(world)
    victim = _form_sign_in(app, user)
    admin = make_client(world.users["admin"])
    page = admin.get(f"/admin/users/edit/?id={user.id}").get_data(as_text=True)
    version = re.search(r'name="lock_version"[^>]*value="([^"]*)"', page)
    data = {"csrf_token": token(admin), "email": user.email, "role": "hr", "organization": str(world.orgA.id),
            "active": "y", "new_password": "Issued-By-Admin-2026"}
    if version:
        data["lock_version"] = version.group(1)
    r = admin.post(f"/admin/users/edit/?id={user.id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert not _signed_in(victim, "/password")


def test_an_idle_session_is_signed_out(app, world):
    user = _with_password(world)
    start = clock.now()
    with clock.frozen_at(start):
        c = _form_sign_in(app, user)
    with clock.frozen_at(start + timedelta(minutes=29)):
        assert _signed_in(c)  # activity moves the idle deadline
    with clock.frozen_at(start + timedelta(minutes=29 + 29)):
        assert _signed_in(c)
    with clock.frozen_at(start + timedelta(minutes=58 + 31)):
        assert not _signed_in(c)


def test_the_idle_timeout_is_configurable(app, world):
    user = _with_password(world)
    start = clock.now()
    app.config["SESSION_IDLE_MINUTES"] = 5
    try:
        with clock.frozen_at(start):
            c = _form_sign_in(app, user)
        with clock.frozen_at(start + timedelta(minutes=6)):
            assert not _signed_in(c)
    finally:
        app.config["SESSION_IDLE_MINUTES"] = 30.0


def test_a_session_ends_after_its_absolute_lifetime(app, world):
    user = _with_password(world)
    start = clock.now()
    with clock.frozen_at(start):
        c = _form_sign_in(app, user)
    t = start
    while t < start + timedelta(hours=11, minutes=40):
        t += timedelta(minutes=20)
        with clock.frozen_at(t):
            assert _signed_in(c, "/password")
    with clock.frozen_at(start + timedelta(hours=12, minutes=1)):
        assert not _signed_in(c, "/password")


def test_each_sign_in_starts_a_new_session_id(app, world):
    user = _with_password(world)
    c = _form_sign_in(app, user)
    first = _cookie(c)
    with c.session_transaction() as s:
        sid1 = s.get("_sid")
    r = c.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token(c)})
    assert r.status_code == 302
    with c.session_transaction() as s:
        sid2 = s.get("_sid")
    assert sid1 and sid2 and sid1 != sid2
    assert _signed_in(c)
    assert not _signed_in(_replay(app, first))  # the session this browser had before is ended


@pytest.mark.parametrize("key", ["_sid", "_seen", "_t0"])
def test_a_session_missing_its_server_side_part_is_not_signed_in(app, world, key):
    user = _with_password(world)
    c = _form_sign_in(app, user)
    with c.session_transaction() as s:
        s.pop(key, None)
    assert not _signed_in(c)
