"""Corrections after dismissal (rule 9, docs/integrity.md): the last employer's HR corrects a departed
worker's episode and personal data for CORRECTION_MONTHS_AFTER_END months after the end date, the
region coordinator of that last episode at any time; every correction needs a reason and shows in the
audit trail; departed workers stay out of the everyday lists and are found on the departed page."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from profreg import access, clock
from profreg.audit.models import AuditLog
from profreg.errors import DomainError, NotAllowed
from profreg.extensions import db
from profreg.reference.models import LabourCodeGround
from profreg.workers import services
from profreg.workers.models import Employment, Worker

from .conftest import make_user

ENDED = date(2026, 3, 1)  # wA left organization A on 1 March 2026; ``today`` is 25 Nov 2026


@pytest.fixture
def departed(world, today):
    episode = db.session.execute(select(Employment).where(Employment.worker_id == world.wA.id)).scalar_one()
    episode.end_date, episode.end_ground = ENDED, world.factory.ref(LabourCodeGround, "EMPLOYEE_INITIATIVE")
    episode.end_category = "in_sector"
    world.users["hr_a2"] = make_user(db, "hr", org=world.orgA2)  # same region, another organization
    world.users["hr_b"] = make_user(db, "hr", org=world.orgB)
    world.users["region_b"] = make_user(db, "region", region=world.R2)
    db.session.commit()
    return world, episode


def _ground(code):
    return db.session.execute(select(LabourCodeGround).where(LabourCodeGround.code == code)).scalar_one()


def test_the_last_employer_corrects_within_twelve_months_the_region_later(departed):
    world, episode = departed
    users = world.users
    # within the window: A's HR corrects the reason for leaving
    assert access.may_correct_departed(users["hr"], world.wA, episode=episode)
    services.correct_episode(episode, user=users["hr"], changes={"end_ground": _ground("RETIREMENT_AGE"),
                                                                   "end_category": "retirement"},
                             reason="Приказ № 15-лс: по выходу на пенсию")
    db.session.commit()
    # the last day of the window (1 March 2027) and the day after
    clock.set_today(date(2027, 3, 1))
    assert access.may_correct_departed(users["hr_chief"], world.wA)
    clock.set_today(date(2027, 3, 2))
    for role in ("hr", "hr_chief"):
        assert not access.may_correct_departed(users[role], world.wA), role
        with pytest.raises(NotAllowed):
            services.correct_episode(episode, user=users[role], changes={"end_ground": _ground("DEATH")},
                                     reason="ошибка")
    # the region of that last episode corrects later; the other region, the ministry, org_head cannot
    services.correct_episode(episode, user=users["region"], changes={"end_date": date(2026, 2, 27)},
                             reason="Дата приказа уточнена по архиву")
    services.correct_departed_worker(world.wA, user=users["region"], changes={"birth_place": "г. Астана"},
                                     reason="Паспорт: место рождения")
    db.session.commit()
    for role in ("region_b", "ministry", "org_head", "hr_b", "hr_a2", "association", "admin"):
        assert not access.may_correct_departed(users[role], world.wA), role
        assert not access.may_correct_departed(users[role], world.wA, episode=episode), role
    # both corrections, and the HR's, are in the audit trail with their reasons
    entries = db.session.execute(select(AuditLog).where(AuditLog.worker_id == world.wA.id,
                                                        AuditLog.action == "update", AuditLog.detail.is_not(None))
                                 .order_by(AuditLog.id)).scalars().all()
    got = [(e.table_name, sorted(e.changes), e.detail) for e in entries]
    assert got == [
        ("employment", ["end_category", "end_ground_id"], "Приказ № 15-лс: по выходу на пенсию"),
        ("employment", ["end_date"], "Дата приказа уточнена по архиву"),
        ("worker", ["birth_place"], "Паспорт: место рождения"),
    ]
    # the entries belong to the last employer (the worker has no current episode): its head sees them
    assert {e.organization_id for e in entries} == {world.orgA.id}
    db.session.expire_all()
    assert db.session.get(Employment, episode.id).end_ground.code == "RETIREMENT_AGE"
    assert db.session.get(Employment, episode.id).end_category == "retirement"


def test_another_organizations_hr_is_refused(departed):
    world, episode = departed
    for role in ("hr_b", "hr_a2"):
        with pytest.raises(NotAllowed):
            services.correct_episode(episode, user=world.users[role], changes={"department": "X"}, reason="r")
        with pytest.raises(NotAllowed):
            services.correct_departed_worker(world.wA, user=world.users[role], changes={"phone": "1"}, reason="r")


def test_a_correction_needs_a_reason_and_keeps_the_episode_ended(departed):
    world, episode = departed
    hr = world.users["hr"]
    with pytest.raises(DomainError) as exc:
        services.correct_episode(episode, user=hr, changes={"department": "Хирургия"}, reason="  ")
    assert exc.value.field == "reason"
    with pytest.raises(DomainError) as exc:
        services.correct_episode(episode, user=hr, changes={"end_date": None}, reason="вернулся")
    assert exc.value.field == "end_date"
    with pytest.raises(DomainError):
        services.correct_episode(episode, user=hr, changes={"end_date": date(2019, 1, 1)}, reason="опечатка")
    db.session.rollback()
    with pytest.raises(DomainError):
        services.correct_departed_worker(world.wA, user=hr, changes={"birth_date": date(1990, 1, 1)},
                                         reason="опечатка")  # the IIN no longer agrees
    db.session.rollback()
    # a worker who still works somewhere has not departed: nothing to correct here
    assert not access.may_correct_departed(hr, world.wA2)
    assert not access.may_correct_departed(world.users["region"], world.wA2)


def test_the_departed_page_and_its_correction_forms(departed, make_client):
    world, episode = departed
    users = world.users
    hr = make_client(users["hr"])
    # out of the everyday list, on the departed page (found by IIN)
    assert world.wA.iin not in hr.get("/admin/workers/").get_data(as_text=True)
    assert hr.get(f"/admin/workers/details/?id={world.wA.id}").status_code == 404
    page = hr.get(f"/admin/departed/?q={world.wA.iin}").get_data(as_text=True)
    assert world.wA.full_name in page and f"/admin/departed/worker/?id={world.wA.id}" in page
    assert f"/admin/departed/episode/?id={episode.id}" in page
    assert world.wA2.full_name not in hr.get("/admin/departed/").get_data(as_text=True)  # still works
    assert world.wA.full_name not in make_client(users["hr_b"]).get("/admin/departed/").get_data(as_text=True)
    assert make_client(users["hr_b"]).get(f"/admin/departed/worker/?id={world.wA.id}").status_code == 404
    # the region finds every departed worker of its region, the ministry all; without correction links
    assert world.wA.full_name in make_client(users["region"]).get("/admin/departed/").get_data(as_text=True)
    ministry = make_client(users["ministry"]).get("/admin/departed/").get_data(as_text=True)
    assert world.wA.full_name in ministry and "/admin/departed/worker/" not in ministry

    # the episode form: without a reason nothing is saved; with one, saved and in the history
    form = hr.get(f"/admin/departed/episode/?id={episode.id}").get_data(as_text=True)
    data = _form_values(form)
    data["end_ground"] = str(_ground("RETIREMENT_AGE").id)
    data["end_category"] = "retirement"
    data["reason"] = ""
    resp = hr.post(f"/admin/departed/episode/?id={episode.id}", data=data)
    assert resp.status_code == 200 and "This field is required" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Employment, episode.id).end_ground.code == "EMPLOYEE_INITIATIVE"
    data["reason"] = "Заявление работника о выходе на пенсию"
    resp = hr.post(f"/admin/departed/episode/?id={episode.id}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(Employment, episode.id).end_ground.code == "RETIREMENT_AGE"
    assert db.session.get(Employment, episode.id).end_category == "retirement"

    # the personal-data form, then the history on the page of the hr_chief (who reads the audit trail)
    form = hr.get(f"/admin/departed/worker/?id={world.wA.id}").get_data(as_text=True)
    data = _form_values(form)
    data.update({"phone": "+7 701 000 00 00", "reason": "Новый номер телефона по заявлению"})
    resp = hr.post(f"/admin/departed/worker/?id={world.wA.id}", data=data)
    assert resp.status_code == 302, re.findall(r'text-danger small">([^<]*)', resp.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Worker, world.wA.id).phone == "+7 701 000 00 00"
    page = make_client(users["hr_chief"]).get(f"/admin/departed/worker/?id={world.wA.id}").get_data(as_text=True)
    assert "Новый номер телефона по заявлению" in page and "Заявление работника о выходе на пенсию" in page

    # after the window, the HR no longer finds the worker; the region still corrects
    clock.set_today(date(2027, 3, 2))
    assert world.wA.full_name not in hr.get("/admin/departed/").get_data(as_text=True)
    assert hr.get(f"/admin/departed/episode/?id={episode.id}").status_code == 404
    region = make_client(users["region"])
    assert region.get(f"/admin/departed/episode/?id={episode.id}").status_code == 200


def _form_values(html: str) -> dict:
    """What a browser submits for the plain correction forms (inputs, selected options, textareas)."""
    data = {m.group(1): m.group(2) for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        first = re.search(r'<option[^>]*value="([^"]*)"', body)  # a browser sends the first one
        data[name] = (chosen.group(1) or chosen.group(2) or "") if chosen else (first.group(1) if first else "")
    for name in re.findall(r'<textarea[^>]*name="([^"]+)"', html):
        data.setdefault(name, "")
    return data
