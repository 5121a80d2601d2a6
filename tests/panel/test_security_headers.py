"""Issue 18, item 6: every page carries the security headers (a CSP without 'unsafe-inline' scripts,
frame-ancestors 'none', nosniff, Referrer-Policy same-origin, Cache-Control no-store), checked over
the menu of each role; every inline script carries the response's nonce and no element has an inline
event handler or a javascript: link that a click would run (both would be CSP violations)."""
from __future__ import annotations

import re

import pytest

from tests.panel.conftest import ROLES

MENU_LINK = re.compile(r'<a[^>]+class="[^"]*(?:nav-link|dropdown-item)[^"]*"[^>]*href="(/admin/[^"#]*)"'
                       r'|<a[^>]+href="(/admin/[^"#]*)"[^>]*class="[^"]*(?:nav-link|dropdown-item)[^"]*"')


def _csp(resp) -> dict:
    policy = resp.headers.get("Content-Security-Policy", "")
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure_headers(resp, url):
    csp = _csp(resp)
    assert csp, f"no CSP on {url}"
    assert "'unsafe-inline'" not in csp.get("script-src", []) and "'unsafe-eval'" not in csp.get("script-src", [])
    assert csp.get("frame-ancestors") == ["'none'"], url
    assert csp.get("object-src") == ["'none'"] and csp.get("base-uri") == ["'self'"], url
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", url
    assert resp.headers.get("Referrer-Policy") == "same-origin", url
    assert resp.headers.get("X-Frame-Options") == "DENY", url
    assert "no-store" in resp.headers.get("Cache-Control", ""), url


def assert_no_inline_code_without_nonce(resp, url):
    body = resp.get_data(as_text=True)
    nonces = [w for w in _csp(resp).get("script-src", []) if w.startswith("'nonce-")]
    nonce = nonces[0][len("'nonce-"):-1] if nonces else None
    for tag in re.findall(r"<script\b[^>]*>", body):
        if "src=" in tag or 'type="application/json"' in tag:
            continue
        assert nonce and f'nonce="{nonce}"' in tag, f"inline script without the nonce on {url}: {tag}"
    handlers = re.findall(r"<[^>]+\son(?:click|change|submit|load|input|keyup|keydown|focus|blur)\s*=", body)
    assert handlers == [], f"inline event handlers on {url}: {handlers[:3]}"


def _menu(client) -> list[str]:
    page = client.get("/admin/").get_data(as_text=True)
    links = {a or b for a, b in MENU_LINK.findall(page)}
    return sorted(u for u in links if "/export/" not in u and "/delete" not in u)


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_of_each_role_carries_the_headers(world, make_client, role):
    c = make_client(world.users[role])
    urls = ["/admin/", "/password", *_menu(c)]
    assert len(urls) >= 4, urls
    for url in urls:
        resp = c.get(url)
        assert resp.status_code in (200, 302), (url, resp.status_code)
        assert_secure_headers(resp, url)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            assert_no_inline_code_without_nonce(resp, url)


def test_worker_pages_forms_and_downloads_carry_the_headers(world, make_client):
    c = make_client(world.users["hr"])
    for url in ("/admin/workers/new/", f"/admin/workers/details/?id={world.wA.id}",
                f"/admin/workers/edit/?id={world.wA.id}", "/admin/workers/export/csv/"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        assert_secure_headers(resp, url)
        if resp.mimetype == "text/html":
            assert_no_inline_code_without_nonce(resp, url)


def test_the_sign_in_page_and_errors_carry_the_headers(client):
    for url, code in (("/login", 200), ("/no-such-page", 404)):
        resp = client.get(url)
        assert resp.status_code == code
        assert_secure_headers(resp, url)


def test_the_nonce_changes_per_response(client):
    a, b = (_csp(client.get("/login")).get("script-src") for _ in range(2))
    assert a != b


def test_static_files_may_be_cached(client):
    resp = client.get("/admin/static/admin/js/helpers.js")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_hsts_in_production_only(client):
    from config import ProductionConfig
    from profreg import create_app

    assert "Strict-Transport-Security" not in client.get("/login").headers
    prod = create_app(type("Prod", (ProductionConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                                         "SECRET_KEY": "s" * 40}))
    resp = prod.test_client().get("/admin/static/admin/js/helpers.js")
    assert "max-age=" in resp.headers.get("Strict-Transport-Security", "")


@pytest.mark.parametrize("name,original,ours", [
    ("admin/model/layout.html", ' onclick="return false;"', ""),
    ("admin/model/row_actions.html",
     """onclick="return faHelpers.safeConfirm('{{ _gettext('Are you sure you want to delete this record?') }}');\"""",
     """data-confirm="{{ _gettext('Are you sure you want to delete this record?') }}\""""),
    ("admin/actions.html", """onclick="return modelActions.execute('{{ p[0] }}');\"""", 'data-model-action="{{ p[0] }}"'),
    ("admin/model/inline_list_base.html", """onclick="faForm.addInlineField(this, '{{ field.id }}');\"""",
     'data-add-inline="{{ field.id }}"'),
])
def test_the_copied_flask_admin_templates_differ_only_by_their_inline_handler(name, original, ours):
    """Our copies shadow Flask-Admin's: an upgrade that changes the originals fails here (copy again)."""
    from pathlib import Path

    import flask_admin

    root = Path(__file__).resolve().parents[2] / "profreg" / "templates"
    theirs = (Path(flask_admin.__file__).parent / "templates" / "bootstrap4" / name).read_text(encoding="utf-8")
    copy = (root / name).read_text(encoding="utf-8")
    body = copy.split("-#}\n", 1)[1]  # our header comment first
    assert original in theirs and body == theirs.replace(original, ours)
