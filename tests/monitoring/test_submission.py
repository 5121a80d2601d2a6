"""Reporting calendar: draft → submit freezes figures; resubmission needs a reason; on time vs the 10th."""
from __future__ import annotations

import json
from datetime import date

import pytest

from profreg import clock
from profreg.errors import DomainError, NotAllowed
from profreg.monitoring import services as S

ASTANA = "710000000"


@pytest.fixture
def setup(factory, db):
    clock.set_today(date(2026, 4, 5))
    region = factory.region(ASTANA)
    org = factory.org(ASTANA)
    factory.worker(org, hire=date(2026, 3, 2))
    factory.worker(org, hire=date(2025, 3, 2))
    ministry = factory.user("ministry")
    reg_user = factory.user("region", region=region)
    return {"region": region, "org": org, "ministry": ministry, "reg_user": reg_user}


def test_submitted_march_report_shows_the_same_figures_in_june(setup, factory, db):
    scope = S.Scope("region", setup["region"].id)
    S.generate_draft("2026-03", scope, setup["reg_user"])
    rep = S.submit("2026-03", scope, setup["reg_user"])
    db.session.commit()
    first_checksum = rep.checksum
    assert rep.status == "submitted" and len(rep.checksum) == 64
    frozen = S.snapshot_of(rep)
    assert frozen["recordkeeping"]["totals"]["headcount"] == 2
    # data change afterwards: a worker hired back in March is entered in June
    clock.set_today(date(2026, 6, 15))
    factory.worker(setup["org"], hire=date(2026, 3, 10))
    db.session.commit()
    shown, stored = S.report_for_display("2026-03", scope, setup["ministry"])
    assert shown == frozen and stored.checksum == rep.checksum
    live, _ = S.report_for_display("2026-03", scope, setup["ministry"], live=True)
    assert live["recordkeeping"]["totals"]["headcount"] == 3
    # a submitted report cannot be regenerated or submitted twice
    with pytest.raises(DomainError):
        S.generate_draft("2026-03", scope, setup["reg_user"])
    with pytest.raises(DomainError):
        S.submit("2026-03", scope, setup["reg_user"])
    # resubmission needs a reason, keeps the previous submission in history
    with pytest.raises(DomainError):
        S.resubmit("2026-03", scope, setup["reg_user"], "")
    rep2 = S.resubmit("2026-03", scope, setup["reg_user"], "late entry of a March hire")
    db.session.commit()
    assert S.snapshot_of(rep2)["recordkeeping"]["totals"]["headcount"] == 3
    hist = json.loads(rep2.history)
    assert len(hist) == 1 and hist[0]["checksum"] == first_checksum != rep2.checksum
    assert rep2.resubmission_reason == "late entry of a March hire"
    # on time was decided by the first submission (5 April)
    assert S.submission_status(rep2, "2026-03")["status"] == S.ON_TIME


def test_tampered_snapshot_is_detected(setup, db):
    scope = S.Scope("region", setup["region"].id)
    S.generate_draft("2026-03", scope, setup["reg_user"])
    rep = S.submit("2026-03", scope, setup["reg_user"])
    rep.snapshot = rep.snapshot.replace('"headcount":2', '"headcount":20')
    with pytest.raises(DomainError):
        S.snapshot_of(rep)


def test_on_time_and_late_against_the_tenth(setup, db):
    scope = S.Scope("region", setup["region"].id)
    clock.set_today(date(2026, 4, 10))  # the 10th itself is on time
    S.generate_draft("2026-03", scope, setup["reg_user"])
    rep = S.submit("2026-03", scope, setup["reg_user"])
    assert S.submission_status(rep, "2026-03")["status"] == S.ON_TIME
    clock.set_today(date(2026, 5, 13))  # 10 May 2026 is a Sunday, the 11th the observed Victory Day: due the 12th
    S.generate_draft("2026-04", scope, setup["reg_user"])
    rep = S.submit("2026-04", scope, setup["reg_user"])
    assert S.submission_status(rep, "2026-04")["status"] == S.LATE
    # statuses per region: ministry sees every region, the region user its own
    rows = S.region_statuses("2026-04", setup["ministry"])
    assert len(rows) > 10
    mine = {r["region"].code: r["status"] for r in rows}
    assert mine[ASTANA] == S.LATE and set(mine.values()) >= {S.NOT_STARTED}
    own = S.region_statuses("2026-04", setup["reg_user"])
    assert [r["region"].code for r in own] == [ASTANA]
    # May's report, not started, is overdue after 10 June
    assert S.submission_status(None, "2026-05", date(2026, 6, 11)) == {
        "status": S.NOT_STARTED, "overdue": True, "due": date(2026, 6, 10), "submitted_on": None,
        "received": False, "received_at": None}


def test_period_must_have_ended(setup):
    scope = S.Scope("region", setup["region"].id)
    with pytest.raises(DomainError):
        S.generate_draft("2026-04", scope, setup["reg_user"])  # today is 5 April


def test_scoping_of_reports(setup, factory, db):
    other = factory.region("750000000")
    other_org = factory.org("750000000")
    reg_user, ministry = setup["reg_user"], setup["ministry"]
    assert S.authorize(reg_user, S.Scope("region", setup["region"].id))
    assert not S.authorize(reg_user, S.Scope("region", other.id))
    assert not S.authorize(reg_user, S.Scope("org", other_org.id))
    assert S.authorize(reg_user, S.Scope("org", setup["org"].id))
    assert not S.authorize(reg_user, S.Scope("country"))
    assert S.authorize(ministry, S.Scope("country"), "submit")
    head = factory.user("org_head", org=setup["org"])
    assert S.authorize(head, S.Scope("org", setup["org"].id))
    assert not S.authorize(head, S.Scope("org", setup["org"].id), "create")
    assoc = factory.user("association", specialties=["NURSING"])
    assert not S.authorize(assoc, S.Scope("country"))
    with pytest.raises(NotAllowed):
        S.generate_draft("2026-03", S.Scope("region", other.id), reg_user)


def test_a_deadline_on_a_holiday_moves_to_the_next_working_day(setup, app, db):
    """10.05.2027 is the observed Victory Day holiday: April 2027's report submitted on 11.05.2027, the
    next working day, is on time; with the setting that keeps the literal date it is late."""
    scope = S.Scope("region", setup["region"].id)
    clock.set_today(date(2027, 5, 11))
    S.generate_draft("2027-04", scope, setup["reg_user"])
    rep = S.submit("2027-04", scope, setup["reg_user"])
    assert S.due_date("2027-04") == date(2027, 5, 11)
    assert S.submission_status(rep, "2027-04")["status"] == S.ON_TIME
    app.config["DEADLINES_MOVE_TO_WORKING_DAY"] = False
    try:
        assert S.due_date("2027-04") == date(2027, 5, 10)
        assert S.submission_status(rep, "2027-04")["status"] == S.LATE
    finally:
        app.config["DEADLINES_MOVE_TO_WORKING_DAY"] = True
    # a working day stays as it is; a weekend moves to Monday
    assert S.due_date("2027-05") == date(2027, 6, 10)  # Thursday
    assert S.due_date("2026-12") == date(2027, 1, 11)  # the 10th is a Sunday
