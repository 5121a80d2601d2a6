"""403, 404, 405 and 500 answered with a page in the user's language, with a way back; the hidden
fields of a panel form rendered once."""
from __future__ import annotations

import pytest

from tests.panel.conftest import parse_form

KK = {403: "Қол жеткізу мүмкін емес", 404: "Бет табылмады", 405: "Бұл әрекетке мұнда рұқсат жоқ"}
HOME_LINK = 'href="/admin/"'


def test_hr_opening_another_organizations_worker_gets_404_in_kazakh(world, make_client):
    c = make_client(world.users["hr"])
    r = c.get(f"/admin/workers/details/?id={world.wB.id}&lang=kk")
    html = r.get_data(as_text=True)
    assert r.status_code == 404
    assert KK[404] in html and HOME_LINK in html
    assert "Not Found" not in html
    assert "Көрсеткіштер тақтасы" in html  # inside the panel's layout (its menu)


def test_association_opening_the_workers_list_gets_403_in_kazakh(world, make_client):
    c = make_client(world.users["association"])
    r = c.get("/admin/workers/?lang=kk", headers={"Referer": "http://localhost/admin/certificate/"})
    html = r.get_data(as_text=True)
    assert r.status_code == 403
    assert KK[403] in html and HOME_LINK in html
    assert 'href="/admin/certificate/"' in html  # back to the previous page
    assert "Forbidden" not in html


@pytest.mark.parametrize("lang, text", [("kk", KK[404]), ("ru", "Страница не найдена"), ("en", "Page not found")])
def test_unknown_url_is_404_in_the_users_language(world, make_client, lang, text):
    r = make_client(world.users["hr"]).get(f"/no/such/page?lang={lang}")
    assert r.status_code == 404 and text in r.get_data(as_text=True)


def test_anonymous_404_is_a_plain_page_with_a_way_back(client):
    r = client.get("/no/such/page?lang=kk")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and KK[404] in html and HOME_LINK in html and '<html lang="kk">' in html


def test_post_to_a_get_only_endpoint_is_405_in_kazakh(world, make_client):
    r = make_client(world.users["hr"]).post("/?lang=kk")
    assert r.status_code == 405 and KK[405] in r.get_data(as_text=True)
    assert "GET" in r.headers.get("Allow", "")


def test_json_clients_get_json(world, make_client):
    r = make_client(world.users["hr"]).get("/no/such/page", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.is_json and r.get_json()["error"] == 404


def test_500_shows_no_traceback(app, world, make_client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        view = app.view_functions["auth.root"]

        def boom():
            raise RuntimeError("secret traceback detail")

        app.view_functions["auth.root"] = boom
        r = make_client(world.users["hr"]).get("/?lang=kk")
    finally:
        app.view_functions["auth.root"] = view
        app.config["PROPAGATE_EXCEPTIONS"] = None
    html = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "secret traceback detail" not in html and "Traceback" not in html
    assert "Бірдеңе дұрыс болмады" in html and HOME_LINK in html


def test_worker_edit_form_renders_csrf_token_and_lock_version_once(world, make_client):
    html = make_client(world.users["hr"]).get(f"/admin/workers/edit/?id={world.wA.id}").get_data(as_text=True)
    # the form's own hidden fields (the inline sub-forms' templates carry their own csrf input)
    assert html.count('<input id="csrf_token" name="csrf_token"') == 1
    assert html.count('name="lock_version"') == 1
    names = [k for k, _ in parse_form(html).data]
    assert names.count("lock_version") == 1


@pytest.mark.parametrize("lang, title, limit", [
    ("kk", "Файл немесе форма тым үлкен", "10 МБ"), ("ru", "Файл или форма слишком велики", "10 МБ"),
    ("en", "The file or form is too large", "10 MB")])
def test_a_request_too_large_is_413_in_the_users_language(app, world, make_client, lang, title, limit):
    """Issue 18: the 413 of ``MAX_CONTENT_LENGTH`` is a page like the other errors, inside the panel for a
    signed-in user and plain for anybody else, naming the upload limit; nothing is read or saved."""
    cap = app.config["MAX_CONTENT_LENGTH"]
    c = make_client(world.users["hr"])
    r = c.post(f"/admin/workers/new/?lang={lang}", data=b"x" * (cap + 1),
               content_type="application/x-www-form-urlencoded")
    html = r.get_data(as_text=True)
    assert r.status_code == 413 and title in html and limit in html and HOME_LINK in html
    anonymous = make_client()
    r = anonymous.post(f"/login?lang={lang}", data=b"x" * (cap + 1), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and title in r.get_data(as_text=True)
