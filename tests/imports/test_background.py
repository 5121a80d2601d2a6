"""A background import, end to end: real Redis (127.0.0.1:6379, DB 4, a unique queue) and a real
``rq worker --burst`` subprocess that builds the app from the environment; the importing user is told
in-app, in the user's language, with the link to the report."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from profreg.certificates.models import Certificate
from profreg.imports.models import DONE, ImportRun
from profreg.imports.services import start
from profreg.notifications.models import IMPORT_DONE, Notice, Notification
from profreg.notifications.services import notice_text
from profreg.workers.models import Worker
from tests.conftest import login, logout
from tests.imports.workbook import build, write_xlsx

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture
def queue(app):
    from redis import Redis
    from rq import Queue

    r = Redis.from_url(REDIS_URL)
    try:
        r.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    name = f"profreg-import-test-{uuid.uuid4().hex[:8]}"
    q = Queue(name, connection=r)
    yield q
    for key in r.scan_iter(f"*{name}*"):
        r.delete(key)
    r.srem("rq:queues", f"rq:queue:{name}")
    for job_id in q.__dict__.get("_test_job_ids", []):
        for key in r.scan_iter(f"rq:job:{job_id}*"):
            r.delete(key)
        for key in r.scan_iter(f"rq:results:{job_id}*"):
            r.delete(key)


def run_worker(app, queue, folder: Path):
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PROFREG_CONFIG": "default",
           "REDIS_URL": REDIS_URL, "RQ_QUEUE": queue.name, "IMPORT_FOLDER": str(folder), "PYTHONPATH": str(ROOT)}
    env.pop("TEST_DATABASE_URL", None)
    rq = Path(sys.executable).parent / "rq"
    proc = subprocess.run([str(rq), "worker", "--burst", "-u", REDIS_URL, queue.name], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.commits  # the RQ worker is another process: it must see the run, and we its writes
def test_a_background_import_on_a_real_rq_worker_notifies_its_user(app, db, factory, tmp_path, client, queue):
    from profreg.education.models import EducationInstitution
    from profreg.imports.jobs import import_job
    from profreg.reference.models import Country

    inst = EducationInstitution(name="Медицинский колледж Астана", country=db.session.execute(
        select(Country).where(Country.code == "KZ")).scalar_one(), city="Астана")
    db.session.add(inst)
    org = factory.org()
    hr = factory.user("hr", org=org)
    hr.locale = "kk"
    workers, certs, edu, bad = build(12, org.bin, inst.name)  # 5 bad rows, 7 good
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    run = start(path, file_name="staff.xlsx", actor=hr, dry_run=False, lang="kk")
    db.session.commit()
    run_id = run.id

    job = queue.enqueue(import_job, run_id, job_timeout=600)
    queue.__dict__.setdefault("_test_job_ids", []).append(job.id)
    run_worker(app, queue, tmp_path)
    assert job.get_status(refresh=True) == "finished", job.latest_result()
    db.session.rollback()
    db.session.expire_all()

    run = db.session.get(ImportRun, run_id)
    assert run.state == DONE and (run.created, run.rejected) == (7 * 3, 5 * 3 - 1)  # 4 of the bad have a cert
    assert run.rows_done == run.rows_total == 12 * 3 - 1 and run.report_path and Path(run.report_path).exists()
    assert db.session.execute(select(func.count()).select_from(Worker).where(
        Worker.iin.in_([w["iin"] for w in workers]))).scalar() == 7
    assert db.session.execute(select(func.count()).select_from(Certificate).where(
        Certificate.number.in_([c["number"] for c in certs]))).scalar() == 7

    notes = db.session.execute(select(Notification).join(Notice).where(Notice.kind == IMPORT_DONE)).scalars().all()
    assert [(n.user_id, n.notice.event_key) for n in notes] == [(hr.id, f"import:{run_id}")]
    with app.test_request_context(), force_locale("kk"):
        text = notice_text(notes[0].notice)
    assert "staff.xlsx" in text and "21" in text and "14" in text and "импорт" in text.lower(), text
    # the user's notifications page, in the user's language, links to the report
    login(client, hr)
    page = client.get("/admin/notifications/?lang=kk").get_data(as_text=True)
    assert f"/admin/imports/{run_id}/report/" in page and "staff.xlsx" in page
    report = client.get(f"/admin/imports/{run_id}/report/")
    assert report.status_code == 200 and report.data[:2] == b"PK"
    logout(client)  # the wipe after a ``commits`` test is audited: no signed-in user may remain
