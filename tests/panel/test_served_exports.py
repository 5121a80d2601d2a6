"""The panel's list exports through a real server (werkzeug in a thread, real sockets, real commits):
the in-process test client shares one context with the test and hid that every list's CSV broke
after its header in a served app (the stream read rows after the request's session was closed)."""
from __future__ import annotations

import csv
import http.cookiejar
import io
import re
import threading
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _browser(base, email):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(f"{base}/login", data)
    return opener


@pytest.mark.commits
def test_csv_exports_hold_every_row_in_a_served_app(db, factory, served, today):
    org = factory.org()
    for n in range(3):
        factory.worker(org, surname=f"Экспортова{n}")
    ministry = factory.user("ministry")
    admin = factory.user("admin")
    db.session.commit()
    opener = _browser(served, ministry.email)
    # organizations: the export reads relationships (unit, region, type) that the list did not load
    for endpoint, at_least in (("organizations", 1), ("workers", 3), ("employment", 3), ("certificates", 0),
                               ("ref_specialties", 10)):
        body = opener.open(f"{served}/admin/{endpoint}/export/csv/").read().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        assert len(rows) - 1 >= at_least, (endpoint, rows[:2])
    users = list(csv.reader(io.StringIO(
        _browser(served, admin.email).open(f"{served}/admin/users/export/csv/").read().decode("utf-8-sig"))))
    assert len(users) - 1 == 2  # the ministry user and the admin
