"""One export pipeline for every list (issue 14, item 1; docs/exports.md): the list's Export menu writes
with the project's writers, holds exactly the list's rows (scope, search, filters), and a list above
``EXPORT_INLINE_MAX_ROWS`` is never cut: it becomes a background export with progress, a notice with the
download link, a file only its user may download until it expires."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from profreg import clock
from profreg.extensions import db
from profreg.jobs.models import ExportFile
from profreg.notifications.models import Notice, Notification
from profreg.workers.models import Worker


def _csv(resp) -> list[list[str]]:
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")  # BOM: Excel opens Cyrillic
    text = text.lstrip("\ufeff")
    # ';' for kk/ru readers, ',' for en (docs/exports.md); a header names no column with ';'
    return list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.split("\n", 1)[0] else ","))


@pytest.fixture
def many(world):
    """Eight more workers of organization A (A then has nine), one named like a formula."""
    f = world.factory
    for i in range(8):
        f.worker(world.orgA, surname="=HYPERLINK(\"http://x\",\"y\")" if i == 0 else f"Экспортова{i}",
                 certificate_until=clock.today() + timedelta(days=400))
    db.session.commit()
    return world


def _scoped_count(world, org) -> int:
    from profreg.workers.models import Employment

    return len(set(db.session.execute(select(Employment.worker_id).where(
        Employment.organization_id == org.id, Employment.current_on(clock.today()))).scalars()))


def test_inline_csv_and_xlsx_hold_the_lists_rows_with_labels_and_inert_formulas(many, make_client):
    hr = make_client(many.users["hr"])
    rows = _csv(hr.get("/admin/workers/export/csv/"))
    assert rows[0][:3] == ["IIN", "Surname", "Name"]
    assert len(rows) - 1 == _scoped_count(many, many.orgA) == 9
    assert ["'=HYPERLINK(\"http://x\",\"y\")"] == [r[1] for r in rows[1:] if "HYPERLINK" in r[1]]
    xlsx = hr.get("/admin/workers/export/xlsx/")
    assert xlsx.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    values = list(ws.iter_rows(values_only=True))
    assert len(values) - 1 == 9
    cell = next(v for r in values for v in r if isinstance(v, str) and "HYPERLINK" in v)
    assert cell.startswith("'=")  # text, not a formula
    # search and filters apply as on the list page
    one = _csv(hr.get("/admin/workers/export/csv/?search=Экспортова3"))
    assert [r[1] for r in one[1:]] == ["Экспортова3"]


def test_a_list_above_the_inline_limit_becomes_a_background_export(app, many, make_client, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", 4)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(Path(app.instance_path) / f"exports-{uuid.uuid4().hex}"))
    hr = make_client(many.users["hr"])
    resp = hr.get("/admin/workers/export/csv/")
    assert resp.status_code == 302 and "/admin/exports/" in resp.headers["Location"]
    export = db.session.execute(select(ExportFile).where(ExportFile.user_id == many.users["hr"].id)).scalar_one()
    # no Redis in this app: made in the request (the demo's mode); with Redis an rq worker makes it
    assert export.state == "done" and export.rows_total == export.rows_done == 9 and export.percent == 100
    page = hr.get(resp.headers["Location"]).get_data(as_text=True)
    assert "My exports" in page and f"/admin/exports/download/{export.id}/" in page and "100%" in page
    rows = _csv(hr.get(f"/admin/exports/download/{export.id}/"))
    assert len(rows) - 1 == 9  # every row, not the first four
    # the notice with the link, in-app only (never in the certificate digest)
    notice = db.session.execute(select(Notice).where(Notice.export_id == export.id)).scalar_one()
    assert notice.kind == "export_ready" and notice.worker_id is None
    assert db.session.execute(select(Notification).where(Notification.notice_id == notice.id)).scalar_one().user_id \
        == many.users["hr"].id
    listing = hr.get("/admin/notifications/").get_data(as_text=True)
    assert f"/admin/exports/download/{export.id}/" in listing and "is ready: 9 rows" in listing
    # only its user downloads it
    other = make_client(many.users["hr_chief"])
    assert other.get(f"/admin/exports/download/{export.id}/").status_code == 404
    assert f"/download/{export.id}/" not in other.get("/admin/exports/").get_data(as_text=True)


def test_an_expired_export_is_gone_and_purged(app, many, make_client, monkeypatch):
    from profreg.admin.exporting import purge_expired

    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", 1)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(Path(app.instance_path) / f"exports-{uuid.uuid4().hex}"))
    hr = make_client(many.users["hr"])
    hr.get("/admin/workers/export/xlsx/")
    export = db.session.execute(select(ExportFile)).scalar_one()
    path = Path(export.path)
    assert path.exists() and openpyxl.load_workbook(path).active.max_row == 10
    clock.set_now(clock.utcnow_naive() + timedelta(hours=app.config["EXPORT_KEEP_HOURS"] + 1))
    try:
        assert hr.get(f"/admin/exports/download/{export.id}/").status_code == 404
        assert purge_expired() == 1
        db.session.commit()
    finally:
        clock.set_now(None)
    assert not path.exists() and db.session.execute(select(ExportFile)).first() is None


def test_the_background_export_runs_on_a_real_rq_worker(app, many, make_client, monkeypatch):
    """With Redis the request only queues the export; an RQ worker makes the file as the user asked it
    (same scope, search and language), with progress."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    redis = Redis.from_url("redis://127.0.0.1:6379/6")
    try:
        redis.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    name = f"profreg-export-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/6")
    monkeypatch.setitem(app.config, "RQ_QUEUE", name)
    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", 2)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(Path(app.instance_path) / f"exports-{uuid.uuid4().hex}"))
    try:
        hr = make_client(many.users["hr"])
        hr.get("/admin/workers/export/csv/?search=Экспортова&lang=ru")
        export = db.session.execute(select(ExportFile)).scalar_one()
        assert export.state == "queued" and export.rows_done == 0
        queue = Queue(name, connection=redis)
        assert queue.count == 1
        SimpleWorker([queue], connection=redis).work(burst=True)
        db.session.expire_all()
        export = db.session.get(ExportFile, export.id)
        assert export.state == "done" and export.rq_job_id and export.rows_done == 7
        rows = _csv(hr.get(f"/admin/exports/download/{export.id}/"))
        assert rows[0][:2] == ["ИИН", "Фамилия"] and len(rows) - 1 == 7
    finally:
        for key in redis.scan_iter(f"*{name}*"):
            redis.delete(key)
        redis.srem("rq:queues", f"rq:queue:{name}")


def test_the_workers_list_export_and_the_cli_export_give_the_same_cells(app, many, make_client, tmp_path):
    """The ministry's workers list export and ``profreg workers export`` (the whole register) hold the
    same workers with the same cells in the shared columns."""
    ministry = make_client(many.users["ministry"])
    panel = _csv(ministry.get("/admin/workers/export/csv/?lang=en"))
    out = tmp_path / "workers.csv"
    result = app.test_cli_runner().invoke(args=["profreg", "export", "workers", "--format", "csv", "--out", str(out),
                                                "--lang", "en"])
    assert result.exit_code == 0, result.output
    cli = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    shared = [h for h in panel[0] if h in cli[0]]
    assert {"IIN", "Surname", "Name", "Sex", "Status"} <= set(shared)

    def cells(table):
        idx = [table[0].index(h) for h in shared]
        return sorted(tuple(r[i] for i in idx) for r in table[1:])

    assert cells(panel) == cells(cli)
    assert len(panel) - 1 == db.session.execute(select(Worker.id)).all().__len__()


def test_a_background_export_in_small_chunks_keeps_the_lists_order_and_every_row(app, many, make_client,
                                                                                  monkeypatch):
    """Chunks are loaded by the keys of the ordered list (not OFFSET pages): with chunks of 2 the
    certificates file holds every row of the list once, in the list's order, with progress per chunk."""
    import re

    from profreg.admin import exporting

    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", 1)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(Path(app.instance_path) / f"exports-{uuid.uuid4().hex}"))
    seen = []
    real = exporting.list_rows

    def watched(view, query, progress=None, chunk=exporting.CHUNK):
        def note(done):
            seen.append(done)
            progress(done)
        return real(view, query, note, 2)

    monkeypatch.setattr(exporting, "list_rows", watched)
    # the row-by-row path (PostgreSQL renders the certificates list itself: admin.record_export, whose
    # file is compared with this path's in test_record_export.py)
    monkeypatch.setattr("profreg.admin.record_export.dataset_export", lambda *a: None)
    hr = make_client(many.users["hr"])
    page = hr.get("/admin/certificates/").get_data(as_text=True)
    listed = [s.strip() for s in re.findall(r'<td class="col-number">([^<]*)</td>', page)]
    resp = hr.get("/admin/certificates/export/csv/")
    assert resp.status_code == 302
    export = db.session.execute(select(ExportFile).where(ExportFile.user_id == many.users["hr"].id)).scalar_one()
    rows = _csv(hr.get(f"/admin/exports/download/{export.id}/"))[1:]
    assert len(listed) >= 9 and len(rows) == len(listed)
    assert seen == [*range(2, len(rows), 2), len(rows)] if len(rows) % 2 else [*range(2, len(rows) + 1, 2)]
    exported = [next(cell for cell in row if cell in listed) for row in rows]
    assert exported == listed  # every row once, in the list's order
