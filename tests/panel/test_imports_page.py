"""The import page (issue 16, item 6): upload → dry run with its report → confirm → history."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from profreg.education.models import EducationInstitution
from profreg.extensions import db
from profreg.imports.models import ImportRun
from profreg.reference.models import Country
from profreg.workers.models import Worker
from tests.imports.workbook import build, write_xlsx
from tests.panel.conftest import make_user, token


@pytest.fixture
def upload(app, world, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(Path(app.instance_path) / f"imports-{uuid.uuid4().hex}"))
    inst = EducationInstitution(name="Медицинский колледж Астана", country=world.factory.ref(Country, "KZ"))
    db.session.add(inst)
    db.session.commit()
    workers, certs, edu, bad = build(6, world.orgA.bin, inst.name, start=500)
    path = tmp_path / "staff.xlsx"
    write_xlsx(path, workers, certs, edu)
    return path, bad


def _workers() -> int:
    return db.session.execute(select(func.count()).select_from(Worker)).scalar()


def test_upload_checks_then_confirm_imports(world, upload, make_client):
    path, bad = upload
    hr = make_client(world.users["hr"])
    page = hr.get("/admin/imports/?lang=en").get_data(as_text=True)
    assert "Check the file" in page and "/admin/imports/template/?kind=all" in page
    before = _workers()
    resp = hr.post("/admin/imports/upload/", data={"csrf_token": token(hr, "/admin/imports/"),
                                                   "file": (io.BytesIO(path.read_bytes()), "staff.xlsx")},
                   content_type="multipart/form-data")
    assert resp.status_code == 302
    run = db.session.execute(select(ImportRun)).scalar_one()
    assert run.dry_run and run.state == "done" and (run.created, run.rejected) == (1 + 1 + 1, 5 + 5 + 4)
    assert _workers() == before  # the check writes nothing
    page = hr.get(resp.headers["Location"]).get_data(as_text=True)
    assert "staff.xlsx" in page and "100%" in page and "Import this file" in page
    report = openpyxl.load_workbook(io.BytesIO(hr.get(f"/admin/imports/{run.id}/report/").get_data()))
    assert report["workers"].cell(1, 26).value == "Import status"
    resp = hr.post(f"/admin/imports/{run.id}/confirm/", data={"csrf_token": token(hr, "/admin/imports/")})
    assert resp.status_code == 302
    assert _workers() == before + 1
    runs = db.session.execute(select(ImportRun).order_by(ImportRun.id)).scalars().all()
    assert [r.dry_run for r in runs] == [True, False] and runs[1].created == 3


def test_the_template_downloads_in_the_users_language(world, make_client):
    hr = make_client(world.users["hr"])
    resp = hr.get("/admin/imports/template/?kind=workers&lang=kk")
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    assert wb.worksheets[0].cell(1, 1).value.startswith("ЖСН")


def test_who_may_open_the_page(world, make_client):
    assert make_client(world.users["org_head"]).get("/admin/imports/").status_code == 403
    assert make_client(world.users["association"]).get("/admin/imports/").status_code == 403
    assert make_client(world.users["hr_chief"]).get("/admin/imports/").status_code == 200


def test_a_run_of_another_organization_is_not_found(world, upload, make_client):
    path, _bad = upload
    hr = make_client(world.users["hr"])
    hr.post("/admin/imports/upload/", data={"csrf_token": token(hr, "/admin/imports/"),
                                            "file": (io.BytesIO(path.read_bytes()), "staff.xlsx")},
            content_type="multipart/form-data")
    run = db.session.execute(select(ImportRun)).scalar_one()
    hr_b = make_user(db, "hr", org=world.orgB)
    db.session.commit()
    assert make_client(hr_b).get(f"/admin/imports/{run.id}/report/").status_code == 404
    assert make_client(world.users["hr_chief"]).get(f"/admin/imports/{run.id}/report/").status_code == 200
