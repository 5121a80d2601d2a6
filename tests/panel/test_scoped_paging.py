"""Scoped worker lists page through their own index (access.scope_page) and must show exactly the
rows, in exactly the order, of the scoped list query; counts of huge lists are labelled estimates."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from profreg import access
from profreg.extensions import db
from profreg.workers.models import Employment, Worker


def _ids(html):
    return [int(x) for x in re.findall(r"/admin/workers/details/\?id=(\d+)", html)]


@pytest.fixture
def crowd(world, today):
    """Region R1 with many equal surnames, a worker with two current episodes in the region, one
    whose only episode ended, one who ends in the future, and one renamed after hiring."""
    f = world.factory
    for i in range(7):
        f.worker(world.orgA if i % 2 else world.orgA2, surname="Ахметова")
    twice = f.worker(world.orgA, surname="Бекова")
    f.employment(twice, world.orgA2, fte="0.50")
    f.worker(world.orgA, surname="Ғалиева", end=today - timedelta(days=1))
    f.worker(world.orgA, surname="Әлиева", end=today + timedelta(days=30))
    renamed = f.worker(world.orgA, surname="Яковлева")
    db.session.commit()
    renamed.surname = "Абенова"
    db.session.commit()
    return world


def _reference(user, desc=False):
    """The scoped list query itself, ordered as the list orders it (surname, then id)."""
    order = (Worker.surname.desc(), Worker.id.desc()) if desc else (Worker.surname, Worker.id)
    q = access.scoped(select(Worker.id), Worker, user).order_by(*order)
    return list(db.session.execute(q).scalars())


@pytest.mark.parametrize("role", ["region", "hr"])
@pytest.mark.parametrize("desc", [False, True])
def test_scope_pages_are_the_scoped_query_in_slices(crowd, role, desc):
    user = crowd.users[role]
    expected = _reference(user, desc)
    assert len(expected) == len(set(expected)) >= 5
    got = []
    for offset in range(0, len(expected) + 3, 3):
        got += [w.id for w in access.scope_page(Worker, user, offset, 3, desc)]
    assert got == expected  # same rows, same order, each once, nothing after the last page


def test_ministry_has_no_shortcut(crowd):
    assert access.scope_page(Worker, crowd.users["ministry"], 0, 50) is None


def test_renamed_worker_and_new_episodes_carry_the_surname(crowd):
    renamed = db.session.execute(select(Worker).where(Worker.surname == "Абенова")).scalar_one()
    copies = db.session.execute(select(Employment.worker_surname).where(Employment.worker_id == renamed.id)).scalars()
    assert set(copies) == {"Абенова"}
    ep = crowd.factory.employment(renamed, crowd.orgB, hire=date(2024, 1, 1))
    db.session.commit()
    assert ep.worker_surname == "Абенова"


def test_region_list_pages_match_the_scoped_query(crowd, make_client):
    client = make_client(crowd.users["region"])
    expected = _reference(crowd.users["region"])
    first = _ids(client.get("/admin/workers/?page_size=20").get_data(as_text=True))
    assert first == expected[:20]
    surname_col = "/admin/workers/?sort=1&desc=1"  # column 1 = surname, descending
    assert _ids(client.get(surname_col).get_data(as_text=True)) == _reference(crowd.users["region"], desc=True)


def test_equal_surnames_page_in_id_order_for_every_role(crowd, make_client):
    client = make_client(crowd.users["ministry"])
    ids = _ids(client.get("/admin/workers/?search=ахметова").get_data(as_text=True))
    assert ids == sorted(ids) and len(ids) == 7


def test_huge_scoped_lists_show_a_labelled_estimate(app, crowd, make_client):
    client = make_client(crowd.users["region"])
    exact = len(_reference(crowd.users["region"]))
    page = client.get("/admin/workers/").get_data(as_text=True)
    assert f"List ({exact})" in page and "the count is an estimate" not in page
    if db.engine.dialect.name != "postgresql":
        pytest.skip("planner estimates are read on PostgreSQL only")
    old = app.config["ESTIMATED_COUNT_THRESHOLD"]
    app.config["ESTIMATED_COUNT_THRESHOLD"] = 0
    try:
        page = client.get("/admin/workers/").get_data(as_text=True)
    finally:
        app.config["ESTIMATED_COUNT_THRESHOLD"] = old
    assert "the count is an estimate" in page
    assert re.search(r"List \(\d+\)", page)
