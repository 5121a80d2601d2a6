"""API tokens (issue 17, item 1): made by the CLI (printed once, stored hashed) or in the panel,
listed and revoked in the panel (one's own; admin any), and the only way into the API: no token, a
revoked or expired one, or the session cookie alone → 401 with a JSON problem. Rate limits per token."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from profreg import clock
from profreg.api.models import ApiToken
from profreg.api.services import create_token
from tests.api.conftest import auth
from tests.panel.conftest import sign_in, token


def test_cli_prints_the_token_last_and_stores_only_its_hash(app, world, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["profreg", "api-token", "create", "--email", world.users["integration"].email,
                                 "--name", "МИС Дамумед", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("prf_") and len(raw) > 40
    row = db.session.execute(select(ApiToken).where(ApiToken.name == "МИС Дамумед")).scalar_one()
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in (row.token_hash, row.prefix)
    assert row.user_id == world.users["integration"].id
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)
    # an unknown e-mail: a one-line error, no token
    bad = runner.invoke(args=["profreg", "api-token", "create", "--email", "nobody@x.kz"])
    assert bad.exit_code == 1 and "No active user" in bad.output


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body


def test_no_token_unknown_revoked_or_expired_is_401(client, world, tokens, db):
    _problem(client.get("/api/v1/workers"), 401)
    _problem(client.get("/api/v1/workers", headers=auth("prf_nonsense")), 401)
    assert client.get("/api/v1/workers", headers=auth(tokens["ministry"])).status_code == 200
    row, raw = create_token(world.users["ministry"], "short", 1)
    db.session.commit()
    assert client.get("/api/v1/workers", headers=auth(raw)).status_code == 200
    with clock.frozen_at(clock.utcnow_naive() + timedelta(days=2)):
        body = _problem(client.get("/api/v1/workers", headers=auth(raw, **{"Accept-Language": "en"})), 401)
    assert "expired" in body["detail"]
    row.revoked_at = clock.utcnow_naive()
    db.session.commit()
    assert "revoked" in _problem(client.get("/api/v1/workers", headers=auth(raw, **{"Accept-Language": "en"})),
                                 401)["detail"]
    # the answer follows Accept-Language
    assert "отозван" in _problem(client.get("/api/v1/workers", headers=auth(raw, **{"Accept-Language": "ru"})),
                                 401)["detail"]
    r = client.get("/fhir/Practitioner")
    assert r.status_code == 401 and r.get_json(force=True)["resourceType"] == "OperationOutcome"


def test_the_session_cookie_does_not_open_the_api(client, world):
    sign_in(client, world.users["ministry"])
    assert client.get("/admin/").status_code == 200
    _problem(client.get("/api/v1/workers"), 401)
    # and the API sets no session cookie
    assert "Set-Cookie" not in client.get("/api/v1/workers").headers


def test_writes_need_no_csrf_token_but_a_bearer_token(client, world, tokens):
    r = client.patch(f"/api/v1/workers/{world.wA.iin}", json={"phone": "+77010000000"}, headers=auth(tokens["hr"]))
    assert r.status_code == 422  # If-Match is missing: a rule, not a CSRF refusal (400)
    assert r.get_json(force=True)["errors"][0]["field"] == "If-Match"


def test_rate_limit_per_token_answers_429_with_retry_after(app, client, world, tokens):
    app.config["API_RATE_LIMIT"] = "3/minute"
    try:
        answers = [client.get("/api/v1/organizations", headers=auth(tokens["ministry"])) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert "Retry-After" not in answers[0].headers and answers[0].headers["X-RateLimit-Remaining"] == "2"
        r = client.get("/api/v1/organizations", headers=auth(tokens["ministry"]))
        body = _problem(r, 429)
        assert int(r.headers["Retry-After"]) >= 1 and body["title"]
        # another token has its own budget
        assert client.get("/api/v1/organizations", headers=auth(tokens["region"])).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = "600/minute"
        from profreg.extensions import limiter

        limiter.reset()


def test_panel_lists_own_tokens_and_revokes_them_admin_sees_all(client, world, tokens, db):
    sign_in(client, world.users["hr"])
    page = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "hr test" in page and "ministry test" not in page
    mine = db.session.execute(select(ApiToken).where(ApiToken.name == "hr test")).scalar_one()
    other = db.session.execute(select(ApiToken).where(ApiToken.name == "ministry test")).scalar_one()
    csrf = token(client, "/admin/api-tokens/")
    # another user's token: not found for hr (nothing revoked)
    client.post(f"/admin/api-tokens/{other.id}/revoke/", data={"csrf_token": csrf})
    db.session.expire_all()
    assert db.session.get(ApiToken, other.id).revoked_at is None
    client.post(f"/admin/api-tokens/{mine.id}/revoke/", data={"csrf_token": csrf})
    db.session.expire_all()
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    assert client.get("/api/v1/workers", headers=auth(tokens["hr"])).status_code == 401
    # a new token from the panel is shown once and works
    page = client.post("/admin/api-tokens/create/", data={"csrf_token": csrf, "name": "HRIS", "expires_days": "5"})
    import re

    raw = re.search(r'id="new-token">([^<]+)<', page.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/workers", headers=auth(raw)).status_code == 200
    # admin: every user's tokens, and revokes any
    sign_in(client, world.users["admin"])
    page = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "ministry test" in page and "HRIS" in page
    client.post(f"/admin/api-tokens/{other.id}/revoke/", data={"csrf_token": token(client, "/admin/api-tokens/")})
    db.session.expire_all()
    assert db.session.get(ApiToken, other.id).revoked_at is not None


@pytest.mark.parametrize("role", ["integration"])
def test_integration_reaches_only_admission_and_fhir(client, world, tokens, role):
    h = auth(tokens[role])
    assert client.get(f"/api/v1/admission?iin={world.wB.iin}&specialty=NURSING", headers=h).status_code == 200
    assert client.get(f"/fhir/Practitioner?identifier={world.wB.iin}", headers=h).status_code == 200
    for url in ("/api/v1/workers", f"/api/v1/workers/{world.wB.iin}", "/api/v1/organizations", "/api/v1/changes"):
        assert client.get(url, headers=h).status_code in (403, 404), url
    r = client.post(f"/api/v1/workers/{world.wB.iin}/certificates", headers=h,
                    json={"number": "X-1", "specialty": "NURSING", "issue_date": "2024-01-01"})
    assert r.status_code in (403, 404)
    # and no panel page of worker data
    sign_in(client, world.users["integration"])
    assert client.get("/admin/workers/").status_code == 403


def test_unknown_api_addresses_answer_in_the_api_s_format(client, tokens):
    r = client.get("/api/v1/nothing/here", headers=auth(tokens["ministry"]))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.get("/fhir/Patient", headers=auth(tokens["ministry"]))
    assert r.status_code == 404 and r.get_json(force=True)["resourceType"] == "OperationOutcome"
