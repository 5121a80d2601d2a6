"""Filters on every list a user works with (issue 15, item 3): each filter gives exactly the expected rows,
never a row outside the reader's scope; options are named in the reader's language, in its alphabet's
order; the association's CPD assessment finds a member by name and (whole) IIN."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from profreg.access import ACCOUNT_TABLES
from profreg.audit.models import AuditLog
from profreg.certificates.models import Certificate
from profreg.documents.models import PersonnelDocument
from profreg.education.models import EducationDocument, QualificationCategory
from profreg.extensions import db
from profreg.orgs.models import StaffingPosition
from profreg.reference import models as r
from profreg.training.models import CpdRecord
from profreg.workers.models import Employment, sort_key

IDS = re.compile(r"/details/\?id=(\d+)")


def _view(app, endpoint):
    return next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == endpoint)


def _index(app, endpoint, label, op=None) -> int:
    """The position of a filter in the view's list (the ``flt0_<i>`` argument)."""
    with app.test_request_context(), force_locale("en"):
        for i, f in enumerate(_view(app, endpoint).column_filters):
            if str(f.name) == label and (op is None or str(f.operation()) == op):
                return i
    raise AssertionError((endpoint, label, op))


def _listed(client, app, endpoint, label, value, op=None, more=()) -> set[int]:
    """The ids listed with the filter ``label`` (``op``) = ``value`` and the ``more`` (label, op, value)."""
    args = {f"flt0_{_index(app, endpoint, label, op)}": value}
    for n, (lbl, o, v) in enumerate(more, start=1):
        args[f"flt{n}_{_index(app, endpoint, lbl, o)}"] = v
    page = client.get(f"/admin/{endpoint}/", query_string={**args, "page_size": 100, "lang": "en"})
    assert page.status_code == 200, (endpoint, page.status_code)
    return {int(x) for x in IDS.findall(page.get_data(as_text=True))}


def _ids(model, *conds) -> set[int]:
    q = select(model.id).where(*conds)
    if hasattr(model, "in_lists"):
        q = q.where(model.in_lists())
    return set(db.session.execute(q).scalars())


def _ref(world, model, code):
    return world.factory.ref(model, code)


# (endpoint, model, filter label, column, reference model, code): a reference filter per list
REFERENCE_FILTERS = [
    ("certificates", Certificate, "Specialty", Certificate.specialty_id, r.Specialty, "NURSING"),
    ("employment", Employment, "Position", Employment.position_id, r.Position, "NURSE"),
    ("employment", Employment, "Specialty", Employment.specialty_id, r.Specialty, "NURSING"),
    ("education", EducationDocument, "Education level", EducationDocument.level_id, r.EducationLevel, "SECONDARY"),
    ("qualifications", QualificationCategory, "Qualification category", QualificationCategory.category_id,
     r.QualificationCategoryType, "HIGHEST"),
    ("cpd", CpdRecord, "Activity type", CpdRecord.activity_type_id, r.TrainingActivityType, "ADV_TRAINING"),
    ("documents", PersonnelDocument, "Document type", PersonnelDocument.doc_type_id, r.PersonnelDocumentType,
     "HIRE_ORDER"),
    ("staffing", StaffingPosition, "Position", StaffingPosition.position_id, r.Position, "NURSE"),
]


@pytest.mark.parametrize("endpoint,model,label,column,ref_model,code", REFERENCE_FILTERS,
                         ids=[f"{e}-{lbl}" for e, _m, lbl, *_ in REFERENCE_FILTERS])
def test_a_reference_filter_gives_exactly_the_matching_rows_in_scope(app, world, make_client, endpoint, model, label,
                                                                      column, ref_model, code):
    value = _ref(world, ref_model, code).id
    everywhere = _ids(model, column == value)
    owner = StaffingPosition.organization_id if model is StaffingPosition else None
    in_a = _ids(model, column == value, owner == world.orgA.id) if owner is not None else \
        _ids(model, column == value, model.worker_id == world.wA.id)
    assert in_a and everywhere - in_a, "the world must hold matching rows inside and outside organization A"
    assert _listed(make_client(world.users["ministry"]), app, endpoint, label, value) == everywhere
    assert _listed(make_client(world.users["hr_chief"]), app, endpoint, label, value) == in_a
    # another value: only its rows (none here), never the others
    other = _ref(world, r.Specialty, "SURGERY").id if ref_model is r.Specialty else None
    if other is not None:
        assert _listed(make_client(world.users["ministry"]), app, endpoint, label, other) == _ids(model, column == other)
    # a value that is not an option is ignored, not an error
    assert make_client(world.users["hr"]).get(f"/admin/{endpoint}/?flt0_{_index(app, endpoint, label)}=x") \
        .status_code == 200


@pytest.fixture
def windows(world, today):
    """Surgery certificates of wA and wB: one expired yesterday, one expiring in a month, one valid for years."""
    f = world.factory
    out = {}
    for w in (world.wA, world.wB):
        out[w.id] = {
            "expired": f.certificate(w, specialty="GEN_MED", valid_until=today - timedelta(days=1)),
            "expiring": f.certificate(w, specialty="SURGERY", valid_until=today + timedelta(days=30)),
        }
    world.db.session.commit()
    return out


def test_the_certificate_expiry_window_filter(app, world, make_client, windows, today):
    hr, ministry = make_client(world.users["hr_chief"]), make_client(world.users["ministry"])
    a, b = windows[world.wA.id], windows[world.wB.id]
    assert _listed(hr, app, "certificates", "Expiry", "expiring") == {a["expiring"].id}
    assert _listed(ministry, app, "certificates", "Expiry", "expiring") == {a["expiring"].id, b["expiring"].id}
    assert _listed(hr, app, "certificates", "Expiry", "expired") == {a["expired"].id}
    valid = _listed(hr, app, "certificates", "Expiry", "valid")
    assert a["expiring"].id in valid and a["expired"].id not in valid and b["expiring"].id not in valid
    # valid on a date: the expired one was valid a week ago, the one expiring in 30 days is not in 40
    week_ago = (today - timedelta(days=7)).isoformat()
    assert a["expired"].id in _listed(hr, app, "certificates", "Valid on", week_ago)
    later = _listed(hr, app, "certificates", "Valid on", (today + timedelta(days=40)).isoformat())
    assert a["expiring"].id not in later and a["expired"].id not in later
    assert not later & {b["expiring"].id, b["expired"].id}
    # valid until a range
    upto = _listed(ministry, app, "certificates", "Valid until", (today + timedelta(days=31)).isoformat(), "to")
    assert upto == _ids(Certificate, Certificate.valid_until <= today + timedelta(days=31))


def test_the_employment_filters(app, world, make_client, today):
    f, ministry = world.factory, make_client(world.users["ministry"])
    reason = db.session.execute(select(r.EmploymentEndReason).order_by(r.EmploymentEndReason.id)).scalars().first()
    gone = f.worker(world.orgA, surname="Кеткенова", hire=today - timedelta(days=900),
                    end=today - timedelta(days=10), end_reason=reason.code)
    world.db.session.commit()
    ended = _listed(ministry, app, "employment", "Reason for leaving (as entered before the split)", reason.id)
    assert ended == _ids(Employment, Employment.end_reason_id == reason.id) and gone.employments[0].id in ended
    # the two fields of an ending (issue 20.6): the Labour Code ground and the category of leaving
    ground = gone.employments[0].end_ground
    by_ground = _listed(ministry, app, "employment", "Labour Code ground", ground.id)
    assert by_ground == _ids(Employment, Employment.end_ground_id == ground.id) and gone.employments[0].id in by_ground
    category = gone.employments[0].end_category
    from profreg.workers.models import END_CATEGORIES

    by_category = _listed(ministry, app, "employment", "Category of leaving", END_CATEGORIES.index(category) + 1)
    assert by_category == _ids(Employment, Employment.end_category == category)
    assert _listed(ministry, app, "employment", "Employment", "ended") == _ids(Employment, Employment.end_date < today)
    hired = _listed(ministry, app, "employment", "Hire date", (today - timedelta(days=901)).isoformat(), "from")
    assert hired == _ids(Employment, Employment.hire_date >= today - timedelta(days=901))
    hr = _listed(make_client(world.users["hr_chief"]), app, "employment", "Hire date", "2000-01-01", "from")
    assert hr and all(db.session.get(Employment, i).organization_id == world.orgA.id for i in hr)


def test_the_audit_filters_by_user_action_and_date(app, world, make_client, today):
    ministry = make_client(world.users["ministry"])
    for w in (world.wA, world.wB):  # "viewed" entries of both organizations' workers
        assert ministry.get(f"/admin/workers/details/?id={w.id}").status_code == 200
    views = _ids(AuditLog, AuditLog.action == "view")
    assert len(views) >= 2
    assert _listed(ministry, app, "audit", "Action", "view") == views
    mine = _listed(ministry, app, "audit", "Who (e-mail or name)", "ministry.0")
    # (entries about user accounts, e.g. the ministry user's own sign-in session, are not the ministry's to read)
    assert mine == _ids(AuditLog, AuditLog.user_id == world.users["ministry"].id,
                        AuditLog.table_name.notin_(ACCOUNT_TABLES)) and views <= mine
    # the organization's chief sees the entries of its scope only, whatever the filter
    chief = _listed(make_client(world.users["hr_chief"]), app, "audit", "Action", "view")
    assert chief == {e for e in views if db.session.get(AuditLog, e).organization_id == world.orgA.id}
    assert _listed(ministry, app, "audit", "When", (today + timedelta(days=400)).isoformat(), "from") == set()
    assert _listed(ministry, app, "audit", "When", today.isoformat(), "from", more=[("Action", None, "view")]) == views
    assert _listed(ministry, app, "audit", "When", today.isoformat(), "to", more=[("Action", None, "view")]) == views
    assert _listed(ministry, app, "audit", "When", (today - timedelta(days=1)).isoformat(), "to") == \
        _ids(AuditLog, AuditLog.at < today)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_filter_options_are_named_and_sorted_in_the_readers_language(app, world, make_client, lang):
    html = make_client(world.users["hr"]).get(f"/admin/certificates/?lang={lang}").get_data(as_text=True)
    data = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', html, flags=re.S).group(1)
    import html as html_lib
    import json

    groups = json.loads(html_lib.unescape(data))
    with app.test_request_context(), force_locale(lang):
        from flask_babel import gettext
        specialty = groups[gettext("Specialty")][0]
    labels = [label for _value, label in specialty["options"]]
    names = {s.name_kk if lang == "kk" else s.name_ru if lang == "ru" else s.name_en
             for s in db.session.execute(select(r.Specialty).where(r.Specialty.is_active.is_(True))).scalars()}
    assert len(labels) > 10 and set(labels) == names
    assert labels == sorted(labels, key=sort_key)


# --- the association's CPD assessment ----------------------------------------------------------------
def _assessment(client, **args) -> str:
    page = client.get("/admin/cpd_assessment/", query_string={"lang": "en", **args})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html[html.index("Rows:"):]  # the rows, not the search box that repeats the term


def test_the_association_finds_a_member_in_the_cpd_assessment_by_surname_and_iin(world, make_client):
    association = make_client(world.users["association"])  # NURSING: wA and wB
    html = _assessment(association, q=world.wB.surname.lower())
    assert world.wB.surname in html and world.wA.surname not in html and "Rows: 1" in html
    html = _assessment(association, q=world.wA.iin)
    assert world.wA.surname in html and world.wB.surname not in html
    # a masked reader cannot spell out the hidden digits with IIN prefixes
    html = _assessment(association, q=world.wA.iin[:6])
    assert world.wA.surname not in html and "Rows: 0" in html
    # outside its specialties nobody is found, whatever the name
    assert "Rows: 0" in _assessment(association, q=world.wA2.surname)
    # the ministry searches by an IIN prefix, and the region filter narrows
    ministry = make_client(world.users["ministry"])
    html = _assessment(ministry, q=world.wA.iin[:8])
    assert world.wA.surname in html
    html = _assessment(ministry, q=world.wB.surname, region=world.R1.id)
    assert world.wB.surname not in html and "Rows: 0" in html
