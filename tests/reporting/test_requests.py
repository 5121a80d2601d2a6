"""Requests of the authorized body: registered (topic, scope, period, due date), answered by the national
or regional coordinator with a frozen snapshot or an attached file, received; all on the calendar."""
from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest

from profreg import clock
from profreg.errors import DomainError, NotAllowed
from profreg.reporting import services as R
from tests.conftest import login

ASTANA, ALMATY = "710000000", "750000000"


@pytest.fixture
def setup(factory, db):
    clock.set_today(date(2027, 4, 20))
    region, other = factory.region(ASTANA), factory.region(ALMATY)
    org = factory.org(ASTANA)
    factory.worker(org, hire=date(2027, 3, 2))
    factory.worker(org, hire=date(2025, 3, 2))
    return {"region": region, "other": other, "ministry": factory.user("ministry"),
            "coordinator": factory.user("region", region=region), "stranger": factory.user("region", region=other),
            "authority": factory.user("authority")}


def test_request_answered_with_a_snapshot_then_received(setup, db):
    authority, coordinator = setup["authority"], setup["coordinator"]
    scope = R.Scope("region", setup["region"].id)
    with pytest.raises(NotAllowed):  # coordinators answer requests, they do not register them
        R.register_request(coordinator, "Headcount of nurses", scope, "2027-03", date(2027, 4, 30))
    for bad in (("x", "2027-03", date(2027, 4, 30)), ("Headcount of nurses", "March", date(2027, 4, 30)),
                ("Headcount of nurses", "2027-03", date(2027, 4, 1))):
        with pytest.raises(DomainError):
            R.register_request(authority, bad[0], scope, bad[1], bad[2])
    # due on Saturday 1 May 2027 (a holiday too): moved to the next working day
    req = R.register_request(authority, "Headcount of nurses, March", scope, "2027-03", date(2027, 5, 1))
    db.session.commit()
    item = next(i for i in R.calendar_items(coordinator) if i.kind == R.REQUEST)
    assert item.state == R.DUE and item.due > date(2027, 5, 1) and item.topic == "Headcount of nurses, March"
    assert not [i for i in R.calendar_items(setup["stranger"]) if i.kind == R.REQUEST]
    with pytest.raises(NotAllowed):
        R.answer_with_snapshot(req.id, setup["stranger"])
    with pytest.raises(NotAllowed):
        R.answer_with_snapshot(req.id, authority)
    row = R.answer_with_snapshot(req.id, coordinator)
    db.session.commit()
    snap = R.snapshot_of(row)
    assert row.status == "submitted" and len(row.checksum) == 64 and snap["answer"] == "monthly"
    assert snap["figures"]["recordkeeping"]["totals"]["headcount"] == 2 and snap["request"]["topic"] == req.topic
    assert R.document_state(row, R.due_of(R.REQUEST, row))["status"] == R.frozen.ON_TIME
    R.receive(R.REQUEST, row.id, authority)
    item = next(i for i in R.calendar_items(authority) if i.kind == R.REQUEST)
    assert item.state == R.RECEIVED and item.row.received_by_id == authority.id
    # a second answer replaces the first only with a reason, and asks for a new receipt
    with pytest.raises(DomainError):
        R.answer_with_snapshot(req.id, coordinator)
    row = R.answer_with_snapshot(req.id, setup["ministry"], "figures corrected after an audit")
    assert row.received_at is None and row.resubmission_reason == "figures corrected after an audit"


def test_request_answered_with_a_file_late(setup, db, client):
    authority, ministry = setup["authority"], setup["ministry"]
    req = R.register_request(authority, "Forecast of the need for anaesthetists", R.Scope("country"), "2027q2",
                             date(2027, 4, 21))
    assert req.period == "2027Q2"
    clock.set_today(date(2027, 4, 23))
    assert next(i for i in R.calendar_items(ministry) if i.kind == R.REQUEST).state == R.OVERDUE
    content = b"%PDF-1.4 answer of the national coordinator"
    row = R.answer_with_file(req.id, ministry, "../answer.pdf", content, "application/pdf")
    db.session.commit()
    snap = R.snapshot_of(row)
    assert snap["file"] == {"name": "answer.pdf", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    assert R.document_state(row, R.due_of(R.REQUEST, row))["status"] == R.frozen.LATE
    login(client, authority)
    r = client.get(f"/admin/reporting/document/file?kind=request&id={row.id}")
    assert r.status_code == 200 and r.data == content
    assert client.get(f"/admin/reporting/document?kind=request&id={row.id}").status_code == 200
    assert client.get("/admin/monitoring/").status_code == 403  # no live figures for the authorized body
    assert client.get("/admin/workers/").status_code == 403
    # a stored file that no longer matches its frozen checksum is refused
    row.file_data = b"something else"
    db.session.commit()
    r = client.get(f"/admin/reporting/document/file?kind=request&id={row.id}")
    assert r.status_code == 302


def test_request_registered_and_answered_through_the_pages(setup, db, client):
    import re

    login(client, setup["authority"])
    page = client.get("/admin/reporting/?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/admin/reporting/request", data={"csrf_token": token, "topic": "Outflow of doctors, March",
                                                     "scope": f"region:{setup['region'].id}", "period": "2027-03",
                                                     "due_date": "2027-04-30"})
    assert r.status_code == 302
    req = db.session.execute(db.select(R.ReportingRequest)).scalar_one()
    assert req.created_by_id == setup["authority"].id and req.scope_id == setup["region"].id
    client.get("/logout")
    login(client, setup["coordinator"])
    doc = client.get(f"/admin/reporting/document?kind=request&id={req.id}&lang=en").get_data(as_text=True)
    assert "Answer the request" in doc
    token = re.search(r'name="csrf_token" value="([^"]+)"', doc).group(1)
    r = client.post("/admin/reporting/answer", data={"csrf_token": token, "kind": "request", "id": str(req.id),
                                                    "file": (io.BytesIO(b"a;b\n1;2\n"), "answer.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    req = db.session.get(R.ReportingRequest, req.id)
    assert req.status == "submitted" and req.answer_kind == "file" and req.file_name == "answer.csv"
    client.get("/logout")
    login(client, setup["stranger"])
    assert client.get(f"/admin/reporting/document?kind=request&id={req.id}").status_code == 404
