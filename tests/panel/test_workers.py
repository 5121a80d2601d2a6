"""Worker screen: new hire with the first episode in the actor's organization and the rule-8 records
from one screen; restricted roles never choose the organization; blocked workers; search; filters;
optimistic locking."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg.certificates.models import Certificate
from profreg.education.models import EducationDocument
from profreg.reference.models import Country, Position, Specialty, TrainingActivityType
from profreg.training.models import CpdRecord
from profreg.workers.models import Employment, Worker
from tests.factories import next_iin
from tests.panel.conftest import parse_form, token


def _ids(html, ep="workers"):
    return {int(x) for x in re.findall(rf"/admin/{ep}/details/\?id=(\d+)", html)}


def _new_hire_data(world, client, iin):
    ref = world.factory.ref
    page = client.get("/admin/workers/new/")
    assert page.status_code == 200
    form = parse_form(page.get_data(as_text=True))
    names = {k for k, _ in form.data} | set(form.selects)
    assert "organization" not in names and not any(n.startswith("hire_org") for n in names)
    data = MultiDict(form.data)
    values = {
        "iin": iin, "surname": "Жұмабекова", "name": "Ләззат", "sex": "F", "birth_date": "1990-05-17",
        "birth_place": "Қарағанды", "citizenship": str(ref(Country, "KZ").id),
        **world.factory.entry_form(),  # rule 8: identity document, residence, registration, education
        "hire_position": str(ref(Position, "NURSE").id), "hire_specialty": str(ref(Specialty, "NURSING").id),
        "hire_date": "2026-11-23", "hire_fte": "1.00",
        "certificates-0-number": "KZ-NEW-0001", "certificates-0-specialty": str(ref(Specialty, "NURSING").id),
        "certificates-0-issue_date": "2024-01-10", "certificates-0-valid_until": "2029-01-09",
        "cpd_records-0-activity_type": str(ref(TrainingActivityType, "ADV_TRAINING").id),
        "cpd_records-0-provider": "НЦПО", "cpd_records-0-topic": "Сестринский процесс",
        "cpd_records-0-start_date": "2025-03-01", "cpd_records-0-end_date": "2025-03-10", "cpd_records-0-hours": "54",
    }
    for k, v in values.items():
        data[k] = v  # replaces (MultiDict.update would append)
    return data


@pytest.mark.parametrize("role", ["hr", "hr_chief"])
def test_new_hire_from_one_screen_lands_in_the_actors_organization(world, make_client, role):
    client = make_client(world.users[role])
    iin = next_iin(date(1990, 5, 17), "F")
    data = _new_hire_data(world, client, iin)
    data["organization"] = str(world.orgB.id)  # crafted: ignored, the organization comes from the actor
    resp = client.post("/admin/workers/new/", data=data)
    assert resp.status_code == 302, re.findall(r"text-danger[^>]*>\s*<li>([^<]*)", resp.get_data(as_text=True))
    db = world.db
    db.session.expire_all()
    w = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one()
    assert w.surname_folded == "жұмабекова"
    eps = db.session.execute(select(Employment).where(Employment.worker_id == w.id)).scalars().all()
    assert [(e.organization_id, e.position.code, e.hire_date) for e in eps] == \
        [(world.orgA.id, "NURSE", date(2026, 11, 23))]
    assert db.session.execute(select(Certificate.number).where(Certificate.worker_id == w.id)).scalar() == "KZ-NEW-0001"
    assert db.session.execute(select(EducationDocument.number).where(EducationDocument.worker_id == w.id)).scalar() \
        == "ТКБ-0012345"
    assert db.session.execute(select(CpdRecord.topic).where(CpdRecord.worker_id == w.id)).scalar() == "Сестринский процесс"
    # the worker page shows the related records with the organization's BIN (each on its tab)
    page = "".join(client.get(f"/admin/workers/details/?id={w.id}&tab={tab}").get_data(as_text=True)
                   for tab in ("employments", "certificates", "education", "cpd"))
    for text in (world.orgA.bin, "KZ-NEW-0001", "ТКБ-0012345", "Сестринский процесс"):
        assert text in page


def test_invalid_new_hire_writes_nothing(world, make_client):
    client = make_client(world.users["hr"])
    data = _new_hire_data(world, client, "900517400001")  # wrong check digit
    before = world.db.session.execute(select(Worker.id)).all()
    resp = client.post("/admin/workers/new/", data=data)
    assert resp.status_code == 200
    world.db.session.expire_all()
    assert world.db.session.execute(select(Worker.id)).all() == before


def test_restricted_roles_never_choose_the_organization_of_an_episode(world, make_client):
    db, ref = world.db, world.factory.ref
    client = make_client(world.users["hr"])
    page = client.get("/admin/employment/new/").get_data(as_text=True)
    assert 'name="organization"' not in page
    tok = token(client)
    resp = client.post("/admin/employment/new/", data={
        "csrf_token": tok, "worker": str(world.wA.id), "organization": str(world.orgB.id),
        "position": str(ref(Position, "NURSE").id), "fte": "0.50", "hire_date": "2026-11-20"})
    assert resp.status_code == 302
    db.session.expire_all()
    ep = db.session.execute(select(Employment).where(Employment.worker_id == world.wA.id)
                            .order_by(Employment.id.desc())).scalars().first()
    assert ep.organization_id == world.orgA.id and ep.hire_date == date(2026, 11, 20)
    # a worker outside the scope cannot be picked (ajax id validated through the scope)
    n = len(db.session.execute(select(Employment.id)).all())
    resp = client.post("/admin/employment/new/", data={
        "csrf_token": tok, "worker": str(world.wB.id), "position": str(ref(Position, "NURSE").id),
        "fte": "1", "hire_date": "2026-11-20"})
    assert resp.status_code == 200
    db.session.expire_all()
    assert len(db.session.execute(select(Employment.id)).all()) == n


def test_blocked_worker_gets_no_new_clinical_episode_until_certified(world, make_client, today):
    from profreg.errors import InvalidInput
    from profreg.workers.services import check_new_employment, hire

    db, f, ref = world.db, world.factory, world.factory.ref
    w = f.worker(world.orgA, surname="Блокова", certificate_until=today - timedelta(days=3))
    w.status, w.blocked_reason = "blocked", "certificate_expired"
    db.session.commit()
    # the rule (service), used by admin and CLI
    with pytest.raises(InvalidInput):
        check_new_employment(w, ref(Position, "NURSE"))
    check_new_employment(w, ref(Position, "CHIEF_DOCTOR"))  # non-clinical position: no objection
    # through the panel
    client = make_client(world.users["hr_chief"])
    tok = token(client)
    data = {"csrf_token": tok, "worker": str(w.id), "position": str(ref(Position, "NURSE").id), "fte": "1",
            "hire_date": "2026-11-24"}
    resp = client.post("/admin/employment/new/", data=data)
    assert resp.status_code == 200
    assert "needs a specialist certificate valid on" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.execute(select(Employment).where(Employment.worker_id == w.id)).scalars().all()) == 1
    # flagged in the lists and on the record
    assert "badge-blocked" in client.get("/admin/workers/").get_data(as_text=True)
    assert "badge-blocked" in client.get(f"/admin/workers/details/?id={w.id}").get_data(as_text=True)
    assert "badge-blocked" in client.get("/admin/certificates/").get_data(as_text=True)
    # a valid certificate lifts the objection
    f.certificate(w, valid_until=today + timedelta(days=365), issue=today - timedelta(days=1))
    db.session.commit()
    hire(w, organization=world.orgA, position=ref(Position, "NURSE"), hire_date=today)
    db.session.rollback()
    resp = client.post("/admin/employment/new/", data=data)
    assert resp.status_code == 302


def test_search_is_case_insensitive_for_kazakh_letters_and_covers_iin_and_certificate(world, make_client):
    client = make_client(world.users["ministry"])
    assert _ids(client.get("/admin/workers/?search=қасымова").get_data(as_text=True)) == {world.wA.id}
    assert _ids(client.get("/admin/workers/?search=ӘБЕН").get_data(as_text=True)) == {world.wA2.id}
    assert _ids(client.get(f"/admin/workers/?search={world.wB.iin[:8]}").get_data(as_text=True)) >= {world.wB.id}
    number = world.db.session.execute(select(Certificate.number).where(Certificate.worker_id == world.wB.id)).scalar()
    assert _ids(client.get(f"/admin/workers/?search={number.lower()}").get_data(as_text=True)) == {world.wB.id}
    # search never widens the scope
    hr = make_client(world.users["hr"])
    assert _ids(hr.get("/admin/workers/?search=иванова").get_data(as_text=True)) == set()


def test_filters_are_scoped_sql(world, make_client, today):
    db, f = world.db, world.factory
    exp = f.worker(world.orgA, surname="Истекова", certificate_until=today + timedelta(days=30))
    old = f.worker(world.orgB, surname="Старова", certificate_until=today - timedelta(days=30))
    old.status = "blocked"
    db.session.commit()
    c = make_client(world.users["ministry"])

    def ids(q):
        return _ids(c.get(f"/admin/workers/?{q}").get_data(as_text=True))

    assert ids(f"flt0_0={world.orgB.bin}") == {world.wB.id, old.id}
    assert ids(f"flt0_1={world.R1.id}") == {world.wA.id, world.wA2.id, exp.id}
    # (flt0_2 is the district: tests/panel/test_districts.py)
    assert ids(f"flt0_3={f.ref(Specialty, 'GEN_MED').id}") == {world.wA2.id}
    assert ids(f"flt0_4={f.ref(Position, 'DOCTOR').id}") == {world.wA2.id}
    assert ids("flt0_5=blocked") == {old.id}
    assert ids("flt0_6=expiring") == {exp.id}
    assert ids("flt0_6=expired") == {old.id}
    assert ids("flt0_6=valid") == {world.wA.id, world.wA2.id, world.wB.id}
    hr = make_client(world.users["hr"])
    assert _ids(hr.get(f"/admin/workers/?flt0_0={world.orgB.bin}").get_data(as_text=True)) == set()
    assert _ids(hr.get("/admin/workers/?flt0_6=expiring").get_data(as_text=True)) == {exp.id}


def test_optimistic_locking_second_save_refused_first_kept(world, make_client):
    db = world.db
    one, two = make_client(world.users["hr"]), make_client(world.users["hr_chief"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    f1 = parse_form(one.get(url).get_data(as_text=True))
    f2 = parse_form(two.get(url).get_data(as_text=True))
    assert ("lock_version", "1") in f1.data or any(k == "lock_version" for k, _ in f1.data)
    d1 = MultiDict(f1.data)
    d1["phone"] = "+77010000001"
    r1 = one.post(url, data=d1)
    assert r1.status_code == 302
    d2 = MultiDict(f2.data)
    d2["phone"] = "+77019999999"
    r2 = two.post(url, data=d2)
    body = r2.get_data(as_text=True)
    assert r2.status_code == 200
    assert "changed by someone else" in body
    db.session.expire_all()
    w = db.session.get(Worker, world.wA.id)
    assert w.phone == "+77010000001" and w.version == 2


def test_cli_hire_applies_the_blocked_rule(world, app, today):
    db, f = world.db, world.factory
    w = f.worker(world.orgA, surname="Клиева", certificate_until=today - timedelta(days=3))
    w.status = "blocked"
    db.session.commit()
    runner = app.test_cli_runner()
    args = ["profreg", "workers", "hire", "--iin", w.iin, "--org", world.orgB.bin, "--date", today.isoformat()]
    res = runner.invoke(args=[*args, "--position", "NURSE"])
    assert res.exit_code != 0 and "Error" in res.output
    res = runner.invoke(args=[*args, "--position", "CHIEF_DOCTOR"])
    assert res.exit_code == 0, res.output
    db.session.expire_all()
    assert {e.organization_id for e in db.session.get(Worker, w.id).employments} == {world.orgA.id, world.orgB.id}


def test_a_clinical_post_needs_a_certificate_of_its_specialty(world, make_client, today):
    """The admission rule of the certificates domain is the one the panel applies: a doctor with a
    valid therapy certificate and an expired surgery one is admitted to therapy, not to surgery."""
    from profreg.reference.models import Specialty

    db, f, ref = world.db, world.factory, world.factory.ref
    w = f.worker(world.orgA, surname="Хирургова", position="DOCTOR", specialty="THERAPY",
                 certificate_until=today + timedelta(days=300))
    f.certificate(w, specialty="SURGERY", valid_until=today - timedelta(days=1))
    db.session.commit()
    client = make_client(world.users["hr_chief"])

    def open_episode(specialty):
        return client.post("/admin/employment/new/", data={
            "csrf_token": token(client), "worker": str(w.id), "position": str(ref(Position, "DOCTOR").id),
            "specialty": str(ref(Specialty, specialty).id), "fte": "0.5", "hire_date": "2026-11-24"})

    refused = open_episode("SURGERY")
    assert refused.status_code == 200
    assert "No specialist certificate valid on" in refused.get_data(as_text=True)
    assert open_episode("CARDIO").status_code == 302  # a specialization of therapy: admitted
    db.session.expire_all()
    specialties = {e.specialty.code for e in db.session.get(type(w), w.id).employments}
    assert specialties == {"THERAPY", "CARDIO"}


def test_another_organizations_episode_of_a_shared_worker_is_read_only(world, make_client, today):
    """A worker of B also works at A: A's HR sees both episodes but may edit only A's (docs/integrity.md)."""
    db, f = world.db, world.factory
    ours = f.employment(world.wB, world.orgA, hire=today - timedelta(days=30))
    theirs = next(e for e in world.wB.employments if e.organization_id == world.orgB.id)
    db.session.commit()
    hr = make_client(world.users["hr_chief"])
    assert hr.get(f"/admin/employment/details/?id={theirs.id}").status_code == 200
    assert hr.get(f"/admin/employment/edit/?id={theirs.id}").status_code == 403
    assert hr.get(f"/admin/employment/edit/?id={ours.id}").status_code == 200
