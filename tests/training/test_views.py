"""The panel views: build, draft, edit, approve (then frozen), complete, exports, scoping, association."""
from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from profreg.reference.models import Position, TrainingActivityType
from profreg.training.models import CpdRecord, TrainingList
from profreg.training.services import Rules, approve, create_draft
from tests.conftest import csrf_token, login, logout

KAZAKH = "ә ғ қ ң ө ұ ү һ і".split()


@pytest.fixture
def draft(ds, db):
    lst = create_draft(ds.org_a.id, "2027Q1", Rules(), None, ds.users["hr_a"])
    db.session.commit()
    return lst


def _item(lst, worker):
    return next(i for i in lst.items if i.worker_id == worker.id)


def test_hr_builds_previews_and_saves_a_draft(client, ds, db, ref):
    login(client, ds.users["hr_a"])
    page = client.get("/admin/training_lists/new")
    assert page.status_code == 200
    token = csrf_token(client, "/admin/training_lists/new")
    data = {"csrf_token": token, "period": "2027Q1", "cert_expiring": "y", "cert_months": "6", "cpd_deficit": "y",
            "cpd_pro_rata": "y", "no_training_years": "5", "new_role_months": "12", "position_id": "",
            "specialty_id": "", "department": ""}
    preview = client.post("/admin/training_lists/new", data={**data, "preview": "1"})
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Expiring" in text and "Deficit" in text and "Oldtraining" not in text  # no_training switched off
    assert db.session.execute(select(TrainingList)).first() is None
    saved = client.post("/admin/training_lists/new", data={**data, "save": "1"})
    assert saved.status_code == 302
    lst = db.session.execute(select(TrainingList)).scalar_one()
    assert lst.status == "draft" and lst.period == "2027Q1"
    assert {i.worker.surname for i in lst.items} == {"Expiring", "Deficit", '=HYPERLINK("http://x","y")'}
    pos = ref(Position, "SENIOR_NURSE")
    filtered = client.post("/admin/training_lists/new", data={**data, "no_training": "y", "new_role": "y",
                                                              "position_id": str(pos.id), "preview": "1"})
    text = filtered.get_data(as_text=True)
    assert filtered.status_code == 200 and "Newposition" in text and "Expiring" not in text
    again = client.post("/admin/training_lists/new", data={**data, "save": "1"})
    assert again.status_code == 200 and db.session.execute(select(TrainingList)).scalars().all() == [lst]


def test_edit_approve_freeze_complete(client, ds, db, draft, ref):
    hr, head = ds.users["hr_a"], ds.users["head_a"]
    login(client, hr)
    url = f"/admin/training_lists/{draft.id}/"
    token = csrf_token(client, url)
    fine = ds.w["fine"]
    r = client.post(url + "add", data={"csrf_token": token, "iin": fine.iin, "note": "Жаңа әдістеме"})
    assert r.status_code == 302
    r = client.post(url + "add", data={"csrf_token": token, "iin": ds.w["other"].iin, "note": "x"})  # org B
    db.session.expire_all()
    assert {i.worker_id for i in draft.items} >= {fine.id} and ds.w["other"].id not in {i.worker_id for i in draft.items}
    assert any(r["code"] == "manual" for r in _item(draft, fine).reasons)
    old = _item(draft, ds.w["oldtraining"])
    assert client.post(url + f"remove/{old.id}", data={"csrf_token": token, "reason": ""}).status_code == 302
    db.session.expire_all()
    assert not old.removed
    client.post(url + f"remove/{old.id}", data={"csrf_token": token, "reason": "Декреттік демалыста"})
    db.session.expire_all()
    assert old.removed and old.removal_reason == "Декреттік демалыста"
    # hr cannot approve
    assert client.post(url + "approve", data={"csrf_token": token}).status_code == 403
    logout(client)
    login(client, head)
    assert client.get(url).status_code == 200
    token = csrf_token(client, url)
    assert client.post(url + "add", data={"csrf_token": token, "iin": fine.iin, "note": "x"}).status_code == 403
    assert client.post(url + "approve", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert draft.status == "approved" and draft.approved_by_id == head.id and draft.approved_at is not None
    logout(client)
    # frozen: hr can no longer add or remove
    login(client, hr)
    token = csrf_token(client, url)
    n = len(draft.items)
    client.post(url + "add", data={"csrf_token": token, "iin": ds.w["withcourse"].iin, "note": "x"})
    item = _item(draft, ds.w["deficit"])
    client.post(url + f"remove/{item.id}", data={"csrf_token": token, "reason": "x"})
    db.session.expire_all()
    assert len(draft.items) == n and not item.removed
    # completion creates the CPD record on the worker
    form = client.get(url + f"complete/{item.id}")
    assert form.status_code == 200
    token = csrf_token(client, url + f"complete/{item.id}")
    act = ref(TrainingActivityType, "ADV_TRAINING")
    r = client.post(url + f"complete/{item.id}", data={
        "csrf_token": token, "activity_type_id": str(act.id), "provider": "ҚазМУ", "topic": "Мейіргер ісі",
        "start_date": "2026-11-02", "end_date": "2026-11-20", "hours": "72", "credits": "", "certificate_number": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    db.session.expire_all()
    rec = db.session.get(CpdRecord, item.cpd_record_id)
    assert rec.worker_id == ds.w["deficit"].id and rec.hours == 72 and item.completed_at == date(2026, 11, 20)
    assert rec.specialty_id == item.specialty_id


def test_org_head_of_b_cannot_see_or_export_a(client, ds, draft):
    login(client, ds.users["head_b"])
    url = f"/admin/training_lists/{draft.id}/"
    assert client.get(url).status_code == 404
    for fmt in ("xlsx", "csv", "pdf"):
        assert client.get(url + f"export/{fmt}").status_code == 404
    token = csrf_token(client, "/password")
    assert client.post(url + "approve", data={"csrf_token": token}).status_code == 404
    listing = client.get("/admin/training_lists/").get_data(as_text=True)
    assert "2027Q1" not in listing


def test_association_cannot_reach_lists_and_changes_nothing(client, ds, draft, db):
    login(client, ds.users["assoc"])
    assert client.get("/admin/training_lists/").status_code == 403
    assert client.get(f"/admin/training_lists/{draft.id}/").status_code == 403
    token = csrf_token(client, "/password")
    assert client.post(f"/admin/training_lists/{draft.id}/approve", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/cpd_assessment/", data={"csrf_token": token}).status_code == 405
    db.session.expire_all()
    assert draft.status == "draft"


def test_exports_from_the_panel(client, ds, draft, db):
    approve(draft, ds.users["head_a"])
    db.session.commit()
    login(client, ds.users["head_a"])
    url = f"/admin/training_lists/{draft.id}/export/"
    x = client.get(url + "xlsx")
    assert x.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(x.data)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [str(v) for row in values for v in row if v is not None]
    assert ds.org_a.bin in " ".join(flat) and any(q in v.replace("\u00a0", " ").replace("\u202f", " ") for v in flat for q in ("I квартал 2027", "2027 ж. I тоқсан", "Q1 2027"))
    name = [v for v in flat if "HYPERLINK" in v]
    assert name and all(v.startswith("'=HYPERLINK") for v in name)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    c = client.get(url + "csv")
    assert c.data.startswith(b"\xef\xbb\xbf") and "'=HYPERLINK" in c.data.decode("utf-8-sig")
    p = client.get(url + "pdf")
    assert p.status_code == 200 and p.data.startswith(b"%PDF")


def test_association_sees_masked_cpd_of_its_specialties(client, ds):
    login(client, ds.users["assoc_mid"])
    page = client.get("/admin/cpd_assessment/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    w = ds.w["newspecialty"]
    assert w.surname in text and w.iin not in text and ("•" * 8 + w.iin[-4:]) in text
    assert ds.w["deficit"].surname not in text  # nursing only
    x = client.get("/admin/cpd_assessment/export.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(x.data)).active
    cells = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert w.surname in " ".join(cells) and not any(re.fullmatch(r"\d{12}", v) for v in cells)


def test_post_without_csrf_token_is_refused(client, ds, draft, db):
    login(client, ds.users["head_a"])
    r = client.post(f"/admin/training_lists/{draft.id}/approve", data={})
    assert r.status_code == 400
    db.session.expire_all()
    assert draft.status == "draft"


def test_ministry_reads_lists_but_cannot_change_them(client, ds, draft, db):
    login(client, ds.users["ministry"])
    assert client.get(f"/admin/training_lists/{draft.id}/").status_code == 200
    assert client.get(f"/admin/training_lists/{draft.id}/export/csv").status_code == 200
    assert client.get("/admin/training_lists/new").status_code == 403
    token = csrf_token(client, "/password")
    assert client.post(f"/admin/training_lists/{draft.id}/approve", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/admin/training_lists/{draft.id}/delete", data={"csrf_token": token}).status_code == 403


def test_pages_render_in_kazakh(client, ds, draft):
    login(client, ds.users["hr_a"])
    for url in ("/admin/training_lists/?lang=kk", f"/admin/training_lists/{draft.id}/?lang=kk",
                "/admin/training_lists/new?lang=kk"):
        assert client.get(url).status_code == 200
    logout(client)
    login(client, ds.users["assoc"])
    r = client.get("/admin/cpd_assessment/?lang=kk&deficit=1&region=&specialty=")
    assert r.status_code == 200


def test_exports_are_logged(client, ds, draft, db):
    from profreg.audit.models import AuditLog

    login(client, ds.users["hr_a"])
    assert client.get(f"/admin/training_lists/{draft.id}/export/csv").status_code == 200
    logout(client)
    login(client, ds.users["assoc"])
    assert client.get("/admin/cpd_assessment/export.xlsx?deficit=1").status_code == 200
    logs = db.session.execute(select(AuditLog).where(AuditLog.action == "export")).scalars().all()
    assert {(entry.table_name, entry.user_id) for entry in logs} == {
        ("training_list", ds.users["hr_a"].id), ("cpd_record", ds.users["assoc"].id)}
