"""``python -m bench.filters URL``: the record lists' filters at national scale (issue 15, item 3).

Requests the certificates list with its expiry filters and the employment list with a position filter,
as the ministry (no scope: the whole register) and as HR (one organization), prints the median / p95 of
each page and the EXPLAIN ANALYZE of every statement the page sends about certificates or employment,
with its own parameters. URL is a PostgreSQL database with the demo users (``profreg demo``).
"""
from __future__ import annotations

import sys

from sqlalchemy import event

from .web import get_ms, login, make_app


def _filter_arg(app, endpoint: str, label: str) -> str:
    from flask_babel import force_locale

    view = next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == endpoint)
    with app.test_request_context(), force_locale("en"):
        idx = next(i for i, f in enumerate(view.column_filters) if str(f.name) == label)
    return f"flt0_{idx}"


def _capture(app, client, url: str, tables=("FROM certificate", "FROM employment")) -> list:
    from profreg.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []

    def grab(conn, cursor, statement, params, context, executemany):
        if any(t in statement for t in tables) and not statement.startswith("EXPLAIN"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        client.get(url).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def main(url: str, n: int = 20) -> None:
    from profreg.extensions import db

    app = make_app(url)
    cert_expiry = _filter_arg(app, "certificates", "Expiry")
    emp_position = _filter_arg(app, "employment", "Position")
    with app.app_context():
        from profreg.reference.models import Position

        nurse = db.session.query(Position).filter_by(code="NURSE").one().id
    pages = [(f"/admin/certificates/?{cert_expiry}=expiring", "certificates expiring within the warning window"),
             (f"/admin/certificates/?{cert_expiry}=expired", "certificates expired"),
             (f"/admin/employment/?{emp_position}={nurse}", "employment of nurses")]
    for role in ("ministry", "hr"):
        client = login(app, f"{role}@profreg.kz")
        for path, title in pages:
            client.get(path)  # warm
            median, p95 = get_ms(client, path, n)
            print(f"\n== {title} as {role}: GET {path}: median {median:.1f} ms, p95 {p95:.1f} ms")
            for statement, params in _capture(app, client, path):
                with app.app_context():
                    conn = db.engine.connect()
                    try:
                        rows = conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, params).all()
                    finally:
                        conn.close()
                print("-- " + " ".join(statement.split())[:200])
                for (line,) in rows:
                    print("   " + line)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)
