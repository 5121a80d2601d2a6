"""Figures of big scopes kept for every process (profreg/memo.py, the table ``shared_figure``): computed
once per period by one process, shown by the others; refreshed by one process while the others show
the figure they have; never unpickled unless signed by the app. PostgreSQL only (SQLite keeps figures
per process)."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from profreg.memo import Memo, shared_figure


@pytest.fixture
def pg(app, db, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("figures are shared between processes on PostgreSQL only")
    monkeypatch.setitem(app.config, "SHARED_FIGURES", True)
    return db


def _two_processes(name="test figures"):
    """Two stores of the same name: what two gunicorn workers hold (each its own dictionary)."""
    return Memo(name, 60, shared=True), Memo(name, 60, shared=True)


def test_a_figure_computed_by_one_process_is_shown_by_another(pg):
    one, two = _two_processes()
    calls = []

    def compute():
        calls.append(1)
        return {"headcount": 300_000, "by_region": [("71", 12_345)]}

    assert one.get(("country", 0), compute) == {"headcount": 300_000, "by_region": [("71", 12_345)]}
    assert two.get(("country", 0), compute) == {"headcount": 300_000, "by_region": [("71", 12_345)]}
    assert len(calls) == 1  # the second process read it
    assert two.get(("region", 7), lambda: 7) == 7  # another key is its own figure


def test_an_out_of_date_figure_is_refreshed_by_one_process_while_the_others_show_the_old_one(pg):
    one, two = _two_processes()
    one.get("k", lambda: "old")
    with pg.engine.begin() as conn:  # the minute has passed
        conn.execute(update(shared_figure).values(expires_at=0))
    seen_meanwhile = []

    def refresh():
        # while this process computes, another one asks: it gets the old figure, computing nothing
        seen_meanwhile.append(two.get("k", lambda: pytest.fail("a second process recomputed")))
        return "new"

    assert Memo("test figures", 60, shared=True).get("k", refresh) == "new"
    assert seen_meanwhile == ["old"]
    with pg.engine.connect() as conn:
        row = conn.execute(select(shared_figure.c.refreshing_until, shared_figure.c.expires_at)).one()
    assert row.refreshing_until is None and row.expires_at > 0  # the claim is released with the new value
    assert Memo("test figures", 60, shared=True).get("k", lambda: pytest.fail("recomputed")) == "new"


def test_a_refresh_that_fails_gives_its_claim_back(pg):
    one = Memo("test figures", 60, shared=True)
    one.get("k", lambda: "old")
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))

    def broken():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        Memo("test figures", 60, shared=True).get("k", broken)
    assert Memo("test figures", 60, shared=True).get("k", lambda: "new") == "new"  # not left claimed


def test_a_row_not_signed_by_the_app_is_never_unpickled(pg, app, monkeypatch):
    one = Memo("test figures", 60, shared=True)
    one.get("k", lambda: "ours")
    with pg.engine.begin() as conn:
        value = conn.execute(select(shared_figure.c.value)).scalar()
        forged = bytes(32) + bytes(value)[32:]  # the same pickle under another signature
        conn.execute(update(shared_figure).values(value=forged))
    assert Memo("test figures", 60, shared=True).get("k", lambda: "recomputed") == "recomputed"
    monkeypatch.setitem(app.config, "SECRET_KEY", "another app's key")
    assert Memo("test figures", 60, shared=True).get("k", lambda: "again") == "again"


def test_forgetting_empties_the_shared_figures_too(pg):
    one, two = _two_processes()
    one.get("k", lambda: 1)
    one.forget()
    assert two.get("k", lambda: 2) == 2


def test_a_background_figure_is_refreshed_in_a_thread_while_every_page_shows_the_old_one(pg):
    """``background=True`` (the ranking, the live report): the process that claims the refresh shows the
    figure it has too and computes the new one in a thread; a failed refresh gives its claim back."""
    from profreg.memo import join_refreshes

    Memo("test figures", 60, shared=True, background=True).get("k", lambda: "old")
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))
    calls = []

    def fresh():
        calls.append(1)
        return "new"

    assert Memo("test figures", 60, shared=True, background=True).get("k", fresh) == "old"  # at once
    join_refreshes()
    assert calls == [1]
    assert Memo("test figures", 60, shared=True, background=True).get("k", lambda: pytest.fail("again")) == "new"

    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))

    def broken():
        raise RuntimeError("the replica went away")

    assert Memo("test figures", 60, shared=True, background=True).get("k", broken) == "new"
    join_refreshes()
    with pg.engine.connect() as conn:
        assert conn.execute(select(shared_figure.c.refreshing_until)).scalar() is None  # claim given back


@pytest.mark.commits
def test_a_regions_dashboard_count_is_refreshed_in_a_thread_with_the_user_read_again(pg, factory, monkeypatch, app):
    """The dashboard's kept counts are refreshed in a thread (``background=True``): the count is computed
    there for the same user, read again in the thread's own session, and the page meanwhile shows the
    count it has."""
    from datetime import date

    from profreg.admin import dashboard
    from profreg.memo import join_refreshes
    from profreg.workers.models import Worker

    monkeypatch.setitem(app.config, "BIG_SCOPE_CACHE_SECONDS", 60)
    region = factory.region()
    org = factory.org()
    coordinator = factory.user("region", region=region)
    today = date.today()
    w = factory.worker(org, certificate_until=date(2030, 1, 1))
    w.status = "blocked"
    pg.session.commit()
    tile = dashboard.TILES["blocked"]
    assert dashboard._tile_count(tile, coordinator, today) == 1
    w2 = factory.worker(org, surname="Екінші", certificate_until=date(2030, 1, 1))
    w2.status = "blocked"
    pg.session.commit()
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))
    dashboard._BIG_COUNTS._forget_here()  # another process: nothing kept in its dictionary
    assert dashboard._tile_count(tile, coordinator, today) == 1  # the figure it has, at once
    join_refreshes()
    dashboard._BIG_COUNTS._forget_here()
    assert dashboard._tile_count(tile, coordinator, today) == 2  # refreshed by the thread
    assert pg.session.get(Worker, w2.id).status == "blocked"


def test_a_figure_refreshed_in_a_thread_is_in_the_language_of_its_key(pg, app):
    """Names in a kept figure are in the asker's language: the refresh thread speaks it too."""
    from flask_babel import force_locale

    from profreg.i18n import current_lang
    from profreg.memo import join_refreshes

    with force_locale("kk"):
        Memo("test figures", 60, shared=True, background=True).get(("kk",), current_lang)
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))
    with force_locale("kk"):
        assert Memo("test figures", 60, shared=True, background=True).get(("kk",), current_lang) == "kk"
    join_refreshes()
    with force_locale("en"):  # (another language's key would be its own figure)
        assert Memo("test figures", 60, shared=True, background=True).get(("kk",), lambda: "en") == "kk"


def test_refreshes_run_one_at_a_time_in_the_whole_register(pg):
    """Figures due together queue for the one refresh slot (an advisory lock): while another process
    holds it, this process's refreshes wait, its pages showing the old figures; once it is free they
    run, one after the other, in the order they fell due."""
    import time

    from sqlalchemy import func

    from profreg.memo import REFRESH_SLOT_KEY, join_refreshes

    keys = ("tile a", "tile b", "tile c")
    for k in keys:
        Memo("test figures", 60, shared=True, background=True).get(k, lambda k=k: f"old {k}")
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))
    running, order = [], []

    def fresh(k):
        running.append(k)
        assert len(running) == 1, running  # never two at once
        time.sleep(0.05)
        order.append(k)
        running.remove(k)
        return f"new {k}"

    other = pg.engine.connect()  # another process, refreshing a figure of its own
    other.execute(select(func.pg_advisory_lock(REFRESH_SLOT_KEY)))
    try:
        page = Memo("test figures", 60, shared=True, background=True)
        assert [page.get(k, lambda k=k: fresh(k)) for k in keys] == [f"old {k}" for k in keys]
        time.sleep(0.3)
        assert order == []  # waiting for the slot
    finally:
        other.execute(select(func.pg_advisory_unlock(REFRESH_SLOT_KEY)))
        other.close()
    join_refreshes()
    assert order == list(keys)
    fresh_page = Memo("test figures", 60, shared=True, background=True)
    assert [fresh_page.get(k, lambda: pytest.fail("again")) for k in keys] == [f"new {k}" for k in keys]


def test_with_two_slots_a_figure_of_the_other_slot_is_not_held_up_and_the_metrics_count_it(pg, app, client, factory,
                                                                                            monkeypatch):
    """``SHARED_FIGURES_REFRESH_SLOTS = 2``: each figure has its slot (by its key); while another process
    holds one slot, a figure of the other slot is refreshed at once, a figure of the held slot waits.
    /metrics shows each refresh's time and its wait for the slot, per store."""
    import re
    import time

    from sqlalchemy import func

    from profreg.memo import REFRESH_SLOT_KEY, _refresh_slot, _SharedStore, join_refreshes, refresh_slots

    monkeypatch.setitem(app.config, "SHARED_FIGURES_REFRESH_SLOTS", 2)
    assert refresh_slots() == 2
    slot_of = {k: int(_SharedStore("test slots", k).key[:8], 16) % 2 for k in (f"figure {i}" for i in range(20))}
    held = next(k for k, s in slot_of.items() if s == 0)
    free = next(k for k, s in slot_of.items() if s == 1)
    Memo("test slots", 60, shared=True, background=True).get(held, lambda: "old")
    with pg.engine.begin() as conn:
        conn.execute(update(shared_figure).values(expires_at=0))
    done = []

    other = pg.engine.connect()
    other.execute(select(func.pg_advisory_lock(REFRESH_SLOT_KEY)))  # slot 0, held by another process
    try:
        t0 = time.monotonic()
        with _refresh_slot(_SharedStore("test slots", free).key):  # slot 1: free
            assert time.monotonic() - t0 < 5
        page = Memo("test slots", 60, shared=True, background=True)
        assert page.get(held, lambda: done.append(held) or "new") == "old"
        time.sleep(0.5)
        assert done == []  # waiting for slot 0
    finally:
        other.execute(select(func.pg_advisory_unlock(REFRESH_SLOT_KEY)))
        other.close()
    join_refreshes()
    assert done == [held]

    from tests.conftest import login

    login(client, factory.user("admin"))
    page = client.get("/metrics").get_data(as_text=True)
    waited = re.search(r'profreg_shared_figure_refresh_wait_seconds_sum\{memo="test slots"\} ([\d.e+-]+)', page)
    assert waited and float(waited.group(1)) >= 0.4  # the figure of the held slot waited for it
    assert re.search(r'profreg_shared_figure_refresh_seconds_count\{memo="test slots"\} [1-9]', page)
