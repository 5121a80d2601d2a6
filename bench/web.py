"""Panel timings through the real app (Flask test client, real PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import text

from .common import stats, timed

FLOOR_SQL = text("SELECT id, iin, surname, name, patronymic, sex, birth_date, status FROM worker "
                 "ORDER BY surname_key, id LIMIT 50")


def make_app(url: str, **config):
    """The real app on the benchmark database, plus two floor routes that run the one indexed query
    of page 1 (``FLOOR_SQL``): ``/bench/floor`` returns it as plain text (the raw floor), and
    ``/admin/bench-floor/`` renders the same rows as a plain table inside the same admin layout
    (the page floor: what any hand-written page of the panel costs)."""
    from pathlib import Path

    from flask import Response
    from flask_admin import BaseView, expose
    from jinja2 import ChoiceLoader, FileSystemLoader

    from profreg import create_app
    from profreg.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TESTING": False, **config})
    app.jinja_loader  # noqa: B018  (materialise the default loader before wrapping it)
    app.jinja_env.loader = ChoiceLoader([app.jinja_env.loader,
                                         FileSystemLoader(str(Path(__file__).parent / "templates"))])

    @app.route("/bench/floor")
    def bench_floor():
        rows = db.session.execute(FLOOR_SQL).all()
        return Response("\n".join(f"{r.iin} {r.surname} {r.name}" for r in rows), mimetype="text/plain")

    class FloorView(BaseView):
        def is_accessible(self):
            from flask_login import current_user

            return current_user.is_authenticated

        def is_visible(self):
            return False

        @expose("/")
        def index(self):
            return self.render("bench/floor.html", rows=db.session.execute(FLOOR_SQL).all())

    app.extensions["profreg_admin"].add_view(FloorView(name="floor", endpoint="bench_floor", url="/admin/bench-floor"))
    return app


def login(app, email: str):
    from profreg.demo.generator import DEMO_PASSWORD

    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert resp.status_code == 302, f"login failed for {email}: {resp.status_code}"
    return client


def _fetch(client, url: str):
    r = client.get(url)
    if r.status_code != 200:
        raise RuntimeError(f"GET {url} -> {r.status_code}")
    r.get_data()


def get_ms(client, url: str, n: int) -> tuple[float, float]:
    return stats(timed(lambda: _fetch(client, url), n))


def rounds_ms(pages: dict, n: int, rounds: int = 3, warmup: int = 3) -> dict:
    """(median, p95) per page over ``rounds`` x ``n`` requests. Each round times every page in its
    own block of ``n`` consecutive requests, starting from a collected heap: a page pays for the
    garbage its own requests make (Python's cyclic collector runs every few list pages) and not
    for another page's, while rounds spread the drift of a shared machine's speed over all pages."""
    import gc
    import time

    samples = {name: [] for name in pages}
    for client, url in pages.values():
        for _ in range(warmup):
            _fetch(client, url)
    for _ in range(rounds):
        for name, (client, url) in pages.items():
            gc.collect()
            for _ in range(n):
                t0 = time.perf_counter()
                _fetch(client, url)
                samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: stats(v) for name, v in samples.items()}


def sample_ids(url_db: str):
    """An IIN, a surname prefix and a worker id visible to the hr demo user, for searches."""
    from sqlalchemy import create_engine

    eng = create_engine(url_db)
    with eng.connect() as c:
        row = c.execute(text(
            "SELECT w.id, w.iin, w.surname FROM worker w JOIN employment e ON e.worker_id = w.id "
            "JOIN organization o ON o.id = e.organization_id JOIN admin_unit u ON u.id = o.region_id "
            "WHERE u.code = '710000000' AND e.end_date IS NULL ORDER BY w.id LIMIT 1")).one()
    eng.dispose()
    return row.id, row.iin, row.surname


def run_panel(table, label: str, url_db: str, n: int) -> dict:
    """Times the list as ministry/region/hr against the floor route; returns the figures."""
    app = make_app(url_db)
    figures = {}
    # No app context is held around the requests: each test-client request must push its own, or
    # ``g`` (and Flask-Login's cached user) would be shared between the three signed-in clients.
    clients = {role: login(app, f"{email}@profreg.kz") for role, email in
               (("ministry", "ministry"), ("region", "region"), ("hr", "hr"))}
    pages = {"raw_floor": (clients["ministry"], "/bench/floor"),
             "floor": (clients["ministry"], "/admin/bench-floor/")}
    pages.update({f"list_{role}": (client, "/admin/workers/") for role, client in clients.items()})
    measured = rounds_ms(pages, n)
    raw, floor = measured["raw_floor"], measured["floor"]
    figures.update(measured)
    table.add(f"[{label}] raw floor (1 indexed query, text)", f"{raw[0]:.1f} / {raw[1]:.1f} ms", "median / p95")
    table.add(f"[{label}] page floor (same query, admin layout)", f"{floor[0]:.1f} / {floor[1]:.1f} ms",
              "median / p95")
    for role in clients:
        m = measured[f"list_{role}"]
        table.add(f"[{label}] workers list p1 as {role}", f"{m[0]:.1f} / {m[1]:.1f} ms",
                  f"p95 / page floor {m[1] / floor[1]:.2f}x, / raw floor {m[1] / raw[1]:.1f}x")
    wid, iin, surname = sample_ids(url_db)
    c = clients["ministry"]
    for name, path in (
        ("search by IIN", f"/admin/workers/?search={iin}"),
        ("search by surname prefix", f"/admin/workers/?search={surname[:4]}"),
        ("filter: certificate expiring", "/admin/workers/?" + _cert_filter(app)),
        ("worker details page", f"/admin/workers/details/?id={wid}"),
        ("dashboard", "/admin/"),
    ):
        if path.endswith("?"):
            table.add(f"[{label}] {name}", "n/a", "filter not found in the view")
            continue
        m = get_ms(c, path, n)
        figures[name] = m
        table.add(f"[{label}] {name} (ministry)", f"{m[0]:.1f} / {m[1]:.1f} ms", "median / p95")
    return figures


def _cert_filter(app) -> str:
    """Query string of the workers view's certificate-status filter ('expiring'), found in the view."""
    admin = app.extensions["profreg_admin"]
    view = next(v for v in admin._views if getattr(v, "endpoint", None) == "workers")
    for idx, flt in enumerate(view._filters or []):
        label = str(getattr(flt, "name", "")).lower()
        if "certificate" in label or "сертификат" in label:
            options = [str(o[0]) for o in (flt.get_options(view) or [])] if hasattr(flt, "get_options") else []
            value = next((o for o in options if "expir" in o), options[0] if options else "expiring")
            return f"flt0_{idx}={value}"
    return ""
