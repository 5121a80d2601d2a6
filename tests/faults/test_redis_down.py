"""Redis stopped while the panel serves: pages keep working, /readyz names Redis, a big export asked
for meanwhile is kept (the user is told the queue is unavailable) and is made once Redis is back —
by the cron job that queues what waited (``resume_queued_exports``) and an ``rq worker``."""
from __future__ import annotations

import csv
import io
import json
import subprocess

from .conftest import BIN, Browser, app_env, demo_register, environ, run, say, serve, stop

RESUME = """
import datetime
from profreg import create_app, clock
from profreg.admin.exporting import resume_exports
from profreg.uow import unit_of_work
app = create_app()
with app.app_context(), unit_of_work():
    print(resume_exports(clock.utcnow_naive() + datetime.timedelta(minutes=3)))
"""


def test_panel_serves_without_redis_and_the_export_asked_meanwhile_is_made_when_it_returns(
        fresh_database, private_redis, tmp_path):
    demo_register(fresh_database, workers=20)
    queue = "fault-redis"
    env = app_env(fresh_database, REDIS_URL=private_redis.url, RQ_QUEUE=queue,
                  EXPORT_FOLDER=str(tmp_path / "exports"))
    spec = 'profreg:create_app({"EXPORT_INLINE_MAX_ROWS": 5})'
    proc, url = serve(env, tmp_path / "gunicorn.log", app_spec=spec)
    try:
        ministry = Browser(url)
        ministry.login("ministry@profreg.kz")
        assert ministry.request("/admin/workers/")[0] == 200
        assert ministry.request("/readyz")[0] == 200

        private_redis.stop()
        say("Redis stopped (SIGKILL) while gunicorn serves")
        for path in ("/admin/", "/admin/workers/", "/admin/certificates/", "/admin/exports/"):
            status, _, seconds, _ = ministry.request(path)
            assert status == 200 and seconds < 5, (path, status, seconds)
        status, body, _, _ = ministry.request("/readyz")
        checks = json.loads(body)["checks"]
        assert status == 503 and checks["redis"]["ok"] is False and checks["database"]["ok"] is True
        say("without Redis: dashboard, workers, certificates and exports pages 200; /readyz 503 naming redis")

        status, _, _, headers = ministry.request("/admin/workers/export/csv/")
        assert status == 302 and "/admin/exports/" in headers["Location"], (status, headers)
        status, page, _, _ = ministry.request(headers["Location"].replace(url, ""))
        assert "Очередь заданий сейчас недоступна" in page, page[:2000]
        say("an export of the workers list asked for meanwhile: kept, the user told so in Russian")

        private_redis.start()
        say("Redis started again on the same port")
        resumed = run([str(BIN / "python"), "-c", RESUME], env)
        assert resumed.stdout.strip().splitlines()[-1] == "1", resumed.stdout
        worker = subprocess.run([str(BIN / "rq"), "worker", "--burst", "-u", private_redis.url, queue],
                                env=environ(env), capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stderr[-2000:]
        status, page, _, _ = ministry.request("/admin/exports/")
        assert status == 200 and "/admin/exports/download/" in page, page[-3000:]
        link = page.split('href="/admin/exports/download/')[1].split('"')[0]
        status, body, _, headers = ministry.request(f"/admin/exports/download/{link}")
        assert status == 200
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        assert len(rows) - 1 >= 20, len(rows)
        say(f"once Redis was back: the cron job queued the waiting export, a worker made it, {len(rows) - 1} rows "
            "downloaded")
    finally:
        stop(proc)
