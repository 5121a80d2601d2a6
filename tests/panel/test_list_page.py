"""The list page: cells formatted once per row, row actions rendered once per page with a placeholder
id (profreg/list.html), and list filters built per locale and kept until reference data changes."""
from __future__ import annotations

import re

from sqlalchemy import event, select

from profreg.extensions import db
from profreg.reference.models import AdminUnit, Specialty

from .conftest import parse_form


def _rows(html: str) -> list[str]:
    body = html.split("</thead>", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_each_row_acts_on_its_own_record(world, make_client):
    world.wA.status = "blocked"
    other = world.factory.worker(world.orgA, surname="Бекова")
    db.session.commit()
    client = make_client(world.users["hr_chief"])  # may view, edit and end the employment (bulk and per row)
    html = client.get("/admin/workers/").get_data(as_text=True)
    assert "__profreg_row_pk__" not in html
    rows = _rows(html)
    visible = {world.wA.id, other.id}  # the hr_chief's organization
    assert len(rows) == len(visible)
    for row in rows:
        ids = set(re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', row))
        ids |= set(re.findall(r"/admin/workers/details/\?id=(\d+)", row))
        ids |= set(re.findall(r"/admin/workers/edit/\?id=(\d+)", row))
        ids |= set(re.findall(r"/admin/workers/end/\?id=(\d+)", row))
        assert len(ids) == 1, row  # checkbox, view, edit and end all name the same record
        pk = int(ids.pop())
        assert pk in visible
        worker = world.wA if pk == world.wA.id else other
        assert f">{worker.iin}<" in row and f">{worker.surname}<" in row
        assert ('badge-blocked">Blocked<' in row) == (worker.status == "blocked")
        assert "/admin/workers/delete/" not in row  # nobody deletes a worker (docs/integrity.md)
    # the per-row "end employment" link opens the page of the row it sits in
    page = client.get(f"/admin/workers/end/?id={other.id}").get_data(as_text=True)
    assert other.surname in page and world.wA.surname not in page


def test_association_cells_mask_the_iin(world, make_client):
    client = make_client(world.users["association"])
    html = client.get("/admin/certificates/").get_data(as_text=True)
    rows = _rows(html)
    assert rows, "the association lists certificates of its specialties"
    for row in rows:
        assert re.search(r"•{8}\d{4}", row), row
        for w in (world.wA, world.wA2, world.wB):
            assert w.iin not in row


def _filter_groups(html: str) -> str:
    m = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', html, flags=re.S)
    assert m, "the workers list offers filters"
    return m.group(1).encode().decode("unicode_escape")


def test_filters_are_built_once_per_language_and_follow_reference_edits(app, world, make_client):
    client = make_client(world.users["ministry"])
    reference_reads = []

    def count(conn, cursor, statement, *args):
        if re.search(r"FROM (admin_unit|specialty|position)\b", statement):
            reference_reads.append(statement)

    client.get("/admin/workers/?lang=en")
    client.get("/admin/workers/?lang=kk")
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        en = _filter_groups(client.get("/admin/workers/?lang=en").get_data(as_text=True))
        kk = _filter_groups(client.get("/admin/workers/?lang=kk").get_data(as_text=True))
        assert reference_reads == []  # options (regions, specialties, positions) come from the cache
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    region = db.session.execute(select(AdminUnit).where(AdminUnit.id == world.R1.id)).scalar_one()
    assert region.name_en in en and region.name_kk in kk
    assert "Region" in en and "Өңір" in kk

    # a specialty renamed through the panel is offered under its new name on the next list page
    admin = make_client(world.users["admin"])
    spec = db.session.execute(select(Specialty).order_by(Specialty.id)).scalars().first()
    page = admin.get(f"/admin/ref_specialties/edit/?id={spec.id}&lang=en").get_data(as_text=True)
    data = dict(parse_form(page).data)
    data["name_en"] = "Renamed specialty for the filter test"
    resp = admin.post(f"/admin/ref_specialties/edit/?id={spec.id}", data=data)
    assert resp.status_code == 302
    assert "Renamed specialty for the filter test" in _filter_groups(
        client.get("/admin/workers/?lang=en").get_data(as_text=True))
