"""profreg/access.py is the one policy module: models declare their resource and scope, one guard
(``require`` / ``requires``), reporting scopes, and no role decisions written elsewhere."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from profreg import access
from profreg.access import Role
from profreg.errors import NotAllowed
from profreg.extensions import db

ROOT = Path(__file__).resolve().parents[1] / "profreg"


def test_every_model_of_a_panel_view_declares_its_resource_and_scope(app):
    from profreg.admin.base import ScopedModelView

    for view in app.extensions["profreg_admin"]._views:
        if isinstance(view, ScopedModelView):
            model = view.model
            assert access.resource_of(model) == view.resource, view.endpoint
            assert access.scope_of(model) in access.SCOPES, view.endpoint
            assert access.resource_of(model) in access.MATRIX[Role.MINISTRY], view.endpoint


def test_a_model_without_a_declaration_is_refused_loudly():
    class Stray:
        pass

    with pytest.raises(TypeError, match="__resource__"):
        access.resource_of(Stray)
    with pytest.raises(TypeError, match="__scope__"):
        access.scope_of(Stray)


def test_the_roles_are_the_matrix_rows_and_the_user_check_constraint():
    from profreg.auth.models import User

    assert set(access.MATRIX) == set(Role)
    check = next(c for c in User.__table__.constraints if getattr(c, "name", "") and c.name.endswith("role"))
    assert set(re.findall(r"'(\w+)'", str(check.sqltext))) == {r.value for r in Role}
    assert Role("hr") is Role.HR and Role.HR == "hr"  # stored as its code


def test_require_checks_the_right_and_the_organization(factory):
    org_a, org_b = factory.org(), factory.org("750000000")
    hr = factory.user("hr", org=org_a)
    access.require(hr, "training_list", access.CREATE, org_id=org_a.id)
    with pytest.raises(NotAllowed):
        access.require(hr, "training_list", access.DELETE)  # hr may not delete lists
    with pytest.raises(NotAllowed):
        access.require(hr, "training_list", access.CREATE, org_id=org_b.id)  # another organization
    ministry = factory.user("ministry")
    with pytest.raises(NotAllowed):
        access.require(ministry, "training_list", access.CREATE, org_id=org_a.id)  # reads only


def test_requires_guards_a_view_with_the_signed_in_user(app, factory):
    from flask_login import login_user

    @access.requires("monitoring", access.SUBMIT)
    def submit():
        return "submitted"

    region = factory.user("region", region=factory.region())
    org_head = factory.user("org_head", org=factory.org())
    with app.test_request_context("/"):
        login_user(region)
        assert submit() == "submitted"
    with app.test_request_context("/"):
        login_user(org_head)
        with pytest.raises(NotAllowed):
            submit()


def test_reporting_scopes(factory):
    r1, r2 = factory.region("710000000"), factory.region("750000000")
    org1, org2 = factory.org("710000000"), factory.org("750000000")
    region = factory.user("region", region=r1)
    head = factory.user("org_head", org=org1)
    hr = factory.user("hr", org=org1)
    ministry = factory.user("ministry")
    allowed = access.report_scope_allowed
    assert allowed(ministry, access.COUNTRY, 0, access.SUBMIT)
    assert allowed(region, access.REGION, r1.id, access.SUBMIT) and not allowed(region, access.REGION, r2.id)
    assert allowed(region, access.ORG, org1.id) and not allowed(region, access.ORG, org2.id)
    assert not allowed(region, access.COUNTRY, 0)
    assert allowed(head, access.ORG, org1.id) and not allowed(head, access.ORG, org1.id, access.SUBMIT)
    assert not allowed(hr, access.ORG, org1.id)  # hr does not read reports
    assert access.default_report_scope(region) == (access.REGION, r1.id)
    assert access.report_regions(ministry) is None and access.report_regions(region) == [r1.id]
    assert access.report_regions(head) == []


def test_cpd_assessment_specialties(factory):
    assoc = factory.user("association", specialties=["NURSING"])
    assert access.cpd_assessment_specialties(assoc) == [s.id for s in assoc.specialties]
    assert access.cpd_assessment_specialties(factory.user("ministry")) is None
    assert access.cpd_assessment_specialties(factory.user("hr", org=factory.org())) == []


def test_no_role_is_decided_outside_the_policy_module():
    """Role codes are compared only in access.py; elsewhere code asks access (or uses ``Role``)."""
    codes = "|".join(r.value for r in Role)
    pattern = re.compile(rf"""role\s*(==|!=|\bin\b|\bnot in\b)\s*[\(\[]?\s*["']({codes})["']""")
    files = [p for p in ROOT.rglob("*.py") if p.name != "access.py"] + list(ROOT.rglob("*.html"))
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in files
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_scoped_rows_of_a_national_resource_need_the_matrix_right(factory):
    from sqlalchemy import func, select

    from profreg.auth.models import User

    admin = factory.user("admin")
    hr = factory.user("hr", org=factory.org())
    count = select(func.count()).select_from(User)
    assert db.session.execute(access.scoped(count, User, admin)).scalar() == 2
    assert db.session.execute(access.scoped(count, User, hr)).scalar() == 0
