"""Reminders of the reporting cycle through the real queue (Redis db 5, an RQ ``SimpleWorker`` in burst
mode): coordinators 3 working days before a due date and the day after a missed one (the level above
too), heads about training lists waiting for approval, HR chiefs weekly; in-app and by mail in each
recipient's language; each reminder sent once, however often the job runs on a day."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from profreg import clock
from profreg.jobs.models import JobRun
from profreg.notifications.models import MailOutbox, Notice, Notification
from profreg.notifications.services import render_mail
from profreg.reporting import services as R
from profreg.reporting.jobs import reminders_job
from profreg.training.models import TrainingList, TrainingListItem

REDIS_URL = "redis://127.0.0.1:6379/5"
ASTANA = "710000000"


@pytest.fixture
def queue():
    from redis import Redis
    from rq import Queue

    redis = Redis.from_url(REDIS_URL)
    try:
        redis.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    name = f"profreg-reminders-{uuid.uuid4().hex[:8]}"
    yield Queue(name, connection=redis)
    for key in redis.scan_iter(f"*{name}*"):
        redis.delete(key)
    redis.srem("rq:queues", f"rq:queue:{name}")


def run_twice(queue, day: str) -> list[dict]:
    """Enqueue the reminders job twice for ``day`` and let a real RQ worker run both."""
    from rq import SimpleWorker

    jobs = [queue.enqueue(reminders_job, day, job_timeout=300) for _i in range(2)]
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    for job in jobs:
        assert job.get_status(refresh=True) == "finished", job.latest_result().exc_string
    return [job.return_value() for job in jobs]


@pytest.fixture
def world(factory, db):
    clock.set_today(date(2027, 4, 1))
    region = factory.region(ASTANA)
    org = factory.org(ASTANA)
    nurse = factory.worker(org, hire=date(2020, 1, 10))
    # hired Monday 29 March, due by Thursday 1 April, entered on Monday 5 April: late
    factory.worker(org, hire=date(2027, 3, 29), entered_at=datetime(2027, 4, 5, 6, 0))
    tl = TrainingList(organization_id=org.id, period="2027Q2", status="draft")
    db.session.add(tl)
    db.session.flush()
    db.session.add(TrainingListItem(list_id=tl.id, worker_id=nurse.id))
    users = {"ministry": factory.user("ministry"), "coordinator": factory.user("region", region=region),
             "authority": factory.user("authority"), "head": factory.user("org_head", org=org),
             "chief": factory.user("hr_chief", org=org), "hr": factory.user("hr", org=org)}
    for role, loc in (("ministry", "kk"), ("coordinator", "ru"), ("authority", "en"), ("head", "kk")):
        users[role].locale = loc
    R.register_request(users["authority"], "Vacancies of nurses", R.Scope("region", region.id), "2027-03",
                       date(2027, 4, 9))
    db.session.commit()
    return users


def _received(db) -> Counter:
    rows = db.session.execute(select(Notice.kind, Notice.event_key, Notification.user_id)
                              .join(Notification, Notification.notice_id == Notice.id)
                              .where(Notice.kind.like("reminder_%"))).all()
    return Counter((kind, key, uid) for kind, key, uid in rows)


def _summary(got, user) -> list[tuple[str, str]]:
    """(kind, "what:document") of each reminder a user got (the key's first two parts)."""
    return sorted((k, ":".join(key.split(":")[:2])) for k, key, uid in got if uid == user.id)


def test_reminders_run_twice_on_one_day_are_sent_once(world, db, queue):
    u = world
    # Wednesday 7 April 2027: 3 working days before the due date of March's report and Q2's forecast
    # (Saturday 10 April → Monday 12 April) and within 3 working days of the request (due Friday 9 April)
    assert R.working_days_before(date(2027, 4, 12), 3, R.WorkingCalendar.load()) == date(2027, 4, 7)
    first, second = run_twice(queue, "2027-04-07")
    assert first["notifications"] > 0 and first["mails_queued"] == first["notifications"]
    assert second == {"reminders": 0, "notifications": 0, "mails_queued": 0}
    db.session.expire_all()
    got = _received(db)
    assert all(n == 1 for n in got.values()), got
    mine = {role: _summary(got, u[role]) for role in u}
    assert mine["coordinator"] == [("reminder_due_soon", "soon:monthly"), ("reminder_due_soon", "soon:request")]
    assert mine["ministry"] == [("reminder_due_soon", "soon:forecast"), ("reminder_due_soon", "soon:monthly")]
    assert mine["head"] == [("reminder_training", "training:" + mine["head"][0][1].split(":")[1])]
    assert mine["chief"] == [("reminder_hr_weekly", mine["chief"][0][1])]
    assert mine["authority"] == [] and mine["hr"] == []
    # one mail per reminder and recipient, in the recipient's language
    mails = db.session.execute(select(MailOutbox).where(MailOutbox.kind.like("reminder_%"))).scalars().all()
    assert Counter((m.notice_id, m.recipient) for m in mails).most_common(1)[0][1] == 1
    assert len(mails) == sum(got.values())
    by_user = {m.user_id: m for m in mails}
    assert by_user[u["ministry"].id].locale == "kk" and by_user[u["coordinator"].id].locale == "ru"
    monthly = next(m for m in mails if m.user_id == u["coordinator"].id
                   and m.notice.event_key.startswith("soon:monthly:"))
    subject, body = render_mail(monthly)
    with force_locale("ru"):
        assert subject == _("Professional Register: a report is due soon") != "Professional Register: a report is due soon"
        assert _("The monthly monitoring report for %(period)s (%(scope)s) is due on %(date)s.",
                 period="март 2027 г.", scope="", date="").split("(")[0].strip() in body.replace("\u202f", " ")
    assert "12.04.2027" in body
    with force_locale("kk"):
        head_subject = _("Professional Register: training lists wait for your approval")
    assert render_mail(by_user[u["head"].id])[0] == head_subject
    # the same day again from the CLI-less path (inline, no queue): nothing new either
    assert R.send_reminders(date(2027, 4, 7))["notifications"] == 0
    runs = db.session.execute(select(func.count()).select_from(JobRun).where(JobRun.kind == "reminders")).scalar()
    assert runs == 2


def test_missed_due_dates_escalate_the_day_after_once(world, db, queue):
    u = world
    run_twice(queue, "2027-04-12")  # the due day of the report and forecast: only the request (9 April) is missed
    db.session.expire_all()
    assert sorted(k[1].split(":")[1] for k in _received(db) if k[0] == "reminder_overdue") == ["request"] * 2
    first, second = run_twice(queue, "2027-04-13")
    assert second["notifications"] == 0 and first["notifications"] > 0
    db.session.expire_all()
    got = _received(db)
    assert all(n == 1 for n in got.values()), got
    overdue = sorted((d, role) for role in u for k, d in _summary(got, u[role]) if k == "reminder_overdue")
    assert overdue == [("missed:forecast", "authority"), ("missed:forecast", "ministry"),
                       ("missed:monthly", "authority"), ("missed:monthly", "coordinator"),
                       ("missed:monthly", "ministry"), ("missed:monthly", "ministry"),
                       ("missed:request", "coordinator"), ("missed:request", "ministry")]


def test_the_cli_sends_the_reminders_of_a_day_once(world, app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["profreg", "reminders", "--today", "2027-04-07"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["profreg", "reminders", "--today", "2027-04-07"])
    assert again.exit_code == 0 and "0 new, 0 in-app, 0 mails queued" in again.output
    assert "0 in-app" not in first.output
    bad = runner.invoke(args=["profreg", "reminders", "--today", "7.4.2027"])
    assert bad.exit_code != 0


def test_the_hr_weekly_summary_counts_late_entries_and_incomplete_records_of_workers_in_post(world, db, factory):
    """Issue 20.4: HR chiefs hear weekly of late entries, incomplete records (rule 8's entry fields, the
    dashboard's rule) and transfers to close. The factory's two workers lack an identity document and an
    education document; a worker whose episode ended is not counted."""
    org = world["chief"].organization
    factory.worker(org, hire=date(2019, 1, 1), end=date(2026, 12, 31), entered_at=datetime(2019, 1, 2, 6, 0))
    # late: the nurse (hired in 2020, entered on 1 April 2027 by the fixture's clock) and the hire of
    # 29 March entered on 5 April; incomplete: those two, in post (the third left in 2026)
    [(org_id, late, incomplete, transfers)] = R.hr_weekly_figures(date(2027, 4, 7))
    assert (org_id, late, incomplete, transfers) == (org.id, 2, 2, 0)
    R.send_reminders(date(2027, 4, 7))
    db.session.expire_all()
    mail = db.session.execute(select(MailOutbox).where(MailOutbox.kind == "reminder_hr_weekly")).scalars().one()
    _subject, body = render_mail(mail)
    with force_locale(mail.locale or "en"):
        expected = _("Weekly summary for your organization: entries made late in the last 7 days: %(late)s; "
                     "incomplete records of workers in post: %(incomplete)s; "
                     "transfers to close (employees hired by another organization): %(transfers)s.",
                     late=2, incomplete=2, transfers=0)
    assert expected in body
