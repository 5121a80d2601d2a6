"""PostgreSQL restarted under a served panel: while it is down, requests fail fast with the translated
503 page; once it is back, the same gunicorn workers serve again without a restart (the pool's
pre-ping replaces the dead connections). ``FAULT_NO_PREPING=1`` serves without the pre-ping: then the
first requests after the restart fail, and so does this test."""
from __future__ import annotations

import time

from .conftest import BIN, Browser, app_env, run, say, serve, stop

PAGES = ("/admin/workers/", "/admin/certificates/", "/admin/")


def test_requests_fail_fast_while_postgresql_is_down_and_recover_after(private_postgres, tmp_path):
    pg = private_postgres
    env = app_env(pg.url)
    run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], env)
    run([str(BIN / "flask"), "--app", "app", "profreg", "demo", "--workers", "20"], env)
    proc, url = serve(env, tmp_path / "gunicorn.log")
    try:
        hr = Browser(url)
        hr.login("hr@profreg.kz")
        for path in PAGES:  # every worker holds pooled connections to the database that will go away
            for _ in range(4):
                status, _, _, _ = hr.request(path)
                assert status == 200, (path, status)
        say("served", len(PAGES) * 4, "pages as hr@ on a private PostgreSQL at port", pg.port)

        pg.stop("fast")
        say("PostgreSQL stopped (pg_ctl stop -m fast)")
        down = [hr.request(path) for path in PAGES for _ in range(2)]
        for status, page, seconds, headers in down:
            assert status == 503, (status, page[:300])
            assert seconds < 5, f"a request waited {seconds:.1f} s for the database"
            assert "Реестр временно недоступен" in page and "повторите попытку через минуту" in page, page[:500]
            assert headers.get("Retry-After") == "30"
        ready, _, _, _ = hr.request("/readyz")
        assert ready == 503
        say(f"while down: {len(down)} requests answered 503 in ≤ {max(d[2] for d in down):.2f} s, in Russian;"
            " /readyz 503")

        pg.start()
        say("PostgreSQL started again; gunicorn not restarted")
        t0 = time.monotonic()
        after = [hr.request(path)[0] for path in PAGES for _ in range(4)]
        assert after == [200] * len(after), after
        say(f"after the restart: {len(after)} requests, all 200 ({time.monotonic() - t0:.2f} s), the session kept")

        # A restart nobody noticed (no request while it was down): every pooled connection is dead, and
        # only the pre-ping keeps the first request of each worker from failing on one.
        pg.stop("fast")
        pg.start()
        quiet = [hr.request(path)[0] for path in PAGES for _ in range(4)]
        assert quiet == [200] * len(quiet), f"first requests after an unnoticed restart: {quiet}"
        say(f"after an unnoticed restart: {len(quiet)} requests, all 200 (pool pre-ping)")
    finally:
        stop(proc)
