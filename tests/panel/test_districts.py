"""District coordinators and district breakdowns in the panel (issue 20, item 5; rule 4.1).

The world (tests/panel/conftest.py): region R1 with orgA in district D1 and orgA2 in district D2, R2 with
orgB (no district); ``world.users["district"]`` is a ``region`` user of R1 limited to D1. The policy is
``profreg/access.py`` alone; these tests read its answers and the served pages.
"""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg import access
from profreg.errors import DomainError
from profreg.extensions import db
from profreg.orgs.models import Organization
from profreg.workers.models import Worker
from tests.panel.conftest import parse_form

IDS = re.compile(r"/details/\?id=(\d+)")


def _ids(model, user):
    return set(db.session.execute(access.scoped(select(model.id), model, user)).scalars())


def _listed(client, endpoint, **args) -> set[int]:
    page = client.get(f"/admin/{endpoint}/", query_string={"page_size": 100, **args})
    assert page.status_code == 200, (endpoint, page.status_code)
    return {int(x) for x in IDS.findall(page.get_data(as_text=True))}


def _filter_index(app, endpoint, label) -> int:
    view = next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == endpoint)
    with app.test_request_context(), force_locale("en"):
        return next(i for i, f in enumerate(view.column_filters) if str(f.name) == label)


# ------------------------------------------------------------------------------------------ the policy
def test_a_district_coordinator_sees_only_the_districts_organizations_and_workers(world):
    district, region = world.users["district"], world.users["region"]
    assert _ids(Organization, district) == {world.orgA.id}
    assert _ids(Organization, region) == {world.orgA.id, world.orgA2.id}
    assert _ids(Worker, district) == {world.wA.id}
    assert _ids(Worker, region) == {world.wA.id, world.wA2.id}
    assert access.in_scope(world.wA, district) and not access.in_scope(world.wA2, district)
    assert access.org_in_scope(district, world.orgA.id) and not access.org_in_scope(district, world.orgA2.id)
    # the records of the worker follow him (education, certificates, episodes ...)
    from profreg.certificates.models import Certificate
    from profreg.workers.models import Employment

    certs = _ids(Certificate, district)
    assert certs and all(db.session.get(Certificate, i).worker_id == world.wA.id for i in certs)
    assert {db.session.get(Employment, i).organization_id for i in _ids(Employment, district)} == {world.orgA.id}


def test_a_district_coordinators_scope_is_inside_the_regions(world):
    """Every row a district coordinator reads, the coordinator of the whole region reads too."""
    from profreg.audit.models import AuditLog
    from profreg.education.models import EducationDocument

    district, region = world.users["district"], world.users["region"]
    for model in (Worker, Organization, EducationDocument, AuditLog):
        assert _ids(model, district) <= _ids(model, region), model.__name__
    assert _ids(AuditLog, district) < _ids(AuditLog, region)


def test_reporting_scopes_of_a_district_coordinator(world, factory):
    district, region = world.users["district"], world.users["region"]
    d1, d2 = world.D1.id, world.D2.id
    other = factory.district("751110000")  # a district of the other region (Almaty)
    assert access.default_report_scope(district) == (access.DISTRICT, d1)
    assert access.report_scope_allowed(district, access.DISTRICT, d1, access.SUBMIT)
    assert not access.report_scope_allowed(district, access.DISTRICT, d2)
    assert not access.report_scope_allowed(district, access.REGION, world.R1.id)  # not the whole region
    assert access.report_scope_allowed(district, access.ORG, world.orgA.id)
    assert not access.report_scope_allowed(district, access.ORG, world.orgA2.id)
    assert access.report_regions(district) == []
    # the coordinator of the whole region reads any district of his region, none of another
    assert access.report_scope_allowed(region, access.DISTRICT, d2)
    assert not access.report_scope_allowed(region, access.DISTRICT, other.id)
    assert access.report_scope_allowed(world.users["ministry"], access.DISTRICT, other.id)
    assert not access.report_scope_allowed(world.users["hr"], access.DISTRICT, d1)


def test_a_district_coordinator_corrects_only_workers_of_the_district(world):
    from profreg.education.models import EducationDocument

    district = world.users["district"]
    doc_a = db.session.execute(select(EducationDocument).where(EducationDocument.worker_id == world.wA.id)).scalar()
    doc_a2 = db.session.execute(select(EducationDocument).where(EducationDocument.worker_id == world.wA2.id)).scalar()
    assert access.may_correct_record(district, doc_a)
    assert not access.may_correct_record(district, doc_a2)
    assert access.correctable_ids(district, [doc_a, doc_a2]) == {doc_a.id}
    assert access.may_correct_record(world.users["region"], doc_a2)


# --------------------------------------------------------------------------------------- the pages
def test_the_district_coordinators_lists_and_cards(world, make_client):
    c = make_client(world.users["district"])
    assert _listed(c, "workers") == {world.wA.id}
    assert _listed(c, "organizations") == {world.orgA.id}
    assert c.get(f"/admin/workers/details/?id={world.wA.id}").status_code == 200
    assert c.get(f"/admin/workers/details/?id={world.wA2.id}").status_code == 404
    assert c.get(f"/admin/organizations/details/?id={world.orgA2.id}").status_code == 404


def test_the_district_coordinators_monthly_report_is_the_districts(world, make_client, today):
    c = make_client(world.users["district"])
    page = c.get("/admin/monitoring/", query_string={"period": "2026-10"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Almaty District" in html and f'value="district:{world.D1.id}"' in html
    assert c.get("/admin/monitoring/", query_string={"period": "2026-10",
                                                     "scope": f"region:{world.R1.id}"}).status_code == 403
    assert c.get("/admin/monitoring/", query_string={"period": "2026-10",
                                                     "scope": f"district:{world.D2.id}"}).status_code == 403
    # the region's coordinator picks any of its districts and sees the district lines of his report
    r = make_client(world.users["region"])
    page = r.get("/admin/monitoring/", query_string={"period": "2026-10", "live": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="district:{world.D2.id}"' in html
    assert ">District<" in html


def test_the_data_currency_and_charts_break_down_by_district(world, make_client, today):
    r = make_client(world.users["region"])
    page = r.get("/admin/data-currency/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ranking of districts" in html
    assert "Almaty District" in html and "Esil District" in html
    charts = r.get("/admin/charts/").get_data(as_text=True)
    assert "Headcount by district" in charts
    d = make_client(world.users["district"])
    html = d.get("/admin/data-currency/").get_data(as_text=True)
    assert "Ranking of districts" in html and "Esil District" not in html
    assert world.orgA2.bin not in html and world.orgA.bin in html


def test_the_district_filters_of_the_lists(app, world, make_client):
    region = make_client(world.users["region"])
    i = _filter_index(app, "organizations", "District")
    assert _listed(region, "organizations", **{f"flt0_{i}": world.D2.id}) == {world.orgA2.id}
    i = _filter_index(app, "workers", "District")
    assert _listed(region, "workers", **{f"flt0_{i}": world.D1.id}) == {world.wA.id}
    # a district outside the reader's scope filters to nothing, never to foreign rows
    district = make_client(world.users["district"])
    assert _listed(district, "workers", **{f"flt0_{i}": world.D2.id}) == set()


# ---------------------------------------------------------------------------------- the forms
def test_the_organization_form_offers_the_districts_of_its_region_only(world, make_client):
    c = make_client(world.users["ministry"])
    page = c.get(f"/admin/organizations/edit/?id={world.orgA.id}")
    assert page.status_code == 200
    form = parse_form(page.get_data(as_text=True))
    from profreg.reference.models import AdminUnit

    offered = {int(v) for v in form.selects["district"] if v.isdigit()}
    units = {u.id: u for u in db.session.execute(select(AdminUnit).where(AdminUnit.id.in_(offered))).scalars()}
    assert world.D1.id in offered and world.D2.id in offered
    assert offered and all(u.parent_id == world.R1.id and u.level == 2 for u in units.values())
    assert len(offered) == 6  # Astana's six city districts (Saraishyk since KATO NK RK 11-2025)


def test_a_district_of_another_region_is_refused_and_nothing_changes(world, make_client, factory):
    c = make_client(world.users["ministry"])
    page = c.get(f"/admin/organizations/edit/?id={world.orgA2.id}")
    data = [(k, v) for k, v in parse_form(page.get_data(as_text=True)).data if k != "district"]
    # orgA2's unit is the region itself: the district is the form's; one of Almaty's is not in the list
    foreign = factory.district("751110000")
    r = c.post(f"/admin/organizations/edit/?id={world.orgA2.id}", data=MultiDict([*data, ("district", str(foreign.id))]))
    assert r.status_code == 200  # the form again, with the error under the field
    assert "Choose a district of the organization" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organization, world.orgA2.id).district_id == world.D2.id
    # its own region's district is taken
    r = c.post(f"/admin/organizations/edit/?id={world.orgA2.id}", data=MultiDict([*data, ("district", str(world.D1.id))]))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, world.orgA2.id).district_id == world.D1.id


def test_the_district_follows_a_unit_that_is_a_district(world, factory):
    from profreg.orgs.services import set_region

    org = factory.org("710000000")
    org.unit = world.D2
    set_region(org)
    assert org.region.code == "710000000" and org.district is world.D2
    org2 = factory.org("710000000")
    org2.district = factory.district("751110000")  # Almaty's district for an Astana organization
    with pytest.raises(DomainError):
        set_region(org2)
    db.session.rollback()


def test_a_region_user_may_be_limited_to_a_district_of_his_region_only(world, factory):
    from profreg.auth.services import create_user, prepare_user

    u = factory.user("region", region=world.R1, district=world.D2)
    assert u.district_id == world.D2.id and access.default_report_scope(u) == (access.DISTRICT, world.D2.id)
    with pytest.raises(DomainError):
        create_user("wrong-district@test.kz", "region", "Pa55word-long-enough!", region=world.R1,
                    district=factory.district("751110000"))
    db.session.rollback()
    # a user who stops being a region coordinator loses the district
    u = db.session.get(type(u), u.id)
    u.role = "ministry"
    prepare_user(u, new_password=None, is_created=False)
    assert u.district_id is None and u.region_id is None
    db.session.rollback()
