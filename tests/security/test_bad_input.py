"""The bad-input suite (issue 18, item 10): Hypothesis strategies over every panel create and edit form and
every write endpoint of the API (``/api/v1``), posting hostile values — integers of 2^63 and more, negative
numbers, NaN and infinities, control, bidirectional and zero-width characters, very long strings, malformed
and implausible dates, SQL and HTML payloads — into otherwise plausible requests, so that the hostile
value reaches the rules (``<domain>/services.py``) rather than stopping at a missing field.

Every answer must be below 500, and a refused request (the form shown again with errors, any 4xx) must
write nothing: the row count of every table and the number of change entries of the audit trail stay as
they were. The tally (inputs tried, hostile values, server errors, partial writes) is printed at the end
of the run (``tests/security/conftest.py``) and by each test with ``-s``.

Budget: ``BAD_INPUT_FULL=1`` tries 3,500 panel requests and 7,000 API requests (10,500, each carrying one to
three hostile values); the regular test run tries 300 + 500 (every request is a full panel or API request:
on the shared 2-core development machine under load, 0.1-0.5 s each). ``BAD_INPUT_PANEL_EXAMPLES`` /
``BAD_INPUT_API_EXAMPLES`` set either. Examples are derandomized (the same inputs on every run), not stored."""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date

import pytest
from flask_admin.contrib.sqla import ModelView
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from tests.api.conftest import auth
from tests.panel.conftest import parse_form, token

from .tally import TALLY, summary

#: the full run (``BAD_INPUT_FULL=1``): 3,500 + 7,000 = 10,500 requests; the regular run of the suite: 800
FULL = os.environ.get("BAD_INPUT_FULL") == "1"
PANEL_EXAMPLES = int(os.environ.get("BAD_INPUT_PANEL_EXAMPLES", "3500" if FULL else "300"))
API_EXAMPLES = int(os.environ.get("BAD_INPUT_API_EXAMPLES", "7000" if FULL else "500"))
#: the roles whose forms are tried: every create and edit form of the panel is open to one of them
ROLES = ("hr_chief", "ministry", "admin", "region")
#: audit actions that are changes (a refused request may keep a read-log or a failed-search entry)
CHANGE_ACTIONS = ("create", "update", "delete", "block", "unblock")
#: tables a refused request may touch by design: a session's last use, a token's last use
UNCOUNTED = {"user_session", "audit_log"}


# ------------------------------------------------------------------------------------- hostile values

HUGE = st.one_of(st.integers(min_value=2 ** 63 - 1, max_value=2 ** 200),
                 st.integers(min_value=-(2 ** 200), max_value=-(2 ** 63)))
NEGATIVE = st.integers(min_value=-10 ** 6, max_value=-1)
WEIRD_NUMBERS = st.sampled_from(["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "-0", "0x10",
                                 "1_000", "1e-400", "١٢٣", "１２３", "0.000000000000000000001", "+-1", "12,5",
                                 "9" * 400])
CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\u0085", "\r\n", "\t", "\u2028", "\u2029"])
BIDI = st.sampled_from(["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
                        "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u061c"])
PAYLOADS = st.sampled_from([
    "' OR '1'='1", "'; DROP TABLE worker; --", "\" OR 1=1 --", "1; SELECT pg_sleep(0)", "%' AND 1=0 UNION SELECT 1--",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "{{7*7}}", "${7*7}",
    "=cmd|' /C calc'!A0", "@SUM(1+1)", "../../etc/passwd", "%00", "%s%s%s%n", "\\", "NULL", "None", "undefined",
    "[]", "{}", "true", "__None", "0", "-1", "", " ", "   \t  "])
MALFORMED_DATES = st.one_of(
    st.sampled_from(["31.02.2026", "29.02.2025", "00.00.0000", "99.99.9999", "32.01.2026", "01.13.2026",
                     "2026-13-01", "2026-02-30", "0000-01-01", "1.1.1", "01.01.1850", "01.01.1899", "01.01.2999",
                     "31.12.9999", "01.01.10000", "9999-12-31", "-001-01-01", "01/02/2026", "2026.01.01",
                     "today", "01.01.2026T25:61", "١٠.٠١.٢٠٢٦", "1e3", "01.01.-2026"]),
    st.builds(lambda d, m, y: f"{d:02d}.{m:02d}.{y}", st.integers(0, 99), st.integers(0, 99),
              st.integers(-9999, 99999)))
SAFE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
LONG = st.one_of(st.integers(256, 5000).map(lambda n: "Ы" * n), st.integers(256, 5000).map(lambda n: "9" * n),
                 st.text(st.characters(exclude_categories=("Cs",)), min_size=256, max_size=1200))


def _spiked(base):
    """A plausible-looking value with a control or bidirectional character inside."""
    return st.builds(lambda b, c, i: b[:i] + c + b[i:], base, st.one_of(CONTROL, BIDI), st.integers(0, 40))


HOSTILE_TEXT = st.one_of(
    HUGE.map(str), NEGATIVE.map(str), WEIRD_NUMBERS, CONTROL, BIDI, PAYLOADS, MALFORMED_DATES, LONG,
    _spiked(st.sampled_from(["Иванова", "Қасымова", "12345", "01.01.2020", "KZ-1", "test@example.kz"])),
    SAFE_TEXT)


# ---------------------------------------------------------------------------------------- counting

def _snapshot_sql(db) -> tuple[str, list[str]]:
    tables = sorted(t.name for t in db.metadata.sorted_tables if t.name not in UNCOUNTED)
    quote = db.engine.dialect.identifier_preparer.quote
    parts = [f"(SELECT count(*) FROM {quote(t)})" for t in tables]
    actions = ", ".join(f"'{a}'" for a in CHANGE_ACTIONS)
    parts.append(f"(SELECT count(*) FROM audit_log WHERE action IN ({actions}))")
    return "SELECT " + ", ".join(parts), tables + ["audit_log (changes)"]


class Counter:
    """Row counts of every table (and the audit trail's change entries) in one query. ``before()`` is
    the count after the previous request (nothing else writes in between), so a request costs one count."""

    def __init__(self, db):
        self.db = db
        self.sql, self.names = _snapshot_sql(db)
        self.last = None

    def __call__(self) -> tuple:
        self.last = tuple(self.db.session.execute(text(self.sql)).one())
        return self.last

    def before(self) -> tuple:
        return self.last if self.last is not None else self()

    def diff(self, before, after) -> dict:
        return {n: (a, b) for n, a, b in zip(self.names, before, after, strict=True) if a != b}


def _record(surface: str, status: int, hostile: int, refused: bool, changed: dict, what) -> None:
    TALLY["inputs"][surface] += 1
    TALLY["values"] += hostile
    TALLY["statuses"][status] += 1
    if status >= 500:
        TALLY["server_errors"] += 1
        raise AssertionError(f"server error {status} on {what}")
    if refused and changed:
        TALLY["partial_writes"] += 1
        raise AssertionError(f"refused ({status}) but wrote {changed} on {what}")
    if not refused:
        TALLY["accepted"] += 1


def _crashed(surface: str, exc: Exception, what) -> None:
    TALLY["inputs"][surface + " (crashed)"] += 1
    TALLY["server_errors"] += 1
    raise AssertionError(f"server error ({type(exc).__name__}: {str(exc)[:200]}) on {str(what)[:2000]}") from exc


# ----------------------------------------------------------------------------------------- the panel

@dataclass
class Form:
    role: str
    url: str            # the view's base, e.g. /admin/certificates
    targets: list       # "new/" and/or "edit/?id=N"
    data: list          # (name, value) pairs a browser would send (an existing row's values for edit forms)
    selects: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        seen = []
        for name, _v in self.data:
            if name not in seen and name not in ("csrf_token", "version") and not name.endswith("-csrf_token"):
                seen.append(name)
        for name in self.selects:
            if name not in seen:
                seen.append(name)
        return seen


def _discover(app, world, make_client) -> tuple[list[Form], dict]:
    """Every create and edit form of the panel, with a plausible filling: the form of an existing row in
    scope (edit) or the create form's defaults with the first option of each select."""
    views = [v for v in app.extensions["profreg_admin"]._views if isinstance(v, ModelView)]
    clients = {role: make_client(world.users[role]) for role in ROLES}
    forms, seen = [], set()
    for view in views:
        base = view.url.rstrip("/")
        for role in ROLES:
            if base in seen:
                break
            c = clients[role]
            targets, data, selects = [], None, {}
            listing = c.get(base + "/")
            ids = re.findall(r'edit/\?id=(\d+)', listing.get_data(as_text=True)) if listing.status_code == 200 else []
            if ids:
                page = c.get(f"{base}/edit/?id={ids[0]}")
                if page.status_code == 200:
                    parsed = parse_form(page.get_data(as_text=True))
                    targets.append(f"edit/?id={ids[0]}")
                    data, selects = parsed.data, parsed.selects
            page = c.get(f"{base}/new/")
            if page.status_code == 200:
                targets.append("new/")
                if data is None:
                    parsed = parse_form(page.get_data(as_text=True))
                    data, selects = parsed.data, parsed.selects
                    data = [(k, v or _first_option(selects.get(k))) for k, v in data]
            if targets:
                seen.add(base)
                forms.append(Form(role, base, targets, data, selects))
    return forms, clients


def _first_option(options) -> str:
    return next((o for o in options or () if o and o != "__None"), "")


DATEISH = re.compile(r"date|until|issued|_from|_to|birth|since|deadline|valid", re.I)


def _plausible(form: Form, name: str):
    """A value the form would accept for ``name`` (so the hostile value next to it reaches the rules)."""
    existing = [v for k, v in form.data if k == name]
    options = [o for o in form.selects.get(name, ()) if o and o != "__None"]
    choices = [st.just(existing[0])] if existing else []
    if options:
        choices.append(st.sampled_from(options))
    if DATEISH.search(name) and not options:
        choices.append(st.dates(date(1960, 1, 1), date(2030, 12, 31)).map(lambda d: d.strftime("%d.%m.%Y")))
    if not choices:
        choices.append(st.sampled_from(["Тест", "Test 1", "1", "KZ-77"]))
    return st.one_of(*choices)


def _hostile(form: Form, name: str):
    if name in form.selects:
        return st.one_of(HUGE.map(str), NEGATIVE.map(str), st.sampled_from(["abc", "", "__None", "1.5", "0"]),
                         HOSTILE_TEXT)
    if DATEISH.search(name):
        return st.one_of(MALFORMED_DATES, HOSTILE_TEXT)
    return HOSTILE_TEXT


@st.composite
def panel_requests(draw, forms):
    form = draw(st.sampled_from(forms))
    target = draw(st.sampled_from(form.targets))
    names = form.names
    hostile = set(draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True))) \
        if names else set()
    data = []
    for name in names:
        strategy = _hostile(form, name) if name in hostile else _plausible(form, name)
        data.append((name, draw(strategy)))
    data += [(k, v) for k, v in form.data if k == "version"]
    return form, target, data, len(hostile)


def test_hostile_values_in_every_panel_form(app, db, world, make_client):
    forms, clients = _discover(app, world, make_client)
    assert len(forms) >= 20, [f.url for f in forms]  # every model view with a form is found
    tokens = {role: token(c, "/password") for role, c in clients.items()}
    count = Counter(db)
    started = time.perf_counter()

    @settings(max_examples=PANEL_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(panel_requests(forms))
    def one(request):
        form, target, data, hostile = request
        before = count.before()
        c = clients[form.role]
        try:
            resp = c.post(f"{form.url}/{target}", data=MultiDict([*data, ("csrf_token", tokens[form.role])]))
        except Exception as exc:  # the test client re-raises what a served app answers with 500
            _crashed("panel", exc, (form.url, target, data))
        # a success is a redirect to a list, a details or an edit page; the form shown again, or 4xx, refuses
        refused = resp.status_code == 200 or 400 <= resp.status_code < 500
        changed = count.diff(before, count())
        changed = changed if refused else {}
        _record("panel " + ("edit" if target.startswith("edit") else "create"), resp.status_code, hostile,
                refused, changed, (form.url, target, data))

    try:
        one()
    finally:
        TALLY["seconds"] += time.perf_counter() - started
        print("\n" + summary())
    assert TALLY["server_errors"] == 0 and TALLY["partial_writes"] == 0


# ------------------------------------------------------------------------------------------- the API

JSON_HOSTILE = st.one_of(
    HUGE, NEGATIVE, st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([float("nan"), float("inf")]),
    HOSTILE_TEXT, st.none(), st.booleans(),
    st.lists(st.one_of(st.integers(), SAFE_TEXT), max_size=3),
    st.dictionaries(SAFE_TEXT, st.one_of(st.integers(), SAFE_TEXT), max_size=3))
RAW_BODIES = st.sampled_from([b"", b"{", b"null", b"[]", b"\"x\"", b"{\"a\":", b"\xff\xfe", b"{\"iin\": 1e999}",
                              b"{\"x\": NaN}", b"[" * 5000, b"{\"a\":" * 3000 + b"1"])


@dataclass
class Endpoint:
    method: str
    path: str           # with {iin} / {episode} placeholders
    body: dict
    etag: bool = False  # needs If-Match


def _endpoints(world, db) -> list[Endpoint]:
    from profreg.education.models import EducationInstitution

    inst = db.session.query(EducationInstitution).first()
    today = date.today().isoformat()
    register = {"iin": "900101400018", "surname": "Жаңабаева", "name": "Гүлнар", "patronymic": None, "sex": "F",
                "birth_date": "1990-01-01", "birth_place": "Алматы", "citizenship": "KZ",
                "id_document": {"type": "ID_CARD", "number": "041234567", "issuer": "МВД РК", "issued": "2020-01-01"},
                "residence_address": "Астана", "registration_place": "Астана", "registration_date": "2019-01-01",
                "email": "a@b.kz", "phone": "+77011234567",
                "education": [{"level": "SECONDARY", "institution": inst.name, "number": "ТКБ-1",
                               "issue_date": "2010-06-01", "qualification": "медсестра"}],
                "position": "CHIEF_DOCTOR", "specialty": None, "hire_date": today, "fte": 1.0,
                "department": "Терапия", "order_number": "12-к"}
    return [
        Endpoint("POST", "/api/v1/workers", register),
        Endpoint("PATCH", "/api/v1/workers/{iin}", {"email": "x@y.kz", "phone": "+77010000000",
                                                    "residence_address": "Астана"}, etag=True),
        Endpoint("POST", "/api/v1/workers/{other_iin}/episodes",
                 {"surname": world.wB.surname, "birth_date": world.wB.birth_date.isoformat(), "position": "NURSE",
                  "specialty": "NURSING", "hire_date": today, "fte": 0.5, "department": "Хирургия",
                  "order_number": "1", "concurrent": True}),
        Endpoint("POST", "/api/v1/workers/{iin}/episodes/{episode}/end",
                 {"end_date": today, "end_reason": "OWN_WISH"}, etag=True),
        Endpoint("POST", "/api/v1/workers/{iin}/certificates",
                 {"number": "KZ-FUZZ-1", "specialty": "NURSING", "issuer": "НЦНЭ", "issue_date": "2025-01-10",
                  "valid_until": "2030-01-09"}, etag=True),
    ]


def _mutate(draw, value, depth=0):
    """``value`` (a JSON document) with one of its leaves, or itself, replaced by a hostile value."""
    if isinstance(value, dict) and value and depth < 3 and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: _mutate(draw, value[key], depth + 1)}
    if isinstance(value, list) and value and depth < 3 and draw(st.booleans()):
        i = draw(st.integers(0, len(value) - 1))
        return [*value[:i], _mutate(draw, value[i], depth + 1), *value[i + 1:]]
    return draw(JSON_HOSTILE)


@st.composite
def api_requests(draw, endpoints):
    ep = draw(st.sampled_from(endpoints))
    kind = draw(st.sampled_from(["fields", "fields", "fields", "drop", "extra", "raw", "path"]))
    body, raw, path_value, hostile = dict(ep.body), None, None, 1
    if kind == "fields":
        hostile = draw(st.integers(1, 3))
        for _ in range(hostile):
            body = _mutate(draw, body)
    elif kind == "drop":
        body.pop(draw(st.sampled_from(sorted(body))), None)
    elif kind == "extra":
        body[draw(SAFE_TEXT)] = draw(JSON_HOSTILE)
    elif kind == "raw":
        raw = draw(RAW_BODIES)
    else:
        path_value = draw(st.one_of(HUGE.map(str), NEGATIVE.map(str), HOSTILE_TEXT.filter(lambda s: s and "/" not in s
                                                                                           and "?" not in s
                                                                                           and "#" not in s)))
    if raw is None:
        raw = json.dumps(body, ensure_ascii=draw(st.booleans()), allow_nan=True).encode()
    etag = draw(st.one_of(st.just(None), st.just(None), HOSTILE_TEXT)) if ep.etag else None
    return ep, raw, path_value, etag, hostile


def test_hostile_values_in_every_api_write(app, db, world, tokens, make_client):
    from profreg.workers.models import Employment

    endpoints = _endpoints(world, db)
    app.config["API_RATE_LIMIT"] = "1000000/minute"
    client = make_client()
    headers = auth(tokens["hr_chief"])
    episode = db.session.query(Employment).filter(Employment.worker_id == world.wA.id).first().id
    count = Counter(db)
    started = time.perf_counter()

    @settings(max_examples=API_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(api_requests(endpoints))
    def one(request):
        ep, raw, path_value, etag, hostile = request
        iin = path_value if path_value is not None else world.wA.iin
        path = ep.path.format(iin=iin, other_iin=path_value if path_value is not None else world.wB.iin,
                              episode=path_value if path_value is not None and "{iin}" not in ep.path else episode)
        h = dict(headers, **{"Content-Type": "application/json"})
        if ep.etag:
            if etag is None:
                got = client.get(f"/api/v1/workers/{world.wA.iin}", headers=headers)
                etag = got.headers.get("ETag", "")
            # what a client can send in a header: no control characters (the test client refuses them)
            h["If-Match"] = "".join(ch for ch in etag.encode("utf-8", "replace").decode("latin-1")[:2000]
                                    if " " <= ch != "\x7f")
        before = count.before()
        try:
            resp = client.open(path, method=ep.method, data=raw, headers=h)
        except Exception as exc:  # the test client re-raises what a served app answers with 500
            _crashed("api", exc, (ep.method, path, raw[:300], etag))
        refused = 400 <= resp.status_code < 500
        changed = count.diff(before, count())
        changed = changed if refused else {}
        _record("api " + ep.method + " " + ep.path.split("/")[-1], resp.status_code, hostile, refused, changed,
                (ep.method, path, raw[:300], etag))

    try:
        one()
    finally:
        TALLY["seconds"] += time.perf_counter() - started
        app.config["API_RATE_LIMIT"] = "600/minute"
        print("\n" + summary())
    assert TALLY["server_errors"] == 0 and TALLY["partial_writes"] == 0


@pytest.mark.parametrize("surface", ["panel", "api"])
def test_the_suite_tries_what_it_says(surface):
    """The tally is what the tests above tried (run with them: ``pytest tests/security``)."""
    tried = sum(v for k, v in TALLY["inputs"].items() if k.startswith(surface))
    if not tried:
        pytest.skip("run with the fuzz tests above")
    assert tried >= (PANEL_EXAMPLES if surface == "panel" else API_EXAMPLES) * 0.9
