"""Quarterly forecast submissions (rule 7): drafted, frozen with SHA-256, submitted against a due date
moved by the working-day calendar, resubmitted with a reason, received by the authorized body; the
qualification-confirmation calendar counts qualification categories too."""
from __future__ import annotations

import io
import json
from datetime import date, datetime

import openpyxl
import pytest

from profreg import clock
from profreg.education.models import QualificationCategory
from profreg.errors import DomainError, NotAllowed
from profreg.reference.models import QualificationCategoryType
from profreg.reporting import services as R
from tests.conftest import login

ASTANA = "710000000"
COUNTRY = R.Scope("country")


@pytest.fixture
def setup(factory, db, ref):
    clock.set_today(date(2027, 3, 20))
    region = factory.region(ASTANA)
    org = factory.org(ASTANA)
    w1 = factory.worker(org, hire=date(2020, 3, 2), certificate_until=date(2027, 5, 31))
    w2 = factory.worker(org, hire=date(2021, 3, 2))
    cat = ref(QualificationCategoryType, "FIRST")
    # w2: a category ending in 2027Q3 (renewed: the earlier one ending in Q2 is not counted), w1: one in Q2
    for worker, award, until in ((w2, date(2022, 6, 1), date(2027, 6, 30)), (w2, date(2027, 1, 15), date(2027, 8, 1)),
                                 (w1, date(2022, 5, 5), date(2027, 5, 5))):
        db.session.add(QualificationCategory(worker=worker, category=cat, award_date=award, valid_until=until,
                                             specialty=w1.employments[0].specialty))
    db.session.flush()
    users = {"ministry": factory.user("ministry"), "coordinator": factory.user("region", region=region),
             "authority": factory.user("authority", email="authority@test.kz"),
             "hr": factory.user("hr", org=org)}
    return {"region": region, "org": org, **users}


def test_forecast_is_drafted_frozen_submitted_on_time_and_received(setup, db, app):
    ministry, authority = setup["ministry"], setup["authority"]
    # 10 April 2027 is a Saturday: the forecast of 2027Q2 is due on Monday the 12th
    assert R.forecast_due_date("2027Q2") == date(2027, 4, 12)
    app.config["DEADLINES_MOVE_TO_WORKING_DAY"] = False
    try:
        assert R.forecast_due_date("2027Q2") == date(2027, 4, 10)
    finally:
        app.config["DEADLINES_MOVE_TO_WORKING_DAY"] = True
    with pytest.raises(DomainError):  # the quarter has not begun: its base date has not passed
        R.generate_forecast_draft("2027Q2", COUNTRY, ministry)
    clock.set_today(date(2027, 4, 12))
    with pytest.raises(NotAllowed):  # read-only: the authorized body drafts nothing
        R.generate_forecast_draft("2027Q2", COUNTRY, authority)
    row = R.generate_forecast_draft("2027Q2", COUNTRY, ministry)
    assert row.status == "draft" and row.checksum is None
    # a draft is not the authorized body's to read
    with pytest.raises(NotAllowed):
        R.get_document(R.FORECAST, row.id, authority)
    assert [i.state for i in R.calendar_items(authority) if i.kind == R.FORECAST and i.period == "2027Q2"] == [R.DUE]
    row = R.submit_forecast("2027Q2", COUNTRY, ministry)
    db.session.commit()
    assert row.status == "submitted" and len(row.checksum) == 64
    snap = R.snapshot_of(row)
    assert snap["quarter"] == "2027Q2" and snap["due_date"] == "2027-04-12"
    # the qualification-confirmation calendar: certificates and (latest) qualification categories
    assert snap["certificates"]["totals"][:2] == [1, 0]
    assert snap["categories"]["totals"][:2] == [1, 1]
    assert R.forecast_status(row, "2027Q2")["status"] == R.frozen.ON_TIME
    # the authorized body sees it nationwide and acknowledges receipt
    assert R.get_document(R.FORECAST, row.id, authority) is row
    with pytest.raises(NotAllowed):  # a coordinator does not acknowledge receipt
        R.receive(R.FORECAST, row.id, ministry)
    R.receive(R.FORECAST, row.id, authority)
    db.session.commit()
    assert row.received_by_id == authority.id and row.received_at is not None
    with pytest.raises(DomainError):  # once
        R.receive(R.FORECAST, row.id, authority)
    items = [i for i in R.calendar_items(authority) if i.kind == R.FORECAST and i.period == "2027Q2"]
    assert [i.state for i in items] == [R.RECEIVED]
    # the frozen figures stay frozen while the register changes; a resubmission needs a reason,
    # keeps the previous submission (and its receipt) in history and asks for a new receipt
    factory_snap = json.loads(row.snapshot)
    clock.set_today(date(2027, 4, 20))
    with pytest.raises(DomainError):
        R.resubmit_forecast("2027Q2", COUNTRY, ministry, "")
    first = row.checksum
    row = R.resubmit_forecast("2027Q2", COUNTRY, ministry, "staffing tables corrected")
    hist = json.loads(row.history)
    assert len(hist) == 1 and hist[0]["checksum"] == first and hist[0]["received_by_id"] == authority.id
    assert row.received_at is None and row.resubmission_reason == "staffing tables corrected"
    assert R.forecast_status(row, "2027Q2")["status"] == R.frozen.ON_TIME  # decided by the first submission
    assert factory_snap["quarter"] == json.loads(row.snapshot)["quarter"]


def test_forecast_submitted_after_its_due_date_is_flagged_late(setup, db):
    clock.set_today(date(2027, 7, 13))  # due Monday 12 July (10 July 2027 is a Saturday)
    authority = setup["authority"]
    item = next(i for i in R.calendar_items(authority) if i.kind == R.FORECAST and i.period == "2027Q3")
    assert item.state == R.OVERDUE and item.due == date(2027, 7, 12)
    R.generate_forecast_draft("2027Q3", COUNTRY, setup["ministry"])
    row = R.submit_forecast("2027Q3", COUNTRY, setup["ministry"])
    db.session.commit()
    st = R.forecast_status(row, "2027Q3")
    assert st["status"] == R.frozen.LATE and st["submitted_on"] == date(2027, 7, 13)
    item = next(i for i in R.calendar_items(authority) if i.kind == R.FORECAST and i.period == "2027Q3")
    assert item.state == R.frozen.LATE
    R.receive(R.FORECAST, row.id, authority)
    assert R.forecast_status(row, "2027Q3")["status"] == R.frozen.LATE  # received, still late


def test_a_tampered_forecast_is_not_shown_or_received(setup, db):
    clock.set_today(date(2027, 4, 5))
    R.generate_forecast_draft("2027Q2", COUNTRY, setup["ministry"])
    row = R.submit_forecast("2027Q2", COUNTRY, setup["ministry"])
    row.snapshot = row.snapshot.replace('"quarter":"2027Q2"', '"quarter":"2027Q3"')
    with pytest.raises(DomainError):
        R.snapshot_of(row)
    with pytest.raises(DomainError):
        R.receive(R.FORECAST, row.id, setup["authority"])


def test_region_coordinator_submits_its_own_region_only(setup, db):
    clock.set_today(date(2027, 4, 5))
    coordinator, reg = setup["coordinator"], R.Scope("region", setup["region"].id)
    with pytest.raises(NotAllowed):
        R.generate_forecast_draft("2027Q2", COUNTRY, coordinator)
    with pytest.raises(NotAllowed):
        R.generate_forecast_draft("2027Q2", reg, setup["hr"])
    R.generate_forecast_draft("2027Q2", reg, coordinator)
    row = R.submit_forecast("2027Q2", reg, coordinator)
    assert row.scope == "region" and row.status == "submitted"
    # the coordinator's calendar lists its region's stored forecast, the national one is not its own
    mine = [i for i in R.calendar_items(coordinator) if i.kind == R.FORECAST]
    assert {(i.scope.kind, i.period) for i in mine} == {("region", "2027Q2")}


def test_forecast_pages_and_the_xlsx_of_the_frozen_snapshot(setup, db, client):
    clock.set_now(datetime(2027, 4, 5, 10, 0, tzinfo=clock.TZ))
    try:
        login(client, setup["ministry"])
        page = client.get("/admin/forecast/?quarter=2027Q2&scope=country&lang=en")
        assert page.status_code == 200 and "Generate draft" in page.get_data(as_text=True)
        token = _csrf(page.get_data(as_text=True))
        for step in ("generate", "submit"):
            r = client.post(f"/admin/forecast/{step}", data={"quarter": "2027Q2", "scope": "country",
                                                             "csrf_token": token})
            assert r.status_code == 302, step
        row = R.get_forecast("2027Q2", COUNTRY)
        assert row is not None and row.status == "submitted"
        r = client.get("/admin/forecast/export?quarter=2027Q2&scope=country&format=xlsx")
        book = openpyxl.load_workbook(io.BytesIO(r.data))
        cells = [c for ws in book.worksheets for rowc in ws.iter_rows(values_only=True) for c in rowc if c]
        assert any(row.checksum in str(c) for c in cells)
        assert "Qualification categories ending (confirmation calendar)"[:31] in book.sheetnames
        client.get("/logout")
        # the authorized body: the calendar, the frozen document, its xlsx, the receipt
        login(client, setup["authority"])
        cal = client.get("/admin/reporting/?lang=en")
        assert cal.status_code == 200 and "Acknowledge receipt" in cal.get_data(as_text=True)
        assert client.get("/admin/forecast/").status_code == 403  # no figures computed on demand
        doc = client.get(f"/admin/reporting/document?kind=forecast&id={row.id}")
        assert doc.status_code == 200 and row.checksum in doc.get_data(as_text=True)
        x = client.get(f"/admin/reporting/document/export?kind=forecast&id={row.id}&format=xlsx")
        assert x.status_code == 200 and x.data[:2] == b"PK"
        r = client.post("/admin/reporting/receive", data={"kind": "forecast", "id": row.id,
                                                          "csrf_token": _csrf(doc.get_data(as_text=True))})
        assert r.status_code == 302
        db.session.expire_all()
        assert R.get_forecast("2027Q2", COUNTRY).received_by_id == setup["authority"].id
    finally:
        clock.set_now(None)


def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
