"""Issue 18, item 3: a password, wherever it is set (the password page, the forced first change, the
users panel, ``profreg users create``), has at least 12 characters, is not a common password, does not
contain the e-mail's local part, and the forced change differs from the issued password."""
from __future__ import annotations

import pytest

from profreg.errors import DomainError
from tests.conftest import PASSWORD
from tests.panel.conftest import FreshContextClient, token

WEAK = ["aaaaaaaaaa", "1234567890", "aaaaaaaaaaaa", "123456789012", "Short-1", "qwertyuiopasdfgh",
        "iloveyou1234", "password1234", "1q2w3e4r5t6y"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_by_the_rule(password):
    from profreg.auth.services import validate_new_password

    with pytest.raises(DomainError):
        validate_new_password(password, email="someone@clinic.kz")


def test_the_email_local_part_is_refused():
    from profreg.auth.services import validate_new_password

    with pytest.raises(DomainError):
        validate_new_password("Zhanar.Bekova-2026!", email="zhanar.bekova@clinic.kz")
    with pytest.raises(DomainError):
        validate_new_password("zhanar.bekova@clinic.kz", email="zhanar.bekova@clinic.kz")
    validate_new_password("Steppe-Horse-Lantern", email="zhanar.bekova@clinic.kz")


@pytest.mark.parametrize("password", ["Demo-Register-2026", PASSWORD, "Initial-Pass-123", "E2e-Chosen-Password-77"])
def test_the_project_s_own_passwords_stay_valid(password):
    from profreg.auth.services import validate_new_password
    from profreg.demo.generator import DEMO_USERS

    for email, _role, _scope in DEMO_USERS:
        validate_new_password(password, email=email)


def test_the_common_password_list_is_shipped_and_large():
    from profreg.auth.services import common_passwords

    words = common_passwords()
    assert len(words) >= 2000 and "password1234" in words and "iloveyou" in words


def _errors_of(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_password_page_refuses_a_weak_password(app, world):
    from profreg.auth.passwords import hash_password

    user = world.users["hr"]
    user.password_hash = hash_password(PASSWORD)
    world.db.session.commit()
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    c.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token(c)})
    for weak in ("aaaaaaaaaaaa", "password1234", "hr.1.0-passphrase".replace("hr.1.0", user.email.split("@")[0])):
        r = c.post("/password", data={"csrf_token": token(c, "/password"), "current": PASSWORD,
                                      "password": weak, "confirm": weak})
        assert r.status_code == 200, weak
    world.db.session.expire_all()
    from profreg.auth.passwords import verify_password

    assert verify_password(world.db.session.get(type(user), user.id).password_hash, PASSWORD)


def test_the_forced_change_must_differ_from_the_issued_password(app, world, make_client):
    admin = make_client(world.users["admin"])
    r = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "forced@clinic.kz", "role": "hr",
        "organization": str(world.orgA.id), "active": "y", "new_password": "Issued-By-Admin-2026"})
    assert r.status_code == 302
    c = FreshContextClient(app, app.response_class, use_cookies=True)
    r = c.post("/login", data={"email": "forced@clinic.kz", "password": "Issued-By-Admin-2026", "csrf_token": token(c)})
    assert r.headers["Location"].endswith("/password")
    r = c.post("/password", data={"csrf_token": token(c, "/password"), "current": "Issued-By-Admin-2026",
                                  "password": "Issued-By-Admin-2026", "confirm": "Issued-By-Admin-2026"})
    assert r.status_code == 200 and "differ" in r.get_data(as_text=True)
    r = c.post("/password", data={"csrf_token": token(c, "/password"), "current": "Issued-By-Admin-2026",
                                  "password": "My-Own-Choice-2026", "confirm": "My-Own-Choice-2026"})
    assert r.status_code == 302


def test_the_users_panel_refuses_a_weak_password(world, make_client):
    admin = make_client(world.users["admin"])
    r = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "weak@clinic.kz", "role": "hr",
        "organization": str(world.orgA.id), "active": "y", "new_password": "1234567890"})
    assert r.status_code == 200 and "12 characters" in r.get_data(as_text=True)


def test_the_cli_refuses_a_weak_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["profreg", "users", "create", "--email", "cli@clinic.kz", "--role", "ministry",
                                 "--password", "password1234"])
    assert result.exit_code != 0
    from sqlalchemy import select

    from profreg.auth.models import User

    assert db.session.execute(select(User).where(User.email == "cli@clinic.kz")).first() is None
