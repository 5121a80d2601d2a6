"""Rule 13, keeping the register current (docs/integrity.md, "Entry and currency"): HR confirms that a
record is current, on the worker page and in bulk on the list, only for its own workers; saving any
record of a worker moves the worker's ``updated_at`` (without making an open edit form of the worker
stale); the data-currency figures count both."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from profreg import clock
from profreg.analytics.currency import organization_currency, worklist
from profreg.audit.models import AuditLog
from profreg.errors import NotAllowed
from profreg.extensions import db
from profreg.monitoring.services import Scope
from profreg.reference.models import Position, Specialty, TrainingActivityType
from profreg.workers.models import Worker
from profreg.workers.services import confirm_current
from tests.panel.conftest import parse_form, token

LONG_AGO = datetime(2024, 1, 10, 8, 0)


def _age(*workers) -> None:
    """Make the records look untouched since ``LONG_AGO`` (as a record stored two years ago)."""
    db.session.execute(update(Worker).where(Worker.id.in_([w.id for w in workers]))
                       .values(updated_at=LONG_AGO, confirmed_at=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()


def _fresh(worker) -> Worker:
    db.session.expire_all()
    return db.session.get(Worker, worker.id)


def _confirmations(worker):
    return db.session.execute(select(AuditLog).where(AuditLog.action == "confirm",
                                                     AuditLog.worker_id == worker.id)).scalars().all()


@pytest.mark.parametrize("role", ["hr", "hr_chief"])
def test_hr_confirms_a_record_from_the_worker_page(world, make_client, role, today):
    _age(world.wA)
    user = world.users[role]
    client = make_client(user)
    page = client.get(f"/admin/workers/details/?id={world.wA.id}").get_data(as_text=True)
    assert "Confirm the record is current" in page and 'action="/admin/workers/confirm/"' in page
    version = _fresh(world.wA).version
    resp = client.post("/admin/workers/confirm/", data={"id": str(world.wA.id), "csrf_token": token(client)})
    assert resp.status_code == 302 and f"id={world.wA.id}" in resp.headers["Location"]
    worker = _fresh(world.wA)
    assert worker.confirmed_by_id == user.id and worker.confirmed_at == clock.utcnow_naive()
    assert worker.version == version  # bookkeeping, not an edit: an open edit form stays valid
    assert worker.updated_at == LONG_AGO  # confirmed, not updated
    entry, = _confirmations(world.wA)
    assert entry.user_id == user.id and entry.organization_id == world.orgA.id


def test_confirming_needs_the_right_the_scope_and_a_csrf_token(world, make_client):
    hr = make_client(world.users["hr"])
    tok = token(hr)
    assert hr.post("/admin/workers/confirm/", data={"id": str(world.wA.id)}).status_code == 400  # no CSRF token
    assert hr.post("/admin/workers/confirm/", data={"id": str(world.wB.id), "csrf_token": tok}).status_code == 404
    for role in ("org_head", "ministry", "region"):
        client = make_client(world.users[role])
        assert "Confirm the record is current" not in client.get(f"/admin/workers/details/?id={world.wA.id}") \
            .get_data(as_text=True), role
        resp = client.post("/admin/workers/confirm/", data={"id": str(world.wA.id), "csrf_token": token(client)})
        assert resp.status_code == 403, role
    assert _fresh(world.wA).confirmed_at is None and _fresh(world.wB).confirmed_at is None
    with pytest.raises(NotAllowed):
        confirm_current([world.wA], world.users["org_head"])


def test_bulk_confirmation_confirms_only_the_actors_workers(world, make_client):
    ids = [world.wA.id, world.wA2.id, world.wB.id]  # wA2 and wB work elsewhere
    hr = make_client(world.users["hr"])
    listing = hr.get("/admin/workers/").get_data(as_text=True)
    assert re.search(r'<a[^>]*data-action="confirm"|name="action" value="confirm"|"confirm"', listing)
    resp = hr.post("/admin/workers/action/", data=MultiDict(
        [("action", "confirm"), ("csrf_token", token(hr)), *[("rowid", str(i)) for i in ids], ("rowid", "x")]))
    assert resp.status_code == 302
    assert _fresh(world.wA).confirmed_by_id == world.users["hr"].id
    assert _fresh(world.wA2).confirmed_at is None and _fresh(world.wB).confirmed_at is None
    assert len(_confirmations(world.wA)) == 1 and _confirmations(world.wB) == []
    # the service says how many it confirmed
    assert confirm_current(ids, world.users["hr_chief"]) == 1
    db.session.rollback()
    # roles without the right have no such action
    head = make_client(world.users["org_head"])
    resp = head.post("/admin/workers/action/", data={"action": "confirm", "rowid": str(world.wA.id),
                                                      "csrf_token": token(head)})
    assert _fresh(world.wA).confirmed_by_id == world.users["hr"].id  # unchanged
    assert resp.status_code in (302, 403)


def test_saving_any_record_of_a_worker_moves_his_updated_at(world, make_client, factory):
    ref = factory.ref
    _age(world.wA)
    other = _fresh(world.wB).updated_at
    # through the ORM (CLI, import, jobs): a certificate
    clock.set_now(datetime(2026, 11, 25, 5, 0))
    factory.certificate(world.wA, valid_until=date(2031, 1, 1), issue=date(2026, 1, 1))
    db.session.commit()
    assert _fresh(world.wA).updated_at == datetime(2026, 11, 25, 5, 0)
    # through the panel: a CPD record, then an employment episode
    hr = make_client(world.users["hr"])
    clock.set_now(datetime(2026, 11, 25, 6, 0))
    resp = hr.post("/admin/cpd/new/", data={
        "csrf_token": token(hr), "worker": str(world.wA.id),
        "activity_type": str(ref(TrainingActivityType, "ADV_TRAINING").id), "provider": "НЦПО",
        "topic": "Инфекционный контроль", "start_date": "2026-10-01", "end_date": "2026-10-05", "hours": "36"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    assert _fresh(world.wA).updated_at == datetime(2026, 11, 25, 6, 0)
    clock.set_now(datetime(2026, 11, 25, 7, 0))
    resp = hr.post("/admin/employment/new/", data={
        "csrf_token": token(hr), "worker": str(world.wA.id), "position": str(ref(Position, "CHIEF_DOCTOR").id),
        "fte": "0.25", "hire_date": "2026-11-24"})
    assert resp.status_code == 302
    assert _fresh(world.wA).updated_at == datetime(2026, 11, 25, 7, 0)
    # a record changed in place (an episode ended)
    clock.set_now(datetime(2026, 11, 25, 8, 0))
    episode = sorted(_fresh(world.wA).employments, key=lambda e: e.id)[-1]
    episode.end_date = date(2026, 11, 30)
    db.session.commit()
    assert _fresh(world.wA).updated_at == datetime(2026, 11, 25, 8, 0)
    # the other workers are not touched
    assert _fresh(world.wB).updated_at == other


def test_a_record_saved_elsewhere_does_not_make_an_open_edit_form_stale(world, make_client, factory):
    """HR opens the worker's form; meanwhile a colleague adds a qualification category on the worker
    page of another tab. The form still saves, and the first save of a real conflict still fails."""
    hr, chief = make_client(world.users["hr"]), make_client(world.users["hr_chief"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    opened = MultiDict(parse_form(hr.get(url).get_data(as_text=True)).data)
    version = _fresh(world.wA).version
    clock.set_now(datetime(2026, 11, 25, 9, 0))
    resp = chief.post("/admin/cpd/new/", data={
        "csrf_token": token(chief), "worker": str(world.wA.id),
        "activity_type": str(factory.ref(TrainingActivityType, "ADV_TRAINING").id), "provider": "НЦПО",
        "topic": "Паллиативная помощь", "start_date": "2026-09-01", "end_date": "2026-09-03", "hours": "18"})
    assert resp.status_code == 302
    confirm_current([world.wA], world.users["hr_chief"])
    db.session.commit()
    touched = _fresh(world.wA)
    assert touched.updated_at == datetime(2026, 11, 25, 9, 0) and touched.version == version
    opened["phone"] = "+77010000003"
    resp = hr.post(url, data=opened)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    saved = _fresh(world.wA)
    assert saved.phone == "+77010000003" and saved.version == version + 1


def test_the_worker_form_with_a_new_inline_record_saves_in_one_go(world, make_client, factory):
    """The worker's own update and the touch of his new record in the same flush."""
    hr = make_client(world.users["hr"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    data = MultiDict(parse_form(hr.get(url).get_data(as_text=True)).data)
    n = 1 + max(int(k.split("-")[1]) for k in data if k.startswith("certificates-"))  # after the one on file
    data["phone"] = "+77010000004"
    data.update({f"certificates-{n}-number": "KZ-INLINE-1",
                 f"certificates-{n}-specialty": str(factory.ref(Specialty, "NURSING").id),
                 f"certificates-{n}-issue_date": "2026-01-10", f"certificates-{n}-valid_until": "2031-01-09"})
    clock.set_now(datetime(2026, 11, 25, 10, 0))
    resp = hr.post(url, data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    saved = _fresh(world.wA)
    assert saved.phone == "+77010000004" and saved.updated_at == datetime(2026, 11, 25, 10, 0)
    assert "KZ-INLINE-1" in {c.number for c in saved.certificates}


def test_the_currency_figures_count_a_confirmed_record_as_current(world, today):
    _age(world.wA)
    scope = Scope("org", world.orgA.id)

    def figures():
        row, = [r for r in organization_currency(scope, months=12, today=today) if r["org_id"] == world.orgA.id]
        return row["records"], row["current"]

    assert figures() == (1, 0)
    assert world.wA.id in {r["worker"].id for r in worklist(world.orgA.id, today=today) if r["stale"]}
    confirm_current([world.wA], world.users["hr"])
    db.session.commit()
    assert figures() == (1, 1)
    row, = [r for r in worklist(world.orgA.id, today=today) if r["worker"].id == world.wA.id]
    assert not row["stale"] and row["touched"] == _fresh(world.wA).confirmed_at
    # a confirmation older than the window does not count; a later update does
    db.session.execute(update(Worker).where(Worker.id == world.wA.id)
                       .values(confirmed_at=LONG_AGO, updated_at=LONG_AGO))
    db.session.commit()
    assert figures() == (1, 0)
    factory_cpd(world.wA)
    assert figures() == (1, 1)


def factory_cpd(worker):
    from profreg.training.models import CpdRecord

    db.session.add(CpdRecord(worker_id=worker.id, activity_type=db.session.execute(
        select(TrainingActivityType)).scalars().first(), provider="НЦПО", topic="Этика",
        start_date=date(2026, 10, 1), end_date=date(2026, 10, 2), hours=Decimal("8")))
    db.session.commit()


def test_the_worklist_orders_by_the_later_of_update_and_confirmation(world, today):
    """A record confirmed long ago but updated yesterday is not the oldest on the list."""
    f = world.factory
    old = f.worker(world.orgA, surname="Ескіова")
    db.session.commit()
    _age(world.wA, old)
    db.session.execute(update(Worker).where(Worker.id == world.wA.id)
                       .values(confirmed_at=LONG_AGO - timedelta(days=300), updated_at=datetime(2026, 11, 24)))
    db.session.commit()
    order = [r["worker"].id for r in worklist(world.orgA.id, today=today)]
    assert order.index(old.id) < order.index(world.wA.id)


def test_touched_answers_alike_in_python_and_in_sql(world):
    """The vocabulary's two forms agree: never confirmed, confirmed before, after, at the same moment."""
    t = datetime(2026, 6, 1, 10, 0)
    cases = {world.wA.id: (t, None), world.wA2.id: (t, t - timedelta(days=1)), world.wB.id: (t, t + timedelta(days=1))}
    for wid, (updated, confirmed) in cases.items():
        db.session.execute(update(Worker).where(Worker.id == wid).values(updated_at=updated, confirmed_at=confirmed))
    db.session.commit()
    db.session.expire_all()
    rows = db.session.execute(select(Worker, Worker.touched_at, Worker.touched_since(t + timedelta(hours=1)))
                              .where(Worker.id.in_(cases))).all()
    for worker, touched_sql, since_sql in rows:
        assert worker.touched_at == touched_sql == max(d for d in cases[worker.id] if d is not None)
        assert worker.touched_since(t + timedelta(hours=1)) == bool(since_sql)
    assert {w.id for w, _t, since in rows if since} == {world.wB.id}


def test_the_organizations_ranking_is_shown_a_page_at_a_time_and_exported_whole(world, make_client, monkeypatch):
    """The country's ranking has 2,000 organizations: the page shows ``RANKING_PAGE`` of them with links
    to the others; the csv export holds every one."""
    from profreg.analytics import admin as analytics_admin

    monkeypatch.setattr(analytics_admin, "RANKING_PAGE", 1)
    c = make_client(world.users["ministry"])
    ranked = [r["bin"] for r in organization_currency(Scope(), 12)]
    assert len(ranked) >= 2
    first = c.get("/admin/data-currency/").get_data(as_text=True)
    second = c.get("/admin/data-currency/?page=2").get_data(as_text=True)
    beyond = c.get(f"/admin/data-currency/?page={len(ranked) + 5}").get_data(as_text=True)
    assert ranked[0] in first and ranked[1] not in first and "page=2" in first
    assert ranked[1] in second and ranked[0] not in second and "page=1" in second
    assert ranked[-1] in beyond  # past the end: the last page
    assert f"Organizations 1–1 of {len(ranked)}" in first
    csv = c.get("/admin/data-currency/export").get_data(as_text=True)
    assert all(b in csv for b in ranked)


def test_the_country_counts_each_organization_as_its_own_scope_does(world, today):
    """The country's figures read the workers' flags through a materialized table, an organization's
    and a region's by the index (``organization_currency``): the same rows either way, with a record
    incomplete, one stale and one current among them."""
    db.session.execute(update(Worker).where(Worker.id == world.wA.id).values(id_doc_issuer=" "))
    _age(world.wB)
    db.session.commit()
    country = {r["org_id"]: r for r in organization_currency(Scope(), months=12, today=today)}
    assert len(country) >= 2 and any(r["incomplete"] for r in country.values())
    assert any(r["current"] < r["records"] for r in country.values())
    for org_id, row in country.items():
        own, = organization_currency(Scope("org", org_id), months=12, today=today)
        assert {k: v for k, v in own.items() if k != "rank"} == {k: v for k, v in row.items() if k != "rank"}
