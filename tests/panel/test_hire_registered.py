"""Hiring a worker who is already in the register (another organization's, or back after leaving):
identified by IIN and surname, a new episode in the actor's organization, the rules of a new hire."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from profreg.audit.models import AuditLog
from profreg.extensions import db
from profreg.reference.models import Position, Specialty
from profreg.workers.models import Employment

from .conftest import parse_form


def _form(world, client, **values):
    page = client.get("/admin/workers/hire/")
    assert page.status_code == 200
    data = dict(parse_form_any(page.get_data(as_text=True)))
    ref = world.factory.ref
    data.update({"position": str(ref(Position, "NURSE").id), "specialty": str(ref(Specialty, "NURSING").id),
                 "hire_date": "2026-11-24", "fte": "0.50", "department": "Терапия", "order_number": "77-лс"})
    data.update(values)
    return data


def parse_form_any(html):
    """The hire form is a plain form (not Flask-Admin's ``admin-form``): its CSRF token and defaults."""
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return {"csrf_token": token}


def _episodes(worker, org):
    return db.session.execute(select(Employment).where(Employment.worker_id == worker.id,
                                                       Employment.organization_id == org.id)).scalars().all()


def test_hr_hires_another_organizations_worker(world, make_client):
    hr = make_client(world.users["hr"])  # organization A
    wb = world.wB  # registered by organization B
    assert hr.get(f"/admin/workers/details/?id={wb.id}").status_code == 404
    list_page = hr.get("/admin/workers/").get_data(as_text=True)
    assert "/admin/workers/hire/" in list_page and "Hire a registered worker" in list_page
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, iin=wb.iin, surname=wb.surname.upper()))
    assert resp.status_code == 302 and f"id={wb.id}" in resp.headers["Location"]
    episode, = _episodes(wb, world.orgA)
    assert episode.fte == 0.5 and episode.department == "Терапия" and episode.end_date is None
    assert episode.region_id == world.orgA.region_id and episode.worker_surname_key == wb.surname_key
    assert _episodes(wb, world.orgB), "the other organization's episode stays"
    assert hr.get(f"/admin/workers/details/?id={wb.id}").status_code == 200  # now in the hr's scope
    assert db.session.execute(select(AuditLog).where(AuditLog.table_name == "employment",
                                                     AuditLog.record_id == episode.id)).first() is not None


def test_wrong_surname_or_unknown_iin_say_the_same_and_write_nothing(world, make_client):
    hr = make_client(world.users["hr"])
    before = db.session.execute(select(Employment.id)).all()
    wrong = hr.post("/admin/workers/hire/", data=_form(world, hr, iin=world.wB.iin, surname="Петрова"))
    unknown = hr.post("/admin/workers/hire/", data=_form(world, hr, iin="900101300019", surname="Иванова"))
    for resp in (wrong, unknown):
        assert resp.status_code == 200
        assert "No registered worker has this IIN and surname" in resp.get_data(as_text=True)
    # nothing about the registered worker shows through
    assert world.wB.name not in wrong.get_data(as_text=True)
    assert db.session.execute(select(Employment.id)).all() == before


def test_already_working_here_is_refused(world, make_client):
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, iin=world.wA.iin, surname=world.wA.surname))
    assert resp.status_code == 200
    assert "already works in your organization" in resp.get_data(as_text=True)
    assert len(_episodes(world.wA, world.orgA)) == 1


def test_coming_back_after_leaving_opens_a_new_episode(world, make_client, today):
    first, = _episodes(world.wA, world.orgA)
    first.end_date = today - timedelta(days=30)
    db.session.commit()
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, iin=world.wA.iin, surname=world.wA.surname))
    assert resp.status_code == 302
    assert len(_episodes(world.wA, world.orgA)) == 2


def test_blocked_worker_gets_no_clinical_position(world, make_client, today):
    from profreg.certificates.models import Certificate

    # the world's certificate has run out (a saved certificate is not edited in place: set it in SQL)
    db.session.execute(update(Certificate).where(Certificate.worker_id == world.wB.id)
                       .values(valid_until=today - timedelta(days=1)))
    world.wB.status = "blocked"
    db.session.commit()
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, iin=world.wB.iin, surname=world.wB.surname))
    assert resp.status_code == 200 and "is blocked" in resp.get_data(as_text=True)
    assert _episodes(world.wB, world.orgA) == []


def test_only_organizations_that_hire_may_use_it(world, make_client):
    for role in ("ministry", "region", "org_head", "association", "admin"):
        client = make_client(world.users[role])
        assert client.get("/admin/workers/hire/").status_code in (403, 302), role
        assert "/admin/workers/hire/" not in client.get("/admin/workers/").get_data(as_text=True)
    assert make_client(world.users["hr_chief"]).get("/admin/workers/hire/").status_code == 200


def test_create_with_a_registered_iin_points_to_hiring(world, make_client):
    hr = make_client(world.users["hr"])
    page = hr.get("/admin/workers/new/")
    data = dict(parse_form(page.get_data(as_text=True)).data)
    data.update({"iin": world.wB.iin, "surname": "Кто-то", "name": "Новый"})
    resp = hr.post("/admin/workers/new/", data=data)
    assert resp.status_code == 200
    assert "Hire a registered worker" in resp.get_data(as_text=True)


def test_the_hire_page_speaks_kazakh(world, make_client):
    page = make_client(world.users["hr"]).get("/admin/workers/hire/?lang=kk").get_data(as_text=True)
    assert "Тізілімдегі қызметкерді жұмысқа алу" in page and "Жұмысқа алу" in page
    assert "Hire a registered worker" not in page
