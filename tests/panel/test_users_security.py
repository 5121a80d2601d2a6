"""User management by admin, association read-only masked views, dashboards, and security basics
(CSRF, lockout, hashed passwords, cookie flags)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from profreg.auth.models import User
from profreg.workers.models import Employment
from tests.conftest import PASSWORD
from tests.panel.conftest import token


def _errors(resp):
    body = resp.get_data(as_text=True)
    return re.findall(r"text-danger[^>]*>\s*<li>([^<]*)", body) + re.findall(
        r'alert-danger[^>]*>\s*<button[^>]*>[^<]*</button>\s*([^<]*)', body)


def test_admin_creates_a_user_who_must_change_the_password(world, make_client, client):
    db = world.db
    admin = make_client(world.users["admin"])
    page = admin.get("/admin/users/new/").get_data(as_text=True)
    assert "password_hash" not in page and 'name="new_password"' in page
    resp = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "New.HR@Clinic.kz", "full_name": "Новый кадровик", "role": "hr",
        "organization": str(world.orgA.id), "active": "y", "new_password": "Initial-Pass-123"})
    assert resp.status_code == 302, _errors(resp)
    db.session.expire_all()
    user = db.session.execute(select(User).where(User.email == "new.hr@clinic.kz")).scalar_one()
    assert user.must_change_password and user.organization_id == world.orgA.id and user.region_id is None
    assert user.password_hash.startswith("$argon2id$") and "Initial-Pass-123" not in user.password_hash
    for url in ("/admin/users/", f"/admin/users/details/?id={user.id}", f"/admin/users/edit/?id={user.id}",
                "/admin/users/export/csv/"):
        body = admin.get(url).get_data(as_text=True)
        assert "$argon2" not in body and "password_hash" not in body, url
    # first sign-in: forced to change the password
    page = client.get("/login")
    tok = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post("/login", data={"email": "new.hr@clinic.kz", "password": "Initial-Pass-123", "csrf_token": tok})
    assert r.status_code == 302 and r.headers["Location"].endswith("/password")
    assert client.get("/admin/workers/").headers["Location"].endswith("/password")


def test_admin_role_scope_is_checked_and_users_are_disabled_not_deleted(world, make_client):
    db = world.db
    admin = make_client(world.users["admin"])
    resp = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "noorg@x.kz", "role": "hr_chief", "active": "y",
        "new_password": "Initial-Pass-123"})
    assert resp.status_code == 200 and "needs an organization" in " ".join(_errors(resp))
    resp = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "assoc@x.kz", "role": "association", "active": "y",
        "new_password": "Initial-Pass-123"})
    assert resp.status_code == 200 and "at least one specialty" in " ".join(_errors(resp))
    target = world.users["hr"]
    resp = admin.post("/admin/users/delete/", data={"csrf_token": token(admin), "id": str(target.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).active is False
    # a disabled account loses access at once
    from tests.panel.conftest import sign_in

    assert sign_in(make_client(), db.session.get(User, target.id)).get("/admin/workers/").status_code == 302


def test_association_sees_masked_records_of_its_specialties_only(world, make_client):
    c = make_client(world.users["association"])
    html = c.get("/admin/certificates/").get_data(as_text=True)
    assert "•" * 8 + world.wA.iin[-4:] in html
    for w in (world.wA, world.wA2, world.wB):
        assert w.iin not in html
    for ep in ("certificates", "cpd", "education", "qualifications"):
        body = c.get(f"/admin/{ep}/").get_data(as_text=True)
        assert c.get(f"/admin/{ep}/").status_code == 200
        assert world.wA.iin not in body and "Сарыарка" not in body
        export = c.get(f"/admin/{ep}/export/csv/")
        assert export.status_code in (200, 403) and world.wA.iin not in export.get_data(as_text=True)
    for ep in ("workers", "employment", "documents", "degrees", "titles", "publications", "audit"):
        assert c.get(f"/admin/{ep}/").status_code == 403, ep


def test_dashboard_counts_per_role(world, make_client, today):
    db, f = world.db, world.factory
    f.worker(world.orgA, surname="Истекова", certificate_until=today + timedelta(days=20))
    blocked = f.worker(world.orgA, surname="Блокова", certificate_until=today - timedelta(days=20))
    blocked.status = "blocked"
    late = f.worker(world.orgA, surname="Опозданова", hire=today - timedelta(days=10),
                    entered_at=datetime.combine(today, datetime.min.time()))
    f.worker(world.orgA, surname="Вовремя", hire=today - timedelta(days=2),
             entered_at=datetime.combine(today, datetime.min.time()))
    f.worker(world.orgB, surname="Ушедшая", hire=date(2019, 1, 10), end=today - timedelta(days=40))  # departed
    f.worker(None, surname="Безработная")  # in the register, never employed
    db.session.commit()
    assert db.session.execute(select(Employment).where(Employment.worker_id == late.id)).scalar_one()

    def cards(role):
        html = make_client(world.users[role]).get("/admin/").get_data(as_text=True)
        tiles = re.findall(r'<a class="card dashboard-tile.*?</a>', html, re.S)
        labels = [re.search(r'<div class="small text-muted">([^<]+)</div>', t).group(1) for t in tiles]
        values = [re.sub(r"<[^>]+>", "", re.search(r'dashboard-value[^>]*>(.*?)</div>', t, re.S).group(1)).strip()
                  for t in tiles]
        return dict(zip(labels, values, strict=True))

    hr = cards("hr_chief")
    assert hr["Active workers"] == "4" and hr["Blocked workers"] == "1"
    assert hr["Certificates expiring within 2 months"] == "1"
    assert hr["Hires entered late this year (after 3 working days)"] == "1"
    ministry = cards("ministry")  # workers in post: the departed and the never employed are not counted
    assert ministry["Active workers"] == "6" and ministry["Blocked workers"] == "1"
    admin = cards("admin")
    assert "Active workers" not in admin and admin["Active users"] == "10"  # one per role of the world, and a district coordinator
    assoc = cards("association")
    assert "Active workers" not in assoc and assoc["Certificates expiring within 2 months"] == "1"  # NURSING


# --- security -----------------------------------------------------------------------------------------

def test_post_without_csrf_token_is_refused(world, make_client):
    c = make_client(world.users["hr_chief"])
    assert c.post("/admin/workers/delete/", data={"id": str(world.wA.id)}).status_code == 400
    assert c.post("/admin/workers/new/", data={"iin": "1"}).status_code == 400
    assert c.post("/login", data={"email": "x@y.kz", "password": "z"}).status_code == 400
    world.db.session.expire_all()
    assert world.db.session.get(type(world.wA), world.wA.id) is not None


def test_ten_wrong_passwords_lock_nothing(client, factory):
    """Issue 18: the 15-minute lockout after 10 failures was a weapon (anyone could lock any known
    account). Failures now slow down the address making them (tests/panel/test_security_signin.py)."""
    user = factory.user("hr_chief", org=factory.org())
    page = client.get("/login")
    tok = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    for _ in range(10):
        r = client.post("/login", data={"email": user.email, "password": "wrong-password", "csrf_token": tok})
        assert r.status_code == 200 and "locked" not in r.get_data(as_text=True)
    factory.db.session.expire_all()
    assert factory.db.session.get(User, user.id).locked_until is None


def test_passwords_are_hashed_and_session_cookie_is_httponly_samesite(client, factory):
    user = factory.user("ministry")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    page = client.get("/login")
    tok = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 302
    cookies = [v for k, v in r.headers.items() if k.lower() == "set-cookie" and v.startswith("session=")]
    assert cookies and "HttpOnly" in cookies[-1] and "SameSite=Lax" in cookies[-1]


def test_production_cookies_are_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
