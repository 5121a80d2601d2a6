"""Certificate status rule, set-based sweep, idempotency, crash recovery, save hook, views."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from profreg import clock
from profreg.certificates import services
from profreg.certificates.models import warning_date
from profreg.dates import add_months
from tests.certificates.conftest import EXPECTED, TODAY, snapshot
from tests.conftest import login


def test_add_months_and_window_boundary():
    assert add_months(date(2026, 11, 25), 2) == date(2027, 1, 25)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    # last valid day before today + 2 months → inside the window; 61 days = exactly 2 months → outside
    assert TODAY + timedelta(days=59) < warning_date(TODAY)
    assert TODAY + timedelta(days=61) == warning_date(TODAY)


def test_statuses_per_specialty(db, factory, today):
    org = factory.org()
    w = factory.worker(org, certificate_until=today + timedelta(days=400))
    factory.certificate(w, specialty="THERAPY", valid_until=today + timedelta(days=20))
    factory.certificate(w, specialty="SURGERY", valid_until=today - timedelta(days=1))
    st = services.specialty_statuses(w, today)
    from profreg.reference.models import Specialty

    code = dict(db.session.execute(select(Specialty.id, Specialty.code)).all())
    assert {code[k]: v for k, v in st.items()} == {"NURSING": "valid", "THERAPY": "expiring", "SURGERY": "expired"}
    assert services.worker_status(w, today) == "valid"
    # a renewal on file makes the old certificate's specialty valid again
    factory.certificate(w, specialty="THERAPY", valid_until=today + timedelta(days=1800), issue=today)
    assert {code[k]: v for k, v in services.specialty_statuses(w, today).items()}["THERAPY"] == "valid"
    other = factory.worker(org)
    assert services.worker_status(other, today) is None


def test_has_valid_certificate_per_specialty_and_parent(db, factory, ref, today):
    from profreg.reference.models import Position, Specialty

    org = factory.org()
    w = factory.worker(org, position="DOCTOR", specialty="THERAPY", certificate_until=today + timedelta(days=100))
    factory.certificate(w, specialty="SURGERY", valid_until=today - timedelta(days=1))
    therapy, cardio, surgery = (ref(Specialty, c) for c in ("THERAPY", "CARDIO", "SURGERY"))
    assert services.has_valid_certificate(w, therapy, today)
    assert services.has_valid_certificate(w, cardio, today)  # specialization of THERAPY
    assert not services.has_valid_certificate(w, surgery, today)
    assert not services.has_valid_certificate(w, therapy, today + timedelta(days=101))
    doctor, economist = ref(Position, "DOCTOR"), ref(Position, "ECONOMIST")
    assert services.clinical_admission_error(w, doctor, surgery, today)
    assert services.clinical_admission_error(w, doctor, therapy, today) is None
    assert services.clinical_admission_error(w, economist, surgery, today) is None


def test_sweep_warns_blocks_unblocks_exactly_once(db, scenario):
    from profreg.certificates.jobs import run_sweep

    first = run_sweep(TODAY, deliver=False)
    assert (first["warned"], first["blocked"], first["unblocked"]) == (2, 2, 1)
    assert first["notifications"] == 9 and first["mails_queued"] == 6
    assert snapshot(db, scenario) == EXPECTED
    second = run_sweep(TODAY, deliver=False)
    assert (second["warned"], second["blocked"], second["unblocked"], second["notifications"],
            second["mails_queued"]) == (0, 0, 0, 0, 0)
    assert snapshot(db, scenario) == EXPECTED
    # next day: only the 61-day certificate enters the window (its expiry is now within 2 months);
    # the ones already warned are not warned again
    clock.set_today(TODAY + timedelta(days=1))
    third = run_sweep(TODAY + timedelta(days=1), deliver=False)
    assert (third["warned"], third["blocked"], third["unblocked"]) == (1, 0, 0)
    assert [n for n in snapshot(db, scenario)["notices"] if n[0] == "cert_expiring"] == sorted(
        [("cert_expiring", "w59"), ("cert_expiring", "w30"), ("cert_expiring", "w61")])


def test_block_records_reason_time_and_audit(db, scenario):
    from profreg.audit.models import AuditLog
    from profreg.certificates.jobs import run_sweep
    from profreg.workers.models import Worker

    run_sweep(TODAY, deliver=False)
    wexp = db.session.get(Worker, scenario["w"]["wexp"].id)
    assert wexp.status == "blocked" and wexp.blocked_reason == "certificate_expired" and wexp.blocked_at
    entry = db.session.execute(select(AuditLog).where(AuditLog.worker_id == wexp.id,
                                                      AuditLog.action == "block")).scalar_one()
    assert entry.dedupe_key.startswith("certificates:block:")
    assert entry.organization_id == scenario["org_a"].id and entry.changes == {"status": ["active", "blocked"]}


def test_crash_midway_then_rerun_equals_one_clean_run(db, scenario, monkeypatch):
    from profreg.certificates.jobs import run_sweep
    from profreg.jobs.models import JobRun

    steps = list(services.STEPS)

    def crash(today, batch=None):
        raise RuntimeError("simulated crash between block and warn")

    # crash after unblock and block were committed, before warn
    monkeypatch.setattr(services, "STEPS", (steps[0], steps[1], ("crash", crash), *steps[2:]))
    with pytest.raises(RuntimeError):
        run_sweep(TODAY, deliver=False)
    failed = db.session.execute(select(JobRun).order_by(JobRun.id.desc())).scalars().first()
    assert failed.state == "failed" and "simulated crash" in failed.error
    monkeypatch.setattr(services, "STEPS", tuple(steps))
    run_sweep(TODAY, deliver=False)
    assert snapshot(db, scenario) == EXPECTED
    run_sweep(TODAY, deliver=False)
    assert snapshot(db, scenario) == EXPECTED


def test_crash_inside_a_step_rolls_the_step_back(db, scenario, monkeypatch):
    """A crash between the UPDATE and the audit insert of the block step leaves no half-done block."""
    from profreg.certificates.jobs import run_sweep
    from profreg.workers.models import Worker

    def boom(*a, **k):
        raise RuntimeError("crash inside block step")

    monkeypatch.setattr(services, "_audit_from_notices", boom)
    with pytest.raises(RuntimeError):
        run_sweep(TODAY, deliver=False)
    db.session.rollback()
    assert db.session.get(Worker, scenario["w"]["wexp"].id).status == "active"
    monkeypatch.undo()
    run_sweep(TODAY, deliver=False)
    assert snapshot(db, scenario) == EXPECTED


def test_two_sweeps_at_once_leave_no_duplicates(app, db, scenario):
    from profreg.certificates.jobs import run_sweep

    errors = []
    barrier = threading.Barrier(2)

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                run_sweep(TODAY, deliver=False)
            except Exception as exc:  # noqa: BLE001 - SQLite may refuse a concurrent writer
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if db.engine.dialect.name == "postgresql":
        assert not errors, errors
    # whichever run finished, rerun once to complete, then the state is that of one clean run
    run_sweep(TODAY, deliver=False)
    assert snapshot(db, scenario) == EXPECTED


def test_saving_a_certificate_unblocks_at_once(db, factory, scenario):
    from profreg.audit.models import AuditLog
    from profreg.certificates.jobs import run_sweep
    from profreg.notifications.models import Notice
    from profreg.workers.models import Worker

    run_sweep(TODAY, deliver=False)
    wexp = db.session.get(Worker, scenario["w"]["wexp"].id)
    assert wexp.status == "blocked"
    factory.certificate(wexp, valid_until=TODAY + timedelta(days=1800), issue=TODAY)
    db.session.commit()
    db.session.refresh(wexp)
    assert wexp.status == "active" and wexp.unblocked_at is not None
    assert db.session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.worker_id == wexp.id, AuditLog.action == "unblock", AuditLog.dedupe_key.is_not(None))).scalar() == 1
    assert db.session.execute(select(func.count()).select_from(Notice).where(
        Notice.worker_id == wexp.id, Notice.kind == "worker_unblocked")).scalar() == 1
    # the sweep afterwards does not announce it again
    again = run_sweep(TODAY, deliver=False)
    assert again["unblocked"] == 0 and again["notifications"] == 0


def test_notice_given_answers_the_question(db, scenario):
    from profreg.certificates.jobs import run_sweep

    run_sweep(TODAY, deliver=False)
    rows = services.notice_given(scenario["w"]["w59"])
    assert len(rows) == 1 and rows[0][1].recipient == "w59@mail.kz" and rows[0][1].state == "pending"
    rows = services.notice_given(scenario["w"]["w30"])
    assert len(rows) == 1 and rows[0][1] is None  # no e-mail: HR was told in the panel
    assert services.notice_given(scenario["w"]["w61"]) == []


def test_cli_sweep_prints_counts(app, db, scenario):
    runner = app.test_cli_runner()
    res = runner.invoke(args=["profreg", "sweep", "--today", "2026-11-25", "--no-mail"])
    assert res.exit_code == 0, res.output
    assert "warned: 2" in res.output and "blocked: 2" in res.output and "unblocked: 1" in res.output
    res = runner.invoke(args=["profreg", "notice", "--iin", scenario["w"]["w59"].iin])
    assert res.exit_code == 0 and "w59@mail.kz" in res.output


def test_inline_queue_runs_the_same_job_without_redis(app, db, scenario):
    from profreg.certificates.jobs import sweep_job
    from profreg.jobs import InlineQueue, get_queue

    q = get_queue()
    assert isinstance(q, InlineQueue)
    job = q.enqueue(sweep_job, "2026-11-25")
    assert job.get_status() == "finished" and job.return_value()["blocked"] == 2
    bad = q.enqueue(sweep_job, "not-a-date")
    assert bad.get_status() == "failed" and "isoformat" in bad.exc_string


# ---------------------------------------------------------------------------------------- views
def test_navbar_count_and_notifications_view_scoped_per_user(client, db, scenario):
    from profreg.certificates.jobs import run_sweep
    from profreg.notifications.models import Notification

    run_sweep(TODAY, deliver=False)
    login(client, scenario["users"]["hr_b"])
    page = client.get("/admin/")
    assert b'id="notification-count"' in page.data
    assert b">1</span>" in page.data
    listing = client.get("/admin/notifications/")
    assert listing.status_code == 200
    assert "Ержанова".encode() in listing.data and "Габитова".encode() not in listing.data
    # hr_b cannot mark someone else's notification read
    foreign = db.session.execute(select(Notification.id).where(
        Notification.user_id == scenario["users"]["hr"].id)).scalars().first()
    token = _csrf(listing.data)
    client.post("/admin/notifications/read", data={"id": foreign, "csrf_token": token})
    db.session.rollback()
    assert db.session.get(Notification, foreign).read_at is None
    own = db.session.execute(select(Notification.id).where(
        Notification.user_id == scenario["users"]["hr_b"].id)).scalar_one()
    resp = client.post("/admin/notifications/read", data={"id": own, "csrf_token": token})
    assert resp.status_code == 302
    db.session.rollback()
    assert db.session.get(Notification, own).read_at is not None
    assert b">0</span>" in client.get("/admin/").data
    # without a CSRF token nothing happens
    assert client.post("/admin/notifications/read", data={"all": "1"}).status_code == 400


def _csrf(html: bytes) -> str:
    import re

    m = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    return m.group(1).decode()


@pytest.mark.parametrize("role,code", [("ministry", 200), ("admin", 200), ("hr", 403), ("hr_chief", 403)])
def test_job_history_view_for_ministry_and_admin(client, db, scenario, role, code):
    from profreg.certificates.jobs import run_sweep

    run_sweep(TODAY, deliver=False)
    user = scenario["users"][role]
    login(client, user)
    resp = client.get("/admin/jobs/")
    assert resp.status_code == code
    if code == 200:
        assert b"<td>2</td><td>2</td><td>1</td>" in resp.data  # warned, blocked, unblocked
