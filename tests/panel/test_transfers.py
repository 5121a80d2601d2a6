"""Transfers between organizations (docs/integrity.md): organization B hires a worker who still holds a
current episode in organization A; A's HR is told (in-app and by mail, in each user's language); A's
episode shows "pending transfer"; after the due date (3 working days after the entry) the region
coordinator sees it on its worklist and may end A's episode on A's behalf; the monthly report counts
one move and the headcount counts the worker once. A concurrent hire, or a hire of a worker with no
current episode elsewhere, opens nothing."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from profreg import clock
from profreg.audit.models import AuditLog
from profreg.errors import DomainError, NotAllowed
from profreg.extensions import db
from profreg.monitoring import services as monitoring
from profreg.notifications.models import TRANSFER_OPENED, MailOutbox, Notice, Notification
from profreg.notifications.services import notice_text, queue_digests, render_mail
from profreg.reference.models import LabourCodeGround, Position, Specialty
from profreg.workdays.services import entry_deadline
from profreg.workers import services
from profreg.workers.models import TRANSFER_ENDED, TRANSFER_OPEN, Employment, Transfer

from .conftest import make_user, parse_form

HIRED = date(2026, 11, 23)  # B's hire (a Monday); the entry is made on ``today``, Wed 25 Nov 2026


@pytest.fixture
def move(world, today):
    """World + A's HR users in two languages, an inactive one, B's HR and a region coordinator of R2."""
    users = world.users
    users["hr"].locale, users["hr_chief"].locale = "kk", "ru"
    users["hr_off"] = make_user(db, "hr", org=world.orgA2)  # another organization of region R1
    users["hr_b"] = make_user(db, "hr", org=world.orgB)
    users["hr_chief_b"] = make_user(db, "hr_chief", org=world.orgB)
    users["region_b"] = make_user(db, "region", region=world.R2)
    # (make_user names users by role, organization and number of specialties: one more to differ)
    inactive = make_user(db, "hr_chief", org=world.orgA, specialties=[world.factory.ref(Specialty, "NURSING")])
    inactive.active = False
    users["inactive_a"] = inactive
    db.session.commit()
    return world


def _hire_form(world, client, worker, **extra):
    page = client.get("/admin/workers/hire/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    ref = world.factory.ref
    data = {"csrf_token": token, "iin": worker.iin, "surname": worker.surname,
            "birth_date": worker.birth_date.isoformat(),
            "position": str(ref(Position, "NURSE").id), "specialty": str(ref(Specialty, "NURSING").id),
            "hire_date": HIRED.isoformat(), "fte": "1.00"}
    data.update(extra)
    return data


def _transfers(worker=None):
    db.session.expire_all()
    q = select(Transfer).order_by(Transfer.id)
    if worker is not None:
        q = q.where(Transfer.worker_id == worker.id)
    return db.session.execute(q).scalars().all()


def _a_episode(world):
    return db.session.execute(select(Employment).where(Employment.worker_id == world.wA.id,
                                                       Employment.organization_id == world.orgA.id)).scalar_one()


def _hire_by_b(world, make_client, **extra):
    hr_b = make_client(world.users["hr_b"])
    resp = hr_b.post("/admin/workers/hire/", data=_hire_form(world, hr_b, world.wA, **extra))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return hr_b


def test_a_transfer_from_a_to_b_end_to_end(move, make_client, today):
    world, users = move, move.users
    _hire_by_b(world, make_client)

    # one transfer: A must end its episode by the 3rd working day after the entry, A's region
    transfer, = _transfers(world.wA)
    a_episode = _a_episode(world)
    assert (transfer.status, transfer.organization_id, transfer.to_organization_id) == (
        TRANSFER_OPEN, world.orgA.id, world.orgB.id)
    assert transfer.from_employment_id == a_episode.id and transfer.to_employment.hire_date == HIRED
    assert transfer.region_id == world.R1.id and transfer.hire_date == HIRED
    assert transfer.due_date == entry_deadline(today) == date(2026, 11, 30)

    # A's HR users (active hr and hr_chief of A) are told in-app and by mail, each in their language
    notice, = db.session.execute(select(Notice).where(Notice.kind == TRANSFER_OPENED)).scalars()
    told = set(db.session.execute(select(Notification.user_id).where(Notification.notice_id == notice.id)).scalars())
    assert told == {users["hr"].id, users["hr_chief"].id}
    mails = {m.user_id: m for m in db.session.execute(select(MailOutbox).where(MailOutbox.notice_id == notice.id))
             .scalars()}
    assert set(mails) == told and mails[users["hr"].id].locale == "kk" and mails[users["hr_chief"].id].locale == "ru"
    assert {m.recipient for m in mails.values()} == {users["hr"].email, users["hr_chief"].email}
    assert all(m.worker_id is None and m.kind == TRANSFER_OPENED and m.state == "pending" for m in mails.values())
    subject, body = render_mail(mails[users["hr"].id])
    assert world.wA.full_name in body and world.orgB.name_kk in body and world.orgA.name_kk in body
    assert "Қызметкеріңіз" in body and "Кәсіптік тіркелім" in subject and "hired" not in body
    subject, body = render_mail(mails[users["hr_chief"].id])
    assert world.orgB.name_ru in body and "Ваш работник" in body and "hired" not in body
    assert "was hired by" in notice_text(notice) and world.orgB.name_en in notice_text(notice)
    # the mail carried the in-app rows: the certificate digest does not send them again
    assert queue_digests(today)["mails_queued"] == 0
    db.session.commit()
    page = make_client(users["hr"]).get("/admin/notifications/").get_data(as_text=True)  # in Kazakh
    assert world.wA.full_name in page and "ұйымына жұмысқа алынды" in page, page

    # A's episode shows "pending transfer" to A (employment list and the worker page; this user reads Kazakh)
    hr_a = make_client(users["hr"])
    pending = "ауысу күтілуде"
    listing = hr_a.get("/admin/employment/").get_data(as_text=True)
    assert listing.count(pending) == 1
    assert pending in hr_a.get(f"/admin/workers/details/?id={world.wA.id}&tab=employments").get_data(as_text=True)

    # before the due date: not on the region's worklist, and the region may not end it yet
    region = make_client(users["region"])
    assert world.wA.iin not in region.get("/admin/transfers/?show=overdue").get_data(as_text=True)
    assert world.wA.iin in region.get("/admin/transfers/?show=open").get_data(as_text=True)
    with pytest.raises(DomainError):
        services.end_transferred_episode(transfer, user=users["region"], reason="Просрочено")

    # after 3 working days the region sees it on its worklist and ends A's episode on A's behalf
    assert "Transfers past their due date" in region.get("/admin/").get_data(as_text=True)
    assert _tile(region, "/admin/transfers/?show=overdue") == "0"
    clock.set_today(date(2026, 12, 1))
    assert _tile(region, "/admin/transfers/?show=overdue") == "1"
    page = region.get("/admin/transfers/?show=overdue").get_data(as_text=True)
    assert world.wA.iin in page and f"/admin/transfers/end/?id={transfer.id}" in page
    form = region.get(f"/admin/transfers/end/?id={transfer.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    empty = region.post(f"/admin/transfers/end/?id={transfer.id}", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 200 and _transfers(world.wA)[0].status == TRANSFER_OPEN
    done = region.post(f"/admin/transfers/end/?id={transfer.id}",
                       data={"csrf_token": token, "reason": "Организация не завершила эпизод в срок"})
    assert done.status_code == 302
    db.session.expire_all()
    a_episode, transfer = _a_episode(world), _transfers(world.wA)[0]
    assert a_episode.end_date == HIRED - timedelta(days=1) and a_episode.end_ground.code == "TRANSFER"
    assert a_episode.end_category == "transfer"
    assert transfer.status == TRANSFER_ENDED and transfer.ended_by_id == users["region"].id
    entry = db.session.execute(select(AuditLog).where(AuditLog.table_name == "employment",
                                                      AuditLog.record_id == a_episode.id,
                                                      AuditLog.action == "update")).scalar_one()
    assert entry.detail == "Организация не завершила эпизод в срок" and entry.user_id == users["region"].id
    assert entry.changes["end_date"] == [None, "2026-11-22"]
    assert db.session.execute(select(AuditLog).where(AuditLog.table_name == "transfer",
                                                     AuditLog.action == "update")).scalar_one().detail == entry.detail
    assert pending not in hr_a.get("/admin/employment/").get_data(as_text=True)

    # the monthly report: one move between the two regions, no exit; the worker counted once
    report = monitoring.compute_report("2026-11", monitoring.Scope())
    moves = report["migration"]["totals"]
    assert (moves["between_regions_out"], moves["between_regions_in"], moves["within_region_out"]) == (1, 1, 0)
    assert [(f["from"], f["to"], f["count"]) for f in report["migration"]["flows"]] == [
        ("710000000", "750000000", 1)]
    assert report["outflow"]["totals"]["total"] == 0 and moves["transfer_unmatched"] == 0
    # three workers (wA now at B only, wA2, wB), each once
    assert report["recordkeeping"]["totals"]["headcount"] == 3
    assert {r["code"]: r["headcount"] for r in report["recordkeeping"]["by_region"]} == {
        "710000000": 1, "750000000": 2}


def _tile(client, url):
    """The dashboard value linked to ``url``."""
    page = client.get("/admin/").get_data(as_text=True)
    return re.search(rf'href="{re.escape(url)}"[^>]*>.*?dashboard-value[^>]*>([^<]*)<', page.replace("&amp;", "&"),
                     re.S).group(1)


def test_before_it_is_ended_the_worker_counts_once(move, make_client, today):
    world = move
    _hire_by_b(world, make_client)
    report = monitoring.compute_report("2026-11", monitoring.Scope())
    totals = report["recordkeeping"]["totals"]
    assert totals["headcount"] == 3  # wA (two episodes held at the month end), wA2, wB
    assert totals["fte"] == 4.0  # FTE is every episode's: 1 + 1 at A and B, wA2, wB
    by_region = {r["code"]: r["headcount"] for r in report["recordkeeping"]["by_region"]}
    assert by_region == {"710000000": 2, "750000000": 1}  # wA on his primary (A's) episode
    assert report["migration"]["totals"]["between_regions_out"] == 0  # nothing ended yet


def test_a_ends_its_episode_as_usual_any_day(move, make_client, today):
    """A's HR ends the episode the normal way (the episode form, any end date): the transfer closes,
    and the move is still counted once even though A's end date is after B's hire."""
    world, users = move, move.users
    _hire_by_b(world, make_client)
    transfer, = _transfers(world.wA)
    hr_a = make_client(users["hr"])
    episode = _a_episode(world)
    page = hr_a.get(f"/admin/employment/edit/?id={episode.id}")
    assert page.status_code == 200
    data = dict(parse_form(page.get_data(as_text=True)).data)
    data.update({"end_date": "2026-11-24", "end_ground": str(world.factory.ref(LabourCodeGround, "EMPLOYEE_INITIATIVE").id),
                 "end_category": "in_sector"})
    resp = hr_a.post(f"/admin/employment/edit/?id={episode.id}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    transfer = _transfers(world.wA)[0]
    assert transfer.status == TRANSFER_ENDED and transfer.ended_by_id == users["hr"].id
    assert db.session.execute(select(AuditLog).where(AuditLog.table_name == "transfer",
                                                     AuditLog.record_id == transfer.id,
                                                     AuditLog.action == "update")).first() is not None
    report = monitoring.compute_report("2026-11", monitoring.Scope())
    assert report["migration"]["totals"]["between_regions_out"] == 1
    assert report["outflow"]["totals"]["total"] == 0


def test_who_may_end_the_episode_of_a_transfer(move, make_client, today):
    world, users = move, move.users
    _hire_by_b(world, make_client)
    transfer, = _transfers(world.wA)
    clock.set_today(date(2026, 12, 2))
    for role in ("hr_b", "hr_chief_b", "region_b", "ministry", "org_head", "hr_off"):
        with pytest.raises(NotAllowed):
            services.end_transferred_episode(transfer, user=users[role], reason="x")
        assert not services.may_end_transfer(users[role], transfer)
    # B's HR and the other region see the transfer, without the action; A's organization too
    for role in ("hr_b", "region_b", "ministry", "org_head"):
        page = make_client(users[role]).get("/admin/transfers/").get_data(as_text=True)
        assert world.wA.iin in page and "/admin/transfers/end/" not in page, role
    assert make_client(users["hr_b"]).get(f"/admin/transfers/end/?id={transfer.id}").status_code == 403
    assert make_client(users["hr_off"]).get("/admin/transfers/").get_data(as_text=True).count(world.wA.iin) == 0
    # A's own HR may end it any time, before the due date as well
    clock.set_today(today)
    assert services.may_end_transfer(users["hr_chief"], transfer)
    services.end_transferred_episode(transfer, user=users["hr_chief"], reason="Приказ № 12")
    db.session.flush()
    assert transfer.status == TRANSFER_ENDED and transfer.from_employment.end_date == date(2026, 11, 22)
    with pytest.raises(DomainError):
        services.end_transferred_episode(transfer, user=users["hr_chief"], reason="again")


def test_a_concurrent_hire_opens_no_transfer(move, make_client, today):
    world = move
    _hire_by_b(world, make_client, concurrent="y")
    assert _transfers() == []
    new = db.session.execute(select(Employment).where(Employment.organization_id == world.orgB.id,
                                                      Employment.worker_id == world.wA.id)).scalar_one()
    assert new.concurrent and not new.is_main
    assert db.session.execute(select(Notice).where(Notice.kind == TRANSFER_OPENED)).first() is None
    assert db.session.execute(select(MailOutbox).where(MailOutbox.kind == TRANSFER_OPENED)).first() is None


def test_a_hire_with_no_current_episode_elsewhere_opens_none(move, make_client, today):
    world = move
    episode = _a_episode(world)
    episode.end_date = date(2026, 11, 20)
    db.session.commit()
    _hire_by_b(world, make_client)
    assert _transfers() == []
    # a first hire (the Create form's path) has no other episode at all
    worker = world.factory.worker(None, surname="Новенькая")
    services.hire(worker, organization=world.orgB, position=world.factory.ref(Position, "ECONOMIST"),
                  hire_date=today)
    assert _transfers() == []


def test_every_path_that_opens_an_episode(move, make_client, app, today):
    """The episode form and the CLI open transfers too; marking the episode concurrent cancels its
    transfer, and an annulled old episode cancels it."""
    world, users = move, move.users
    ref = world.factory.ref
    # the episode form (Employment → Create) of B's HR: for a worker already in B's scope (a concurrent
    # post there); a worker of another organization is hired through "Hire a registered worker"
    side = world.factory.employment(world.wA, world.orgB, position="NURSE", hire=date(2026, 1, 12), fte="0.25")
    side.concurrent, side.is_main = True, False
    db.session.commit()
    hr_b = make_client(users["hr_b"])
    page = hr_b.get("/admin/employment/new/")
    data = dict(parse_form(page.get_data(as_text=True)).data)
    data.update({"worker": str(world.wA.id), "position": str(ref(Position, "NURSE").id),
                 "specialty": str(ref(Specialty, "NURSING").id), "fte": "0.5", "hire_date": HIRED.isoformat()})
    data.pop("concurrent", None)
    resp = hr_b.post("/admin/employment/new/", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    transfer, = _transfers(world.wA)
    assert transfer.status == TRANSFER_OPEN and transfer.to_employment.is_main
    # B marks it concurrent after all: the transfer is cancelled; unmarked: it opens again
    new = transfer.to_employment
    page = hr_b.get(f"/admin/employment/edit/?id={new.id}")
    data = dict(parse_form(page.get_data(as_text=True)).data)
    assert hr_b.post(f"/admin/employment/edit/?id={new.id}", data={**data, "concurrent": "y"}).status_code == 302
    transfer = _transfers(world.wA)[0]
    assert transfer.status == "cancelled" and not transfer.to_employment.is_main
    data.pop("concurrent", None)
    assert hr_b.post(f"/admin/employment/edit/?id={new.id}", data=data).status_code == 302
    transfer = _transfers(world.wA)[0]
    assert transfer.status == TRANSFER_OPEN and transfer.to_employment.is_main
    # the CLI, with and without --concurrent
    runner = app.test_cli_runner()
    args = ["profreg", "workers", "hire", "--iin", world.wB.iin, "--org", world.orgA2.bin, "--position", "NURSE",
            "--date", today.isoformat()]
    res = runner.invoke(args=[*args, "--concurrent"])
    assert res.exit_code == 0 and "concurrent" in res.output and "transfer" not in res.output, res.output
    assert _transfers(world.wB) == []
    res = runner.invoke(args=[*args[:6], world.orgA.bin, *args[7:]])
    assert res.exit_code == 0 and f"{world.orgB.bin} must end" in res.output, res.output
    cli_transfer, = _transfers(world.wB)
    assert cli_transfer.organization_id == world.orgB.id and cli_transfer.region_id == world.R2.id
    # an annulled old episode leaves nothing to end
    old = cli_transfer.from_employment
    old.annulled_at = clock.utcnow_naive()
    db.session.flush()
    assert cli_transfer.status == "cancelled"
