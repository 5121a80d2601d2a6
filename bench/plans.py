"""``python -m bench plans``: EXPLAIN ANALYZE of the queries the panel really runs.

The workers list as ministry, region and hr and the IIN search are requested through the app; every
statement they send about workers or employment is captured from the engine and explained with its
own parameters, so the plans in docs/performance.md come from the code, not from hand-written SQL.
"""
from __future__ import annotations

from sqlalchemy import event

from .web import login, make_app, sample_ids

PAGES = (("workers list page 1 as ministry", "ministry", "/admin/workers/"),
         ("workers list page 1 as region", "region", "/admin/workers/"),
         ("workers list page 1 as hr", "hr", "/admin/workers/"))


def _capture(app, client, url: str) -> list[tuple[str, object]]:
    from profreg.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, params, context, executemany):
        if ("FROM worker" in statement or "FROM employment" in statement) and not statement.startswith("EXPLAIN"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        client.get(url).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def run(table=None, url: str | None = None, workers: int | None = None) -> None:
    from profreg.extensions import db

    app = make_app(url)
    _wid, iin, _surname = sample_ids(url)
    pages = (*PAGES, ("search by IIN (ministry)", "ministry", f"/admin/workers/?search={iin[:6]}"))
    for title, role, path in pages:
        client = login(app, f"{role}@profreg.kz")
        client.get(path)  # warm
        print(f"\n== {title}: GET {path}")
        for statement, params in _capture(app, client, path):
            with app.app_context():
                conn = db.engine.connect()
                try:
                    rows = conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, params).all()
                finally:
                    conn.close()
            print("-- " + " ".join(statement.split())[:160] + (" …" if len(statement) > 160 else ""))
            for (line,) in rows:
                print("   " + line)
    if table is not None:
        table.add("plans", "printed above", "EXPLAIN ANALYZE of the captured statements")
