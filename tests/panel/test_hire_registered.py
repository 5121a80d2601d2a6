"""Hiring a worker who is already in the register (another organization's, or back after leaving):
identified by IIN, surname and date of birth, a new episode in the actor's organization, the rules of
a new hire; no oracle: a wrong triple answers like an unknown IIN, failed searches are limited per
hour and every attempt is audited."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from profreg import clock
from profreg.audit.models import AuditLog
from profreg.extensions import db
from profreg.reference.models import Position, Specialty
from profreg.workers.models import Employment

from .conftest import parse_form


def _form(world, client, worker=None, **values):
    """The hire form's values; ``worker`` gives the three identifying values from his record."""
    page = client.get("/admin/workers/hire/")
    assert page.status_code == 200
    data = dict(parse_form_any(page.get_data(as_text=True)))
    ref = world.factory.ref
    data.update({"position": str(ref(Position, "NURSE").id), "specialty": str(ref(Specialty, "NURSING").id),
                 "hire_date": "2026-11-24", "fte": "0.50", "department": "Терапия", "order_number": "77-лс"})
    if worker is not None:
        data.update({"iin": worker.iin, "surname": worker.surname, "birth_date": worker.birth_date.isoformat()})
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
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, surname=wb.surname.upper()))
    assert resp.status_code == 302 and f"id={wb.id}" in resp.headers["Location"]
    episode, = _episodes(wb, world.orgA)
    assert episode.fte == 0.5 and episode.department == "Терапия" and episode.end_date is None
    assert episode.region_id == world.orgA.region_id and episode.worker_surname_key == wb.surname_key
    assert _episodes(wb, world.orgB), "the other organization's episode stays"
    assert hr.get(f"/admin/workers/details/?id={wb.id}").status_code == 200  # now in the hr's scope
    assert db.session.execute(select(AuditLog).where(AuditLog.table_name == "employment",
                                                     AuditLog.record_id == episode.id)).first() is not None


def _lookups(user):
    return db.session.execute(select(AuditLog).where(AuditLog.user_id == user.id, AuditLog.action == "hire_lookup")
                              .order_by(AuditLog.id)).scalars().all()


def _answer(resp) -> str:
    """What the page says about the search (the message under the IIN field and the flashes)."""
    html = resp.get_data(as_text=True)
    parts = re.findall(r'class="(?:text-danger small|alert[^"]*)"[^>]*>(.*?)</div>', html, re.S)
    return " | ".join(re.sub(r"<[^>]+>.*?</[^>]+>|<[^>]+>", "", p).strip() for p in parts)


def test_a_wrong_triple_and_an_unknown_iin_say_the_same_and_write_nothing_but_the_audit(world, make_client):
    hr = make_client(world.users["hr"])
    wb = world.wB
    before = db.session.execute(select(Employment.id)).all()
    wrong_surname = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, surname="Петрова"))
    wrong_birth = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, birth_date="1987-04-13"))
    unknown = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, iin="900101300019"))
    answers = {_answer(resp) for resp in (wrong_surname, wrong_birth, unknown)}
    assert len(answers) == 1 and "No registered worker has this IIN, surname and date of birth" in answers.pop()
    for resp in (wrong_surname, wrong_birth, unknown):
        assert resp.status_code == 200
        assert wb.name not in resp.get_data(as_text=True)  # nothing about the registered worker shows through
    assert db.session.execute(select(Employment.id)).all() == before
    # every attempt is in the audit trail, without the IIN in clear
    entries = _lookups(world.users["hr"])
    assert [e.detail.split()[0] for e in entries] == ["failed", "failed", "failed"]
    assert entries[0].detail.endswith(wb.iin[-4:]) and wb.iin not in entries[0].detail
    assert {e.worker_id for e in entries} == {None}  # a failed search names nobody
    assert {e.organization_id for e in entries} == {world.orgA.id}  # the actor's head sees them


def test_three_right_values_hire_and_the_search_is_audited(world, make_client):
    hr = make_client(world.users["hr"])
    wb = world.wB
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, surname=wb.surname.lower()))
    assert resp.status_code == 302
    entry, = _lookups(world.users["hr"])
    assert entry.detail == f"ok ••••••••{wb.iin[-4:]}" and entry.worker_id == wb.id
    assert entry.table_name == "worker" and entry.actor_organization_id == world.orgA.id
    assert len(_episodes(wb, world.orgA)) == 1


def test_the_sixth_failure_within_an_hour_is_refused_even_with_right_values(world, make_client, app):
    assert app.config["HIRE_LOOKUP_FAILURES_PER_HOUR"] == 5
    hr_user, wb = world.users["hr"], world.wB
    start = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 09:00 in Almaty
    hr = make_client(hr_user)
    for minute in range(5):
        clock.set_now(start + timedelta(minutes=minute))
        resp = hr.post("/admin/workers/hire/", data=_form(world, hr, wb, birth_date="1970-01-01"))
        assert "No registered worker" in _answer(resp)
    clock.set_now(start + timedelta(minutes=30))
    refused = hr.post("/admin/workers/hire/", data=_form(world, hr, wb))  # right values: still refused
    assert refused.status_code == 200
    assert "Too many unsuccessful searches for a registered worker: at most 5 an hour. Try again after 10:00" \
        in _answer(refused)  # 10:00 AM: an hour after the first failure, in Almaty time
    assert _episodes(wb, world.orgA) == []
    # another user of the same organization is not held back
    other = make_client(world.users["hr_chief"])
    assert "Too many" not in _answer(other.post("/admin/workers/hire/", data=_form(world, other, wb, surname="Х")))
    # an hour after the first failure one search is free again: the right values hire
    clock.set_now(start + timedelta(hours=1, seconds=1))
    assert hr.post("/admin/workers/hire/", data=_form(world, hr, wb)).status_code == 302
    assert len(_episodes(wb, world.orgA)) == 1
    assert [e.detail.split()[0] for e in _lookups(hr_user)] == ["failed"] * 5 + ["refused", "ok"]


def test_the_limit_is_counted_per_hour_from_the_audit_trail(world, make_client):
    """Failures older than an hour do not count; the check comes before the search."""
    hr_user = world.users["hr"]
    start = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    for minute in (0, 50, 51, 52, 53):  # the one at 09:00 leaves the hour at 10:00
        db.session.add(AuditLog(at=(start + timedelta(minutes=minute)).replace(tzinfo=None), user_id=hr_user.id,
                                action="hire_lookup", table_name="worker", detail="failed ••••••••0000"))
    db.session.commit()
    hr = make_client(hr_user)
    clock.set_now(start + timedelta(minutes=59))
    assert "Try again after 10:00" in _answer(hr.post("/admin/workers/hire/", data=_form(world, hr, world.wB)))
    clock.set_now(start + timedelta(minutes=61))
    assert hr.post("/admin/workers/hire/", data=_form(world, hr, world.wB)).status_code == 302


def test_a_refused_hire_after_a_right_search_keeps_the_audit_entry_only(world, make_client):
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, world.wA))  # already works here
    assert "already works in your organization" in _answer(resp)
    assert [e.detail.split()[0] for e in _lookups(world.users["hr"])] == ["ok"]
    assert len(_episodes(world.wA, world.orgA)) == 1


def test_the_limit_message_speaks_the_users_language(world, make_client, app):
    hr_user = world.users["hr"]
    now = clock.utcnow_naive()
    for _ in range(app.config["HIRE_LOOKUP_FAILURES_PER_HOUR"]):
        db.session.add(AuditLog(at=now, user_id=hr_user.id, action="hire_lookup", table_name="worker",
                                detail="failed ••••••••0000"))
    db.session.commit()
    hr = make_client(hr_user)
    words = {"kk": "Тіркелген қызметкерді сәтсіз іздеу тым көп", "ru": "Слишком много неудачных поисков"}
    for lang, text in words.items():
        page = hr.get(f"/admin/workers/hire/?lang={lang}")
        assert page.status_code == 200
        data = _form(world, hr, world.wB)
        resp = hr.post(f"/admin/workers/hire/?lang={lang}", data=data)
        assert text in _answer(resp), lang


def test_already_working_here_is_refused(world, make_client):
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, world.wA))
    assert resp.status_code == 200
    assert "already works in your organization" in resp.get_data(as_text=True)
    assert len(_episodes(world.wA, world.orgA)) == 1


def test_coming_back_after_leaving_opens_a_new_episode(world, make_client, today):
    first, = _episodes(world.wA, world.orgA)
    first.end_date = today - timedelta(days=30)
    db.session.commit()
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, world.wA))
    assert resp.status_code == 302
    assert len(_episodes(world.wA, world.orgA)) == 2


def test_worker_without_a_valid_certificate_gets_no_clinical_position(world, make_client, today):
    from profreg.certificates.models import Certificate

    # the world's certificate has run out (a saved certificate is not edited in place: set it in SQL)
    db.session.execute(update(Certificate).where(Certificate.worker_id == world.wB.id)
                       .values(valid_until=today - timedelta(days=1)))
    world.wB.status = "blocked"
    db.session.commit()
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, world.wB))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "No specialist certificate valid on" in page
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
    body = resp.get_data(as_text=True)
    assert "This IIN cannot be registered here; use “Hire a registered worker”." in body
    assert world.wB.surname not in body and world.wB.name not in body
    assert "Already exists" not in body  # one answer, not Flask-Admin's unique check as well
    # the service says the same to every other path (import, API)
    from profreg.errors import InvalidInput
    from profreg.workers.models import Worker
    from profreg.workers.services import register_worker

    clone = Worker(iin=world.wB.iin, surname="Кто-то", name="Новый", sex=world.wB.sex, birth_date=world.wB.birth_date,
                   birth_place="-", citizenship=world.wB.citizenship)
    with pytest.raises(InvalidInput) as refused:
        register_worker(clone, actor_organization=world.orgA, position=world.factory.ref(Position, "NURSE"),
                        hire_date=date(2026, 11, 24))
    assert str(refused.value.errors["iin"]) == "This IIN cannot be registered here; use “Hire a registered worker”."
    db.session.rollback()


def test_the_hire_page_speaks_kazakh(world, make_client):
    page = make_client(world.users["hr"]).get("/admin/workers/hire/?lang=kk").get_data(as_text=True)
    assert "Тізілімдегі қызметкерді жұмысқа алу" in page and "Жұмысқа алу" in page
    assert "Hire a registered worker" not in page


def test_a_worker_with_no_certificate_at_all_gets_no_clinical_position(world, make_client):
    """An economist of organization B, never certified, cannot be hired as a nurse by A (with or without a
    specialty named); as an economist he can."""
    f = world.factory
    economist = f.worker(world.orgB, surname="Есепшіов", sex="M", position="ECONOMIST", specialty=None)
    db.session.commit()
    hr = make_client(world.users["hr"])
    for specialty, message in ((str(f.ref(Specialty, "NURSING").id), "No specialist certificate valid on"),
                               ("", "needs a specialist certificate valid on")):
        resp = hr.post("/admin/workers/hire/", data=_form(world, hr, economist, specialty=specialty))
        assert resp.status_code == 200 and message in resp.get_data(as_text=True), specialty
    assert _episodes(economist, world.orgA) == []
    resp = hr.post("/admin/workers/hire/", data=_form(world, hr, economist, specialty="",
                                                       position=str(f.ref(Position, "ECONOMIST").id)))
    assert resp.status_code == 302
    assert len(_episodes(economist, world.orgA)) == 1
