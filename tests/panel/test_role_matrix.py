"""The role × view × action matrix, built from the registry of admin views.

For every model view and every role: list, details, edit (GET and POST), create (GET, dropdowns, a
crafted POST for a foreign worker / organization), delete, bulk delete, CSV export, ajax lookups and
ajax/update, against rows inside and outside the role's scope. The expected visibility comes from an
independent oracle below (plain Python over the world), not from ``profreg.access``; so do the expected
rights: the matrix table of docs/roles.md (``tests/panel/roles_doc.py``), which a test here holds
equal to ``access.MATRIX`` cell by cell. A view added later is covered without a new test; a view
that does not derive from the scoped base classes fails.
"""
from __future__ import annotations

import csv
import io
import re

import pytest
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import inspect, select
from werkzeug.datastructures import MultiDict

from profreg import access
from profreg.admin.base import ProtectedMixin, ScopedModelView
from tests.panel.conftest import ROLES, SCOPED_USERS, add_records, matrix_role, parse_form, sign_in, token
from tests.panel.roles_doc import DOCUMENTED, RULE_4_5_MODELS


def _views(app):
    return app.extensions["profreg_admin"]._views


def test_every_view_derives_from_the_protected_bases(app):
    bad = []
    for view in _views(app):
        if isinstance(view, ModelView):
            if not isinstance(view, ScopedModelView):
                bad.append(f"{view.endpoint}: ModelView not deriving from ScopedModelView")
        elif isinstance(view, BaseView) and not isinstance(view, ProtectedMixin):
            bad.append(f"{view.endpoint}: BaseView not deriving from ProtectedBaseView")
    assert not bad, bad


def test_scoped_base_view_methods_are_not_overridden_unsafely(app):
    """A view may extend the scoped read paths but must still go through access (checked by
    calling them below in the matrix); here: no view turns on inline list editing or fast mass delete."""
    for view in _views(app):
        if isinstance(view, ScopedModelView):
            assert not view.column_editable_list, view.endpoint
            assert not view.fast_mass_delete, view.endpoint


# --- the oracle --------------------------------------------------------------------------------------

def _current_orgs(worker, today):
    return [e.organization for e in worker.employments if e.end_date is None or e.end_date >= today]


def _district_orgs(world):
    return {o.id for o in (world.orgA, world.orgA2, world.orgB) if o.district_id == world.D1.id}


def visible(world, role, resource, obj, today) -> bool:
    """Independent statement of the scope rules (DESIGN.md roles; "district": a region coordinator
    limited to district D1 sees what the region coordinator sees, within D1's organizations)."""
    user = world.users[role]
    if role == "district":
        if resource == "audit":
            if not visible(world, "region", resource, obj, today):
                return False
            mine = _district_orgs(world)
            return obj.organization_id in mine or obj.actor_organization_id in mine or obj.user_id == user.id
        if resource in ("organization", "staffing"):
            org = obj if resource == "organization" else obj.organization
            return org.region_id == world.R1.id and org.district_id == world.D1.id
        if resource in ("reference", "user") or not visible(world, "region", resource, obj, today):
            return visible(world, "region", resource, obj, today)
        worker = obj if type(obj).__name__ == "Worker" else obj.worker
        return any(o.district_id == world.D1.id for o in _current_orgs(worker, today))
    rights = DOCUMENTED[role].get(resource, frozenset())
    if not ({"list", "details"} & rights):
        return False
    if resource in ("reference", "user"):
        return True
    if resource in ("organization", "staffing"):
        org = obj if resource == "organization" else obj.organization
        if role in ("ministry", "admin"):
            return True
        if role == "region":
            return org.region_id == world.R1.id
        return org.id == world.orgA.id
    if resource == "audit":
        # entries about user accounts (changes, sign-in events): the system administrator's, and only those
        # are (issue 18)
        account = obj.table_name in ("user", "user_specialty", "user_session")
        if role == "admin":
            return account
        if account:
            return False
        if role == "ministry":
            return True
        if role == "region":
            return obj.region_id == world.R1.id
        return obj.organization_id == world.orgA.id
    worker = obj if type(obj).__name__ == "Worker" else obj.worker
    if role == "ministry":
        return True
    if role == "region":
        return any(o.region_id == world.R1.id for o in _current_orgs(worker, today))
    if role in ("org_head", "hr_chief", "hr"):
        return any(o.id == world.orgA.id for o in _current_orgs(worker, today))
    if role == "association":
        if resource != "worker_record" or type(obj).__name__ not in RULE_4_5_MODELS:
            return False
        specs = {s.id for s in user.specialties}
        return any(c.specialty_id in specs for c in worker.certificates)
    return False


def view_open(role, view) -> bool:
    role = matrix_role(role)
    rights = DOCUMENTED[role].get(view.resource, frozenset())
    if not ({"list", "details"} & rights):
        return False
    if role == "association" and view.resource == "worker_record":
        return view.model.__name__ in RULE_4_5_MODELS
    return True


def right(role, view, action) -> bool:
    return view_open(role, view) and action in DOCUMENTED[matrix_role(role)].get(view.resource, frozenset())


def documented_narrowing(view, role, action) -> bool:
    """The narrowings of the matrix in place, as the docs state them. Any other difference between a
    view and the documented matrix, wider or narrower, is a failure: a right wrongly removed from
    ``access.MATRIX`` is caught like one wrongly added."""
    from profreg.reference.models import ReferenceMixin

    # docs/roles.md: "reference rows are retired (`is_active`), not deleted"
    if view.resource == "reference" and issubclass(view.model, ReferenceMixin) and action == "delete":
        return True
    return False


def effective(app, world, role, view, action, fail) -> bool:
    """The documented matrix right, narrowed by the view only where the docs say so (reference rows
    are retired, never deleted; ...). Widening the matrix, or narrowing it otherwise, is a failure."""
    from flask_login import login_user

    spec = right(role, view, action)
    with app.app_context(), app.test_request_context():
        login_user(world.users[role])
        flag = bool(getattr(view, f"can_{action}"))
    if flag and not spec and view_open(role, view):
        fail(f"view allows {action} beyond the role matrix")
    if spec and not flag and not documented_narrowing(view, role, action):
        fail(f"view refuses {action} that the role matrix grants (not a documented narrowing)")
    return spec and flag


# --- spare rows for the delete checks -----------------------------------------------------------------

_spare_n = [0]


def spare(world, view, role):
    """A fresh row of the view's model inside the role's scope (None when we cannot build one)."""
    from datetime import timedelta

    from profreg import clock
    from profreg.reference.models import ReferenceMixin

    f, db, model = world.factory, world.db, view.model
    _spare_n[0] += 1
    n = _spare_n[0]
    name = model.__name__
    obj = None
    if name == "Worker":
        obj = f.worker(world.orgA, surname=f"Запасова{n}")
    elif name == "Employment":
        obj = f.employment(world.wA, world.orgA, position="NURSE", hire=clock.today() - timedelta(days=10))
    elif name == "Certificate":
        obj = f.certificate(world.wA, valid_until=clock.today() + timedelta(days=100))
    elif name in ("EducationDocument", "AcademicDegree", "AcademicTitle", "QualificationCategory", "Publication",
                  "CpdRecord", "PersonnelDocument"):
        obj = next(r for r in add_records(f, db, world.wA, "NURSING") if type(r).__name__ == name)
    elif name == "StaffingPosition":
        from decimal import Decimal

        from profreg.reference.models import Position
        obj = model(organization=world.orgA, position=f.ref(Position, "DOCTOR"), approved_fte=Decimal("1"))
    elif name == "Organization":
        obj = f.org("710000000")
    elif name == "User":
        from profreg.auth.models import User
        obj = User(email=f"spare{n}@test.kz", role="ministry", password_hash="x")
    elif name == "EducationInstitution":
        from profreg.reference.models import Country
        obj = model(name=f"Колледж {n}", country=f.ref(Country, "KZ"))
    elif issubclass(model, ReferenceMixin):
        obj = model(code=f"SPARE{n}", name_kk=f"Қосалқы {n}", name_ru=f"Запас {n}", name_en=f"Spare {n}")
    else:
        return None
    db.session.add(obj)
    db.session.commit()
    return obj


# --- helpers -----------------------------------------------------------------------------------------

def _ids_in_list(html, endpoint):
    return {int(x) for x in re.findall(rf"/admin/{endpoint}/details/\?id=(\d+)", html)}


def _snapshot(db, obj):
    model = type(obj)
    pk = inspect(obj).identity[0]
    db.session.expire_all()
    row = db.session.get(model, pk)
    if row is None:
        return None
    return {c.key: getattr(row, c.key) for c in inspect(model).column_attrs}


def _rows(db, model):
    db.session.expire_all()
    return db.session.execute(select(model)).scalars().all()


REL_CHECK = ("worker", "organization")


def check_view(app, world, view, role, client, fails):
    from profreg import clock

    db = world.db
    today = clock.today()
    ep = view.endpoint
    base = f"/admin/{ep}"
    opened = view_open(role, view)

    def fail(msg):
        fails.append(f"[{ep} × {role}] {msg}")

    resp = client.get(f"{base}/?page_size=100")
    if not opened:
        if resp.status_code != 403:
            fail(f"list should be 403, got {resp.status_code}")
        for url in (f"{base}/details/?id=1", f"{base}/new/", f"{base}/edit/?id=1", f"{base}/export/csv/"):
            r = client.get(url)
            if r.status_code != 403:
                fail(f"GET {url} should be 403, got {r.status_code}")
        tok = token(client)
        r = client.post(f"{base}/delete/", data={"id": "1", "csrf_token": tok})
        if r.status_code != 403:
            fail(f"POST delete should be 403, got {r.status_code}")
        return

    if resp.status_code != 200:
        fail(f"list should be 200, got {resp.status_code}")
        return
    rows = _rows(db, view.model)
    vis = {r.id for r in rows if visible(world, role, view.resource, r, today)}
    hidden = [r for r in rows if r.id not in vis]
    shown = _ids_in_list(resp.get_data(as_text=True), ep)
    if len(vis) <= 100 and shown != vis:
        fail(f"list shows {sorted(shown)}, expected {sorted(vis)}")
    elif len(vis) > 100 and not (shown <= vis and len(shown) == 100):
        fail(f"first page shows foreign rows {sorted(shown - vis)} or not 100 rows")
    inside = next((r for r in rows if r.id in vis), None)
    outside = hidden[0] if hidden else None

    # details
    if inside is not None:
        r = client.get(f"{base}/details/?id={inside.id}")
        if r.status_code != 200:
            fail(f"details of an inside row should be 200, got {r.status_code}")
    for o in hidden:
        r = client.get(f"{base}/details/?id={o.id}")
        if r.status_code != 404:
            fail(f"details of foreign row {o.id} should be 404, got {r.status_code}")

    tok = token(client)
    # edit
    can_edit = effective(app, world, role, view, "edit", fail)
    inside_form = None
    if inside is not None:
        r = client.get(f"{base}/edit/?id={inside.id}")
        want = 200 if can_edit else 302
        if r.status_code != want:
            fail(f"edit GET inside should be {want}, got {r.status_code}")
        if can_edit and r.status_code == 200:
            inside_form = parse_form(r.get_data(as_text=True))
            for name, options in inside_form.selects.items():
                _check_options(world, role, view, name, options, today, fail)
            before = _snapshot(db, inside)
            r2 = client.post(f"{base}/edit/?id={inside.id}", data=MultiDict(inside_form.data))
            if r2.status_code != 302:
                body = r2.get_data(as_text=True)
                errs = re.findall(r'text-danger[^>]*>\s*<li>([^<]*)', body) + re.findall(
                    r'alert-danger[^>]*>\s*<button[^>]*>[^<]*</button>\s*([^<]*)', body)
                fail(f"edit POST of unchanged inside row should save (302), got {r2.status_code}: {errs[:4]}")
            elif _snapshot(db, inside) is None:
                fail("inside row vanished after edit")
            del before
    if outside is not None:
        before = _snapshot(db, outside)
        r = client.get(f"{base}/edit/?id={outside.id}")
        want = 404 if can_edit else 302
        if r.status_code != want:
            fail(f"edit GET of foreign row should be {want}, got {r.status_code}")
        data = list(inside_form.data) if inside_form else [("csrf_token", tok)]
        r = client.post(f"{base}/edit/?id={outside.id}", data=MultiDict(data))
        if r.status_code != want:
            fail(f"edit POST of foreign row should be {want}, got {r.status_code}")
        if _snapshot(db, outside) != before:
            fail("foreign row changed by edit POST")
        # ajax/update is never allowed
        r = client.post(f"{base}/ajax/update/", data={"list_form_pk": str(outside.id), "csrf_token": tok})
        if r.status_code not in (403, 404):
            fail(f"ajax/update should be refused, got {r.status_code}")
        if _snapshot(db, outside) != before:
            fail("foreign row changed by ajax/update")

    # create
    can_create = effective(app, world, role, view, "create", fail)
    r = client.get(f"{base}/new/")
    want = 200 if can_create else 302
    if r.status_code != want:
        fail(f"create GET should be {want}, got {r.status_code}")
    if can_create and r.status_code == 200:
        form = parse_form(r.get_data(as_text=True))
        for name, options in form.selects.items():
            _check_options(world, role, view, name, options, today, fail)
        if inside_form is not None and outside is not None:
            for rel in REL_CHECK:
                foreign_id = getattr(outside, f"{rel}_id", None)
                if foreign_id is None or not any(k == rel for k, _ in inside_form.data):
                    continue
                col = getattr(view.model, f"{rel}_id")
                def count(col=col, foreign_id=foreign_id):
                    return db.session.execute(select(view.model.id).where(col == foreign_id)).all()
                db.session.expire_all()
                before_n = len(count())
                data = [(k, str(foreign_id) if k == rel else v) for k, v in inside_form.data
                        if k not in ("id",)]
                client.post(f"{base}/new/", data=MultiDict(data))
                db.session.expire_all()
                if len(count()) != before_n:
                    fail(f"create with a foreign {rel} ({foreign_id}) added a row")

    # delete (foreign refused; inside spare deleted when allowed)
    can_delete = effective(app, world, role, view, "delete", fail)
    for o in hidden[:2]:
        before = _snapshot(db, o)
        r = client.post(f"{base}/delete/", data={"id": str(o.id), "csrf_token": tok})
        want = 404 if can_delete else 302
        if r.status_code != want:
            fail(f"delete of foreign row should be {want}, got {r.status_code}")
        r = client.post(f"{base}/action/", data={"action": "delete", "rowid": str(o.id), "csrf_token": tok})
        if _snapshot(db, o) is None:
            fail("foreign row deleted")
        elif _snapshot(db, o) != before:
            fail("foreign row changed by delete/action")
    if can_delete:
        s = spare(world, view, role)
        if s is not None:
            if not visible(world, role, view.resource, s, today):
                fail("spare row is not inside the scope (test world problem)")
            r = client.post(f"{base}/delete/", data={"id": str(s.id), "csrf_token": tok})
            if r.status_code != 302 or (_snapshot(db, s) is not None and view.model.__name__ != "User"):
                fail(f"delete of an inside row should work, got {r.status_code}")

    # export
    n = len(_rows(db, view.model))
    vis_now = {x.id for x in _rows(db, view.model) if visible(world, role, view.resource, x, today)}
    r = client.get(f"{base}/export/csv/")
    if effective(app, world, role, view, "export", fail):
        if r.status_code != 200:
            fail(f"export should be 200, got {r.status_code}")
        else:
            lines = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
            if len(lines) - 1 != len(vis_now):
                fail(f"export has {len(lines) - 1} rows, expected {len(vis_now)} of {n}")
    elif r.status_code != 403:  # refused like every other action without the right (not a redirect)
        fail(f"export should be refused (403), got {r.status_code}")

    # ajax lookups
    for name, loader in (view._form_ajax_refs or {}).items():
        r = client.get(f"{base}/ajax/lookup/?name={name}&query=&limit=100")
        if r.status_code != 200:
            fail(f"ajax lookup {name} should be 200, got {r.status_code}")
            continue
        remote = loader.model
        res = access.resource_of(remote)
        got = {int(i) for i, _ in r.get_json()}
        allowed = {x.id for x in _rows(db, remote) if visible(world, role, res, x, today)}
        if not got <= allowed:
            fail(f"ajax lookup {name} returned foreign ids {sorted(got - allowed)}")
        if remote.__name__ == "Worker" and world.wA.id in allowed and world.wA.id not in got:
            fail(f"ajax lookup {name} misses an inside worker")


def _check_options(world, role, view, name, options, today, fail):
    prop = getattr(view.model, name, None)
    mapper = getattr(getattr(prop, "property", None), "mapper", None)
    if mapper is None:
        return
    remote = mapper.class_
    res = access.resource_of(remote)
    if res == "reference":
        return
    ids = {int(o) for o in options if o and o != "__None" and o.isdigit()}
    rows = {x.id: x for x in _rows(world.db, remote)}
    bad = [i for i in ids if i in rows and not visible(world, role, res, rows[i], today)]
    if bad:
        fail(f"dropdown {name} offers foreign rows {bad}")


@pytest.mark.parametrize("role", SCOPED_USERS)
def test_role_matrix(app, world, make_client, role):
    fails: list[str] = []
    client = make_client(world.users[role])
    for view in _views(app):
        if isinstance(view, ScopedModelView):
            check_view(app, world, view, role, client, fails)
    assert not fails, "\n".join(fails)


def test_anonymous_is_sent_to_login_everywhere(app, world, make_client):
    client = make_client()
    for view in _views(app):
        url = view.url.rstrip("/") + "/"
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], (view.endpoint, r.status_code)


@pytest.mark.parametrize("role", SCOPED_USERS)
def test_custom_views_follow_their_roles(app, world, make_client, role):
    """Views that are not model views (reports, jobs, ...) declare the ``resource`` that opens them."""
    client = make_client(world.users[role])
    fails = []
    for view in _views(app):
        if isinstance(view, ModelView):
            continue
        allowed = (
            view.resource is None
            or bool({"list", "details"} & DOCUMENTED[matrix_role(role)].get(view.resource, frozenset())))
        r = client.get(view.url.rstrip("/") + "/")
        if allowed and r.status_code != 200:
            fails.append(f"{view.endpoint}: {role} should get 200, got {r.status_code}")
        if not allowed and r.status_code != 403:
            fails.append(f"{view.endpoint}: {role} should get 403, got {r.status_code}")
    assert not fails, fails


def test_the_documented_matrix_is_the_code_matrix():
    """docs/roles.md and ``access.MATRIX`` agree cell by cell (a change is made in both or fails here),
    and so do the association's record models."""
    assert set(DOCUMENTED) == set(ROLES) == set(access.MATRIX)
    differ = []
    for role in ROLES:
        for resource in sorted(set(DOCUMENTED[role]) | set(access.MATRIX[role])):
            doc, code = DOCUMENTED[role].get(resource), access.MATRIX[role].get(resource)
            if doc is None or code is None or set(doc) != set(code):
                differ.append(f"{resource} × {role}: docs {sorted(doc) if doc is not None else 'missing'}, "
                              f"code {sorted(code) if code is not None else 'missing'}")
    assert not differ, "\n".join(differ)
    from profreg import models

    declared = {name for name in dir(models) if getattr(getattr(models, name), "__cpd_evidence__", False)}
    assert declared == RULE_4_5_MODELS


def test_the_docs_table_is_read_as_written():
    """The parser: a few cells spelled out (letters, the dash, the custom resources)."""
    assert DOCUMENTED["hr"]["worker"] == {"list", "details", "create", "edit", "export", "correct", "confirm"}
    assert DOCUMENTED["region"]["monitoring"] == {"list", "details", "create", "export", "submit"}
    assert DOCUMENTED["org_head"]["training_list"] == {"list", "details", "export", "approve"}
    assert DOCUMENTED["association"]["worker"] == frozenset()
    assert DOCUMENTED["admin"]["user"] == {"list", "details", "create", "edit", "delete", "export"}


def _view(app, endpoint):
    return next(v for v in _views(app) if isinstance(v, ScopedModelView) and v.endpoint == endpoint)


@pytest.mark.parametrize("role,resource,change,expect", [
    ("hr", "worker", lambda rights: rights | {"delete"}, "delete"),  # a right the docs do not grant
    ("region", "worker", lambda rights: rights - {"export"}, "refuses export"),  # one they do
])
def test_a_wrong_cell_in_the_code_fails_the_matrix_check(app, world, make_client, monkeypatch, role, resource,
                                                         change, expect):
    """The check is not vacuous: one cell of ``access.MATRIX`` changed, the role-matrix check of that
    role on the workers view reports it."""
    view = _view(app, "workers")
    assert view.resource == resource
    fails: list[str] = []
    check_view(app, world, view, role, make_client(world.users[role]), fails)
    assert not fails, fails
    monkeypatch.setitem(access.MATRIX[role], resource, frozenset(change(access.MATRIX[role][resource])))
    check_view(app, world, view, role, make_client(world.users[role]), fails)
    assert any(expect in f for f in fails), fails


def test_matrix_check_fails_for_an_unscoped_view(app, world, make_client):
    """The matrix check itself catches a view that forgets scoping (a guard against a vacuous test)."""
    from profreg.extensions import db
    from profreg.workers.models import Worker

    class LeakyWorkerView(ScopedModelView):
        column_list = ("surname",)

        def get_query(self):
            return db.session.query(Worker)

        def get_count_query(self):
            from sqlalchemy import func
            return db.session.query(func.count(Worker.id))

        def get_one(self, id):
            return db.session.get(Worker, int(id))

    from profreg import create_app
    from tests.panel.conftest import FreshContextClient

    probe = create_app(dict(app.config))
    view = LeakyWorkerView(Worker, name="Leaky", endpoint="leaky_workers_probe")
    probe.extensions["profreg_admin"].add_view(view)
    fails: list[str] = []
    client = sign_in(FreshContextClient(probe, probe.response_class, use_cookies=True), world.users["hr"])
    check_view(probe, world, view, "hr", client, fails)
    assert any("list shows" in f for f in fails) and any("should be 404" in f for f in fails), fails
