"""Issue 18, items 2 and 9: every sign-in, refused sign-in, sign-out and two-step event is an audit entry
on the account concerned; account entries (user table changes and sign-in events) are read by the system
administrator only — the ministry, a region or an organization never sees them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from profreg import clock
from tests.conftest import PASSWORD
from tests.panel.conftest import FreshContextClient, token

MOMENT = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
ADDRESS = "198.51.100.77"


@pytest.fixture(autouse=True)
def _clock_and_limits():
    from profreg import extensions

    extensions.limiter.reset()
    clock.set_now(MOMENT)
    yield
    clock.set_now(None)
    extensions.limiter.reset()


def _client(app, ip=ADDRESS):
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    c.environ_base["REMOTE_ADDR"] = ip
    return c


def _entries(db, **where):
    from profreg.audit.models import AuditLog

    db.session.expire_all()
    query = select(AuditLog).order_by(AuditLog.id)
    for key, value in where.items():
        query = query.where(getattr(AuditLog, key) == value)
    return list(db.session.execute(query).scalars())


def _form_token(c, url, prefix):
    import re

    page = c.get(url).get_data(as_text=True)
    return re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _login(c, email, password):
    return c.post("/login", data={"email": email, "password": password, "csrf_token": token(c)})


def test_sign_in_failures_and_sign_out_are_audited(app, db, factory):
    user = factory.user("hr", org=factory.org())
    c = _client(app)
    _login(c, "nobody@nowhere.kz", "Whatever-It-Is-1")
    _login(c, user.email, "Wrong-Password-42")
    assert _login(c, user.email, PASSWORD).status_code == 302
    c.post("/logout", data={"csrf_token": token(c, "/password")})
    failed = _entries(db, action="login_failed")
    assert [(e.user_id, e.record_id, e.detail) for e in failed] == [
        (None, None, f"unknown_email {ADDRESS}"), (user.id, user.id, f"wrong_password {ADDRESS}")]
    assert all(e.table_name == "user" for e in failed)
    assert "nobody@nowhere.kz" not in str([(e.detail, e.changes) for e in failed])  # typed e-mails are not kept
    (login,) = _entries(db, action="login")
    assert (login.user_id, login.record_id, login.detail) == (user.id, user.id, f"password {ADDRESS}")
    (logout,) = _entries(db, action="logout")
    assert (logout.user_id, logout.record_id) == (user.id, user.id)


def test_a_throttled_attempt_and_a_disabled_account_are_audited(app, db, factory, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per minute")
    user = factory.user("hr", org=factory.org())
    c = _client(app)
    for _ in range(3):
        _login(c, user.email, "Wrong-Password-42")
    details = [e.detail for e in _entries(db, action="login_failed")]
    assert details == [f"wrong_password {ADDRESS}"] * 2 + [f"throttled {ADDRESS}"]
    off = factory.user("hr", org=factory.org())
    off.active = False
    db.session.commit()
    _login(_client(app, "198.51.100.78"), off.email, PASSWORD)
    assert _entries(db, action="login_failed", record_id=off.id)[0].detail == "disabled 198.51.100.78"


def test_two_step_events_are_audited(app, db, factory, make_client, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "ministry")
    user = factory.user("ministry")
    c = _client(app)
    _login(c, user.email, PASSWORD)
    c.get("/login/enrol")
    db.session.expire_all()
    secret = db.session.get(type(user), user.id).totp_secret
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(clock.now(), counter_offset=o) for o in (-1, 0, 1)}
    wrong = next(x for x in ("000000", "111111", "222222") if x not in accepted)
    c.post("/login/enrol", data={"code": wrong, "csrf_token": token(c, "/login/enrol")})
    page = c.post("/login/enrol", data={"code": totp.at(clock.now()), "csrf_token": token(c, "/login/enrol")})
    import re

    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", page.get_data(as_text=True))
    c.post("/logout", data={"csrf_token": token(c, "/password")})
    clock.set_now(MOMENT + timedelta(seconds=30))
    c2 = _client(app)
    _login(c2, user.email, PASSWORD)
    c2.post("/login/code", data={"code": totp.at(clock.now()), "csrf_token": token(c2, "/login/code")})
    c2.post("/logout", data={"csrf_token": token(c2, "/password")})
    c3 = _client(app)
    _login(c3, user.email, PASSWORD)
    c3.post("/login/code", data={"code": codes[0], "csrf_token": token(c3, "/login/code")})
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "")
    clock.set_now(MOMENT + timedelta(seconds=90))
    c3.post("/account/two-step/off", data={"off-password": PASSWORD, "off-code": totp.at(clock.now()),
                                           "off-csrf_token": _form_token(c3, "/account/two-step", "off")})
    actions = [(e.action, (e.detail or "").split(" ")[0]) for e in _entries(db, record_id=user.id, table_name="user")
               if e.action not in ("create", "update")]
    assert actions == [
        ("totp_failed", "wrong_code"), ("totp_enrolled", ADDRESS), ("login", "totp"), ("logout", ADDRESS),
        ("totp_verified", ADDRESS), ("login", "totp"), ("logout", ADDRESS),
        ("recovery_used", "left_9"), ("login", "recovery"),
        ("totp_verified", ADDRESS), ("totp_disabled", "by_user")]
    for e in _entries(db, table_name="user"):  # the secret and the codes never reach the trail
        assert secret not in str(e.changes) and all(code not in str(e.changes) for code in codes)


def test_account_entries_are_for_the_administrator_only(app, db, world, make_client):
    """The administrator reads user-account changes and sign-in events, and nothing else of the trail;
    the ministry (and every other role) reads the register's entries but no account entry."""
    from profreg import access
    from profreg.audit.models import AuditLog
    from profreg.auth.passwords import hash_password

    target = world.users["hr"]
    target.password_hash = hash_password(PASSWORD)  # the world's users have none (they sign in directly)
    db.session.commit()
    _login(_client(app), target.email, "Wrong-Password-42")
    assert _login(_client(app), target.email, PASSWORD).status_code == 302
    admin = make_client(world.users["admin"])
    r = admin.post(f"/admin/users/edit/?id={target.id}", data={
        "csrf_token": token(admin, f"/admin/users/edit/?id={target.id}"), "email": "renamed.person@clinic.kz",
        "role": "hr", "organization": str(world.orgA.id), "active": "y"})
    assert r.status_code == 302
    # an entry of the register itself (a worker viewed by the ministry)
    ministry = make_client(world.users["ministry"])
    assert ministry.get(f"/admin/workers/details/?id={world.wA.id}").status_code == 200
    db.session.expire_all()
    accounts = select(AuditLog).where(AuditLog.table_name.in_(access.ACCOUNT_TABLES))
    register = select(AuditLog).where(AuditLog.table_name.notin_(access.ACCOUNT_TABLES))
    seen = {e.action for e in db.session.execute(access.scoped(accounts, AuditLog, world.users["admin"])).scalars()}
    assert {"login_failed", "login", "update"} <= seen
    assert db.session.execute(access.scoped(register, AuditLog, world.users["admin"])).first() is None
    for role in ("ministry", "region", "org_head", "hr_chief", "hr", "association", "integration"):
        assert db.session.execute(access.scoped(accounts, AuditLog, world.users[role])).first() is None, role
    assert db.session.execute(access.scoped(register, AuditLog, world.users["ministry"])).first() is not None
    # the pages: the administrator's audit list shows the sign-ins in words, the ministry's none of them
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "Sign-in refused" in page and "wrong password" in page and "Signed in" in page
    assert "renamed.person@clinic.kz" in page
    mpage = ministry.get("/admin/audit/").get_data(as_text=True)
    assert "wrong password" not in mpage and "renamed.person" not in mpage and "Viewed" in mpage


@pytest.mark.parametrize("lang,words,reason", [("ru", "Вход отклонён", "неверный пароль"),
                                               ("kk", "Кіру қабылданбады", "құпиясөз қате")])
def test_sign_in_events_are_worded_in_the_readers_language(app, db, world, make_client, lang, words, reason):
    target = world.users["hr"]
    _login(_client(app), target.email, "Wrong-Password-42")
    admin = make_client(world.users["admin"])
    page = admin.get(f"/admin/audit/?lang={lang}").get_data(as_text=True)
    assert words in page and f"{reason}, {ADDRESS}" in page
    assert "wrong_password" not in page  # no internal code on the page
