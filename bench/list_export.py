"""Background list export benchmark: the panel's workers list exported by the ministry as a background job
(``admin/exporting.run_export``, what the RQ worker runs) on the 300,000-worker dataset. Prints the time,
the rows, the progress updates seen and the peak RSS of this process (the worker's), target < 300 MB.

    python -m bench.list_export --workers 300000 [--format xlsx|csv]

The export record and its notice are removed afterwards; the file is deleted.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import time
from datetime import timedelta
from pathlib import Path


def run(workers: int = 300_000, fmt: str = "xlsx", url: str | None = None, endpoint: str = "workers",
        email: str = "ministry@profreg.kz", title: str = "Workers", quiet: bool = False) -> dict:
    from sqlalchemy import delete, select

    from profreg import clock, create_app
    from profreg.admin import exporting
    from profreg.auth.models import User
    from profreg.extensions import db
    from profreg.jobs.models import ExportFile
    from profreg.notifications.models import Notice, Notification

    from .common import db_url

    url = url or os.environ.get("DATABASE_URL") or db_url(workers)
    url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "MAIL_SERVER": None,
                      "EXPORT_FOLDER": "/tmp/profreg-bench-exports"})
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        now = clock.utcnow_naive()
        export = ExportFile(user_id=user.id, title=title, endpoint=endpoint, query_string="", export_type=fmt,
                            locale="ru", rows_total=0, rows_done=0, created_at=now,
                            expires_at=now + timedelta(hours=1))
        db.session.add(export)
        db.session.commit()
        seen = []
        real_progress = exporting.list_rows

        def watched(view, query, progress=None, chunk=exporting.CHUNK):
            def wrap(done):
                seen.append(done)
                progress(done)
            return real_progress(view, query, wrap, chunk)

        exporting.list_rows = watched
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        try:
            done = exporting.run_export(export.id)
        finally:
            exporting.list_rows = real_progress
        elapsed = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = Path(done.path).stat().st_size
        rows = done.rows_done
        Path(done.path).unlink(missing_ok=True)
        notice_ids = select(Notice.id).where(Notice.export_id == export.id)
        db.session.execute(delete(Notification).where(Notification.notice_id.in_(notice_ids)))
        db.session.execute(delete(Notice).where(Notice.export_id == export.id))
        db.session.execute(delete(ExportFile).where(ExportFile.id == export.id))
        db.session.commit()
    out = {"rows": rows, "seconds": elapsed, "peak_rss_mb": peak, "rss_before_mb": rss0, "size_mb": size / 1e6,
           "progress_updates": len(seen)}
    if not quiet:
        print(f"background list export ({fmt}, {email}, {endpoint} list): {rows:,} rows in {elapsed:.1f} s, "
              f"{size / 1e6:.1f} MB; {len(seen)} progress updates; peak RSS {peak:.0f} MB "
              f"(before the export {rss0:.0f} MB; target < 300 MB)")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.list_export", description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=300_000)
    p.add_argument("--format", dest="fmt", choices=["xlsx", "csv"], default="xlsx")
    p.add_argument("--url", default=None)
    a = p.parse_args(argv)
    run(a.workers, a.fmt, a.url)


if __name__ == "__main__":
    main()
