"""Issue 18, item 2: two-factor sign-in (TOTP, RFC 6238) with real codes computed by pyotp.

Roles listed in ``TOTP_REQUIRED_ROLES`` enrol at their first sign-in (QR code, first code, recovery
codes shown once); every other user may enrol from the account page; an enrolled user's sign-in asks for
a code after the password; recovery codes are good once, a code is good once; refusals say the same
and are throttled; ``profreg users create --totp-secret`` provisions it for automation. The clock is the
injectable one (``profreg.clock``), so the codes are those of a known moment."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from profreg import clock
from tests.conftest import PASSWORD
from tests.panel.conftest import FreshContextClient, token

MOMENT = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
REFUSED = "Invalid code."


@pytest.fixture(autouse=True)
def _clock_and_limits():
    from profreg import extensions

    extensions.limiter.reset()
    clock.set_now(MOMENT)
    yield
    clock.set_now(None)
    extensions.limiter.reset()


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "admin,ministry,region")


def _client(app, ip="198.51.100.1"):
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    c.environ_base["REMOTE_ADDR"] = ip
    return c


def _password(c, user, password=PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return c.post(url, data={"email": user.email, "password": password, "csrf_token": token(c)})


def _code_page_token(c, url):
    return token(c, url)


def _form_token(c, url, prefix):
    """The CSRF token of the form whose fields carry ``prefix`` (two forms on the account page)."""
    page = c.get(url).get_data(as_text=True)
    m = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert m, f"no {prefix} form on {url}"
    return m.group(1)


def _post_code(c, code, url="/login/code"):
    return c.post(url, data={"code": code, "csrf_token": _code_page_token(c, url)})


def _alerts(resp) -> str:
    return " ".join(m.strip() for m in re.findall(r'alert-danger[^>]*>\s*([^<]+)', resp.get_data(as_text=True)))


def _reload(db, user):
    db.session.expire_all()
    return db.session.get(type(user), user.id)


def _code(secret, moment=None, offset=0):
    return pyotp.TOTP(secret).at(moment or clock.now(), counter_offset=offset)


def _wrong(secret) -> str:
    """A 6-digit code that is none of the codes accepted now (the current step and one either side)."""
    accepted = {_code(secret, offset=o) for o in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def _enrolled(db, user):
    """A user enrolled through the service (the flow itself is tested below); returns the secret."""
    from profreg.auth.services import provision_totp

    secret = pyotp.random_base32(32)
    provision_totp(user, secret)
    db.session.commit()
    return secret


def _signed_in(c) -> bool:
    r = c.get("/admin/")
    return r.status_code == 200 and "/login" not in r.headers.get("Location", "")


def test_a_required_role_enrols_at_first_sign_in_with_a_qr_code_and_recovery_codes(app, db, factory, required):
    user = factory.user("ministry")
    c = _client(app)
    r = _password(c, user, next_url="/admin/workers/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/enrol")
    assert not _signed_in(c)  # the password alone does not sign in
    page = c.get("/login/enrol")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in body  # the QR code: an image, no script (CSP)
    secret = _reload(db, user).totp_secret
    assert secret and " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in body
    assert "<script>" not in body.replace("<script nonce", "")
    refused = _post_code(c, _wrong(secret), "/login/enrol")
    assert refused.status_code == 200 and REFUSED in refused.get_data(as_text=True)
    assert not _reload(db, user).totp_enabled
    r = _post_code(c, _code(secret), "/login/enrol")
    assert r.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", r.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/admin/workers/"' in r.get_data(as_text=True)  # then on to where the user was going
    assert _signed_in(c)
    stored = _reload(db, user)
    assert stored.totp_enabled and len(stored.totp_recovery) == 10
    assert not any(code in str(stored.totp_recovery) or code.replace("-", "") in str(stored.totp_recovery)
                   for code in codes)  # hashed, never in clear


def test_the_demo_configuration_requires_no_second_step(app, factory):
    assert not app.config.get("TOTP_REQUIRED_ROLES")
    user = factory.user("ministry")
    c = _client(app)
    r = _password(c, user)
    assert r.status_code == 302 and "/login" not in r.headers["Location"]
    assert _signed_in(c)


def test_production_requires_it_for_admin_ministry_and_region():
    from config import ProductionConfig
    from profreg.access import Role, totp_roles

    assert totp_roles({"TOTP_REQUIRED_ROLES": ProductionConfig.TOTP_REQUIRED_ROLES}) == {
        Role.ADMIN, Role.MINISTRY, Role.REGION}
    with pytest.raises(ValueError):
        totp_roles({"TOTP_REQUIRED_ROLES": "admin,minstry"})  # a misspelt role fails loudly


def test_an_enrolled_user_signs_in_with_a_code_once_and_only_once(app, db, factory):
    user = factory.user("hr_chief", org=factory.org())
    secret = _enrolled(db, user)
    c = _client(app)
    r = _password(c, user)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/code")
    assert not _signed_in(c)
    wrong = _post_code(c, _wrong(secret))
    assert wrong.status_code == 200 and REFUSED in _alerts(wrong)
    code = _code(secret)
    r = _post_code(c, code)
    assert r.status_code == 302 and "/login" not in r.headers["Location"]
    assert _signed_in(c)
    # the same code, in another sign-in within its 30 seconds, is refused (replay)
    other = _client(app, "198.51.100.2")
    _password(other, user)
    replay = _post_code(other, code)
    assert replay.status_code == 200 and REFUSED in _alerts(replay) and not _signed_in(other)
    # the next step's code works (one step of clock drift is tolerated)
    clock.set_now(MOMENT + timedelta(seconds=30))
    assert _post_code(other, _code(secret)).status_code == 302
    assert _signed_in(other)


def test_codes_of_other_times_are_refused(app, db, factory):
    user = factory.user("hr", org=factory.org())
    secret = _enrolled(db, user)
    c = _client(app)
    _password(c, user)
    for offset in (-3, -2, 2, 3):
        code = _code(secret, offset=offset)
        if code == _code(secret) or code in (_code(secret, offset=-1), _code(secret, offset=1)):
            continue
        assert REFUSED in _alerts(_post_code(c, code))
    assert not _signed_in(c)


def test_a_recovery_code_signs_in_once(app, db, factory, required):
    user = factory.user("ministry")
    c = _client(app)
    _password(c, user)
    assert c.get("/login/enrol").status_code == 200  # enrol through the page to get real recovery codes
    secret = _reload(db, user).totp_secret
    page = _post_code(c, _code(secret), "/login/enrol")
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", page.get_data(as_text=True))
    assert len(codes) == 10
    c.post("/logout", data={"csrf_token": token(c, "/password")})
    assert not _signed_in(c)
    fresh = _client(app, "198.51.100.3")
    _password(fresh, user)
    r = _post_code(fresh, codes[3].upper())  # case and dash do not matter
    assert r.status_code == 302 and _signed_in(fresh)
    assert len(_reload(db, user).totp_recovery) == 9
    again = _client(app, "198.51.100.4")
    _password(again, user)
    assert REFUSED in _alerts(_post_code(again, codes[3]))
    assert not _signed_in(again)


def test_wrong_codes_are_throttled_with_the_same_answer_and_timing(app, db, factory, monkeypatch):
    import statistics
    import time

    monkeypatch.setitem(app.config, "TOTP_LIMIT_PER_ACCOUNT", "5 per minute")
    user = factory.user("hr", org=factory.org())
    secret = _enrolled(db, user)
    c = _client(app)
    _password(c, user)
    tok = _code_page_token(c, "/login/code")
    wrong = _wrong(secret)

    def attempt(code):
        t0 = time.perf_counter()
        r = c.post("/login/code", data={"code": code, "csrf_token": tok})
        return r, (time.perf_counter() - t0) * 1000

    answers = [attempt(wrong) for _ in range(5)]
    assert all(r.status_code == 200 and REFUSED in _alerts(r) for r, _ms in answers)
    wrong_ms = statistics.median(ms for _r, ms in answers)
    # throttled: even the right code is refused, with the same page and message
    r, _ms = attempt(_code(secret))
    assert r.status_code == 200 and _alerts(r) == _alerts(answers[0][0])
    throttled_ms = statistics.median(attempt(wrong)[1] for _ in range(5))
    assert abs(throttled_ms - wrong_ms) < 50, (wrong_ms, throttled_ms)
    assert not _signed_in(c)
    # the limit is per account (the password is known to whoever is here): another address too
    other = _client(app, "203.0.113.99")
    _password(other, user)
    assert REFUSED in _alerts(_post_code(other, _code(secret)))


def test_the_second_step_expires(app, db, factory):
    user = factory.user("hr", org=factory.org())
    secret = _enrolled(db, user)
    c = _client(app)
    _password(c, user)
    tok = token(c, "/login/code")
    clock.set_now(MOMENT + timedelta(minutes=6))
    r = c.post("/login/code", data={"code": _code(secret), "csrf_token": tok})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert not _signed_in(c)


def test_the_second_step_cannot_be_skipped(app, db, factory):
    user = factory.user("hr", org=factory.org())
    _enrolled(db, user)
    c = _client(app)
    _password(c, user)
    for url in ("/admin/", "/admin/workers/", "/password", "/account/two-step"):
        r = c.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_optional_enrolment_from_the_account_page_and_turning_it_off(app, db, factory, make_client):
    user = factory.user("hr", org=factory.org())
    c = make_client(user)
    page = c.get("/account/two-step")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.get_data(as_text=True)
    secret = _reload(db, user).totp_secret
    r = _post_code(c, _code(secret), "/account/two-step")
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", r.get_data(as_text=True))
    assert len(codes) == 10 and _reload(db, user).totp_enabled
    # from now on the sign-in asks for a code
    other = _client(app)
    assert _password(other, user).headers["Location"].endswith("/login/code")
    # off: current password and a current code (not the one just used)
    clock.set_now(MOMENT + timedelta(seconds=60))
    tok = _form_token(c, "/account/two-step", "off")
    r = c.post("/account/two-step/off", data={"off-password": PASSWORD, "off-code": _code(secret), "off-csrf_token": tok})
    assert r.status_code == 302
    stored = _reload(db, user)
    assert not stored.totp_enabled and stored.totp_secret is None and stored.totp_recovery is None
    assert _password(_client(app, "198.51.100.9"), user).headers["Location"].endswith("/admin/")


def test_new_recovery_codes_replace_the_old_ones(app, db, factory, make_client):
    user = factory.user("hr", org=factory.org())
    secret = _enrolled(db, user)
    c = make_client(user)
    tok = _form_token(c, "/account/two-step", "codes")
    r = c.post("/account/two-step/recovery-codes", data={"codes-code": _code(secret), "codes-csrf_token": tok})
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", r.get_data(as_text=True))
    assert r.status_code == 200 and len(codes) == 10
    assert len(_reload(db, user).totp_recovery) == 10


def test_a_required_role_cannot_turn_it_off_but_an_administrator_can_reset_it(app, db, factory, make_client,
                                                                               required, world):
    from profreg.auth.passwords import hash_password

    user = world.users["region"]
    user.password_hash = hash_password(PASSWORD)  # the world's users have none (they sign in directly)
    secret = _enrolled(db, user)
    c = make_client(user)
    page = c.get("/account/two-step").get_data(as_text=True)
    assert "/account/two-step/off" not in page
    clock.set_now(MOMENT + timedelta(seconds=60))
    c.post("/account/two-step/off", data={"off-password": PASSWORD, "off-code": _code(secret),
                                          "off-csrf_token": token(c, "/password")})
    assert _reload(db, user).totp_enabled
    admin = world.users["admin"]
    _enrolled(db, admin)
    a = make_client(admin)
    r = a.post(f"/admin/users/edit/?id={user.id}", data={
        "csrf_token": token(a, f"/admin/users/edit/?id={user.id}"), "email": user.email, "role": "region",
        "region": str(user.region_id), "active": "y", "reset_two_step": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    assert _reload(db, user).totp_secret is None
    # the next sign-in enrols again
    assert _password(_client(app), user).headers["Location"].endswith("/login/enrol")


def test_users_create_provisions_a_totp_secret(app, db):
    from profreg.auth.models import User

    secret = pyotp.random_base32(32)
    result = app.test_cli_runner().invoke(args=[
        "profreg", "users", "create", "--email", "automation@ministry.kz", "--role", "ministry",
        "--password", "Robot-Register-2026!", "--totp-secret", secret])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "automation@ministry.kz")).scalar_one()
    assert user.totp_enabled and user.totp_secret == secret
    c = _client(app)
    r = _password(c, user, password="Robot-Register-2026!")
    assert r.headers["Location"].endswith("/login/code")
    assert _post_code(c, _code(secret)).status_code == 302
    assert c.get("/admin/").headers.get("Location", "").endswith("/password")  # signed in; must change it


@pytest.mark.parametrize("bad", ["not base32!", "ABCDEFGH", "0O1I" * 8])
def test_users_create_refuses_a_bad_totp_secret(app, db, bad):
    from profreg.auth.models import User

    result = app.test_cli_runner().invoke(args=[
        "profreg", "users", "create", "--email", "automation2@ministry.kz", "--role", "ministry",
        "--password", "Robot-Register-2026!", "--totp-secret", bad])
    assert result.exit_code != 0
    assert db.session.execute(select(User).where(User.email == "automation2@ministry.kz")).first() is None


def test_the_secrets_never_reach_the_audit_trail_or_the_users_panel(app, db, factory, world, make_client):
    from profreg.audit.models import AuditLog

    user = world.users["hr"]
    secret = _enrolled(db, user)
    for entry in db.session.execute(select(AuditLog).where(AuditLog.table_name == "user")).scalars():
        assert secret not in str(entry.changes) and secret not in str(entry.detail)
    a = make_client(world.users["admin"])
    for url in (f"/admin/users/details/?id={user.id}", "/admin/users/", f"/admin/users/edit/?id={user.id}",
                "/admin/users/export/csv/"):
        r = a.get(url)
        assert r.status_code == 200, url
        assert secret not in r.get_data(as_text=True), url
