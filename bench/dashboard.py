"""``python -m bench dashboard``: the dashboard of every demo role at national scale, the page and each
of its parts (tiles, worklist, the region's table per organization, the ministry's report statuses,
the 12-month trend), and a tile's list (the list behind a tile, ``?tile=blocked``)."""
from __future__ import annotations

import time

from .common import stats, timed
from .web import get_ms, login, make_app

ROLES = (("ministry", "ministry"), ("region", "region"), ("org_head", "head"), ("hr", "hr"))
PARTS = ("dashboard_cards", "worklist", "organization_table", "region_reports", "trend")


def _parts_ms(app, email: str, n: int) -> dict:
    """(median, p95) of each dashboard function for one user, inside one request context."""
    from sqlalchemy import select

    from profreg.admin import dashboard
    from profreg.auth.models import User
    from profreg.extensions import db

    out = {}
    with app.test_request_context("/admin/"):
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        for name in PARTS:
            fn = getattr(dashboard, name)
            fn(user)  # warm-up (plans, caches)
            out[name] = stats(timed(lambda fn=fn: fn(user), n))
        db.session.remove()
    return out


def run(table, url: str, workers: int, n: int = 10) -> dict:
    app = make_app(url)
    figures = {}
    label = f"{workers // 1000}k"
    for role, email in ROLES:
        address = f"{email}@profreg.kz"
        client = login(app, address)
        t0 = time.perf_counter()
        client.get("/admin/").get_data()
        cold = (time.perf_counter() - t0) * 1000
        page = get_ms(client, "/admin/", n)
        figures[f"dashboard_{role}"] = page
        table.add(f"[{label}] dashboard page as {role}", f"{page[0]:.1f} / {page[1]:.1f} ms",
                  f"median / p95 of {n}; first request {cold:.0f} ms")
        parts = _parts_ms(app, address, max(n // 2, 3))
        for name, (med, p95) in parts.items():
            if med >= 0.5:  # the parts a role does not have return at once
                table.add(f"[{label}]   {name} ({role})", f"{med:.1f} / {p95:.1f} ms", "median / p95")
        tile = get_ms(client, "/admin/workers/?tile=blocked", max(n // 2, 3))
        table.add(f"[{label}] blocked-workers tile's list as {role}", f"{tile[0]:.1f} / {tile[1]:.1f} ms",
                  "median / p95")
    return figures
