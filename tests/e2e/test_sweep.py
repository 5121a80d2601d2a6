"""The certificate sweep through the queue: enqueued on the served app's RQ queue, run by the
``rq worker`` process the session started, then HR sees the notices in the panel."""
from __future__ import annotations

import time
from datetime import timedelta

from profreg import clock

from .conftest import DEMO_USERS


def test_sweep_runs_in_the_rq_worker_and_hr_sees_the_notices(served, as_role):
    from redis import Redis
    from rq import Queue

    hr_id = served.sql('SELECT id FROM "user" WHERE email = :e', e=DEMO_USERS["hr"])[0][0]
    before = served.sql("SELECT count(*) FROM notification WHERE user_id = :u", u=hr_id)[0][0]
    # Stand on a day when a certificate of one of HR's current workers is inside the warning window
    # (the demo country is generated around today): 30 days before its end. The certificate ends after
    # the window of the sweep the demo ran today (2 months), so no notice of it exists yet. "Today" is the
    # register's, in Almaty (from 19:00 UTC it is already the next day there, not the server's CURRENT_DATE).
    today = clock.today()
    day = served.sql("""
        SELECT min(c.valid_until) - 30 FROM certificate c JOIN employment e ON e.worker_id = c.worker_id
        JOIN "user" u ON u.organization_id = e.organization_id
        WHERE u.id = :u AND e.end_date IS NULL AND c.valid_until > :after""",
                     u=hr_id, after=today + timedelta(days=62))[0][0]
    job = Queue(served.queue, connection=Redis.from_url(served.redis_url)).enqueue(
        "profreg.certificates.jobs.sweep_job", day.isoformat() if day else None, job_timeout=300)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.get_status(refresh=True) not in ("finished", "failed"):
        time.sleep(0.5)
    assert job.get_status() == "finished", (job.get_status(), job.latest_result() and job.latest_result().exc_string)
    result = job.return_value()
    assert result["warned"] >= 1, result
    run = served.sql("SELECT state, rq_job_id FROM job_run WHERE id = :i", i=result["run_id"])[0]
    assert run == ("finished", job.id)  # recorded by the worker process, with RQ's job id
    after = served.sql("SELECT count(*) FROM notification WHERE user_id = :u", u=hr_id)[0][0]
    assert after > before

    page = as_role("hr", lang="en")
    badge = page.locator("#notification-count .badge").inner_text()
    assert int(badge) >= after - before
    page.locator("#notification-count").click()
    page.wait_for_url("**/admin/notifications/**")
    assert page.locator("table tbody tr").count() >= after - before
