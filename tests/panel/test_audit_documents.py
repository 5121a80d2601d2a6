"""Audit trail (changes with old → new, reads, exports, inline deletions, scoped view) and personnel
documents (content-checked uploads, size limit, scoped download)."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg import clock
from profreg.audit.models import AuditLog
from profreg.documents.models import PersonnelDocument
from profreg.reference.models import PersonnelDocumentType
from tests.conftest import real_pdf, real_png
from tests.panel.conftest import make_user, parse_form, token


def _entries(db, **kw):
    db.session.expire_all()
    q = select(AuditLog)
    for k, v in kw.items():
        q = q.where(getattr(AuditLog, k) == v)
    return db.session.execute(q.order_by(AuditLog.id)).scalars().all()


def test_edit_writes_old_and_new_values_with_the_actor(world, make_client):
    db = world.db
    hr = world.users["hr"]
    c = make_client(hr)
    url = f"/admin/workers/edit/?id={world.wA.id}"
    data = MultiDict(parse_form(c.get(url).get_data(as_text=True)).data)
    data["surname"] = "Қасымова-Ахметова"
    assert c.post(url, data=data).status_code == 302
    e = _entries(db, action="update", table_name="worker", record_id=world.wA.id)[-1]
    assert e.user_id == hr.id and e.worker_id == world.wA.id
    assert e.organization_id == world.orgA.id and e.region_id == world.R1.id
    assert e.changes["surname"] == ["Қасымова", "Қасымова-Ахметова"]
    assert "version" not in e.changes and "surname_folded" not in e.changes


def test_the_worker_page_shows_the_personal_data_history_to_its_organization(world, make_client):
    """A change of a current worker's personal data shows on his page (label, old → new) for hr_chief
    (who reads the organization's audit trail) and for HR (who does not read the audit trail, but sees
    the history of the workers it employs: issue 15); another organization's HR opens no such page."""
    hr = make_client(world.users["hr"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    data = MultiDict(parse_form(hr.get(url).get_data(as_text=True)).data)
    data["surname"] = "Қасымова-Ахметова"
    assert hr.post(url, data=data).status_code == 302
    page = make_client(world.users["hr_chief"]).get(f"/admin/workers/details/?id={world.wA.id}&lang=en&tab=history")
    html = page.get_data(as_text=True)
    history = html[html.index("History of changes"):]
    assert re.search(r"Surname: Қасымова → Қасымова-Ахметова", history), history[:2000]
    own = hr.get(f"/admin/workers/details/?id={world.wA.id}&lang=en&tab=history").get_data(as_text=True)
    assert re.search(r"Surname: Қасымова → Қасымова-Ахметова", own[own.index("History of changes"):])
    assert hr.get("/admin/audit/").status_code == 403  # the audit trail itself stays closed to HR
    other = make_user(world.db, "hr", org=world.orgB)
    world.db.session.commit()
    assert make_client(other).get(f"/admin/workers/details/?id={world.wA.id}").status_code == 404


def test_create_is_audited_outside_requests_and_no_path_deletes_a_record(world, today):
    """The listener sees the CLI and jobs (no user: system); an ORM deletion of a record is refused on
    every path, an annulment (with its reason) is audited."""
    from profreg.errors import DomainError
    from profreg.workers.records import annul

    db, f = world.db, world.factory
    cert = f.certificate(world.wB, valid_until=today.replace(year=today.year + 2))
    db.session.commit()
    created = _entries(db, action="create", table_name="certificate", record_id=cert.id)
    assert len(created) == 1 and created[0].user_id is None and created[0].worker_id == world.wB.id
    assert created[0].organization_id == world.orgB.id and created[0].changes["number"][1] == cert.number
    db.session.delete(cert)
    with pytest.raises(DomainError, match="not deleted"):
        db.session.flush()
    db.session.rollback()
    annul(db.session.get(type(cert), cert.id), "Ошибочный ввод", world.users["ministry"])
    db.session.commit()
    entry, = _entries(db, action="update", table_name="certificate", record_id=cert.id)
    assert entry.detail == "Ошибочный ввод" and entry.changes["annul_reason"] == [None, "Ошибочный ввод"]


def test_an_inline_deletion_of_a_record_is_refused(world, make_client):
    db = world.db
    c = make_client(world.users["hr_chief"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    form = parse_form(c.get(url).get_data(as_text=True))
    data = MultiDict(form.data)
    keys = [k for k in data if re.match(r"cpd_records-\d+-id$", k)]
    assert keys, sorted(data)
    prefix = keys[0][: -len("id")]
    cpd_id = int(data[keys[0]])
    data[f"del-{prefix[:-1]}"] = "y"
    resp = c.post(url, data=data)
    assert resp.status_code == 200 and "The national record is not deleted" in resp.get_data(as_text=True)
    db.session.expire_all()
    from profreg.training.models import CpdRecord

    assert db.session.get(CpdRecord, cpd_id) is not None
    assert _entries(db, action="delete", table_name="cpd_record", record_id=cpd_id) == []


def test_details_view_and_export_write_read_log_entries(world, make_client):
    db = world.db
    ministry = world.users["ministry"]
    c = make_client(ministry)
    assert c.get(f"/admin/workers/details/?id={world.wB.id}").status_code == 200
    views = _entries(db, action="view", table_name="worker", record_id=world.wB.id)
    assert len(views) == 1 and views[0].user_id == ministry.id and views[0].organization_id == world.orgB.id
    assert c.get("/admin/workers/export/csv/?search=иванова").status_code == 200
    exports = _entries(db, action="export", table_name="worker")
    assert len(exports) == 1 and exports[0].user_id == ministry.id and "csv" in exports[0].detail


def test_audit_view_is_scoped(world, make_client):
    db = world.db
    for role, expected in (("hr_chief", {world.orgA.id}), ("org_head", {world.orgA.id})):
        c = make_client(world.users[role])
        html = c.get("/admin/audit/?page_size=100").get_data(as_text=True)
        ids = {int(x) for x in re.findall(r"/admin/audit/details/\?id=(\d+)", html)}
        assert ids
        orgs = {e.organization_id for e in _entries(db) if e.id in ids}
        assert orgs == expected
    c = make_client(world.users["region"])
    html = c.get("/admin/audit/?page_size=100").get_data(as_text=True)
    ids = {int(x) for x in re.findall(r"/admin/audit/details/\?id=(\d+)", html)}
    assert ids and {e.region_id for e in _entries(db) if e.id in ids} == {world.R1.id}
    assert make_client(world.users["hr"]).get("/admin/audit/").status_code == 403
    assert make_client(world.users["association"]).get("/admin/audit/").status_code == 403


# --- personnel documents -------------------------------------------------------------------------------

PDF = real_pdf()  # whole files: uploads are parsed as a whole (issue 18, tests/panel/test_security_uploads.py)
PNG = real_png()
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
MZ = b"MZ\x90\x00" + b"\x00" * 64


def _upload(client, world, content, filename):
    doc_type = world.factory.ref(PersonnelDocumentType, "HIRE_ORDER")
    return client.post("/admin/documents/new/", content_type="multipart/form-data", data={
        "csrf_token": token(client), "worker": str(world.wA.id), "doc_type": str(doc_type.id), "number": "П-77",
        "doc_date": "2026-11-20", "file": (io.BytesIO(content), filename)})


def test_pdf_and_image_uploads_are_stored_with_safe_names(world, make_client, app):
    db = world.db
    c = make_client(world.users["hr"])
    for content, name in ((PDF, "../../etc/приказ.pdf"), (PNG, "scan.png")):
        resp = _upload(c, world, content, name)
        assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    docs = db.session.execute(select(PersonnelDocument).where(PersonnelDocument.number == "П-77")
                              .order_by(PersonnelDocument.id)).scalars().all()
    assert [d.content_type for d in docs] == ["application/pdf", "image/png"]
    pdf = docs[0]
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", pdf.stored_name) and pdf.original_name == "приказ.pdf"
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest() and pdf.size == len(PDF)
    assert pdf.organization_id == world.orgA.id
    stored = Path(app.config["UPLOAD_FOLDER"]) / pdf.stored_name
    assert stored.read_bytes() == PDF
    # download inside the scope; 404 outside; association never
    r = c.get(f"/admin/documents/download/{pdf.id}")
    assert r.status_code == 200 and r.data == PDF
    assert _entries(db, action="download", record_id=pdf.id)
    other = make_user(db, "hr", org=world.orgB)
    db.session.commit()
    assert make_client(other).get(f"/admin/documents/download/{pdf.id}").status_code == 404
    assert make_client(world.users["association"]).get(f"/admin/documents/download/{pdf.id}").status_code == 403
    assert make_client(world.users["region"]).get(f"/admin/documents/download/{pdf.id}").status_code == 200


def test_executable_renamed_pdf_and_oversized_files_are_refused(world, make_client, app):
    db = world.db
    c = make_client(world.users["hr"])
    before = len(db.session.execute(select(PersonnelDocument.id)).all())
    files_before = set(Path(app.config["UPLOAD_FOLDER"]).glob("*"))
    for content, name in ((ELF, "order.pdf"), (MZ, "order.pdf"), (b"", "empty.pdf")):
        resp = _upload(c, world, content, name)
        assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "empty" in body
    resp = _upload(c, world, ELF, "x.pdf")
    assert "Only PDF, PNG and JPEG files are accepted" in resp.get_data(as_text=True)
    limit = app.config["MAX_UPLOAD_BYTES"]
    resp = _upload(c, world, b"%PDF-" + b"0" * limit, "big.pdf")
    assert resp.status_code == 200 and "too large" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.execute(select(PersonnelDocument.id)).all()) == before
    assert set(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == files_before


def test_no_one_deletes_a_worker_an_organization_ends_its_own_employment(world, make_client, app, today):
    """As organization A's hr_chief, "deleting" a worker who also works at B: the row and bulk delete
    are gone; ending the employment ends A's episode only, and the national record, B's episode, the
    certificates, records and files stay."""
    from profreg.reference.models import LabourCodeGround
    from profreg.workers.models import Employment, Worker

    db, f = world.db, world.factory
    f.employment(world.wB, world.orgA, hire=today.replace(year=today.year - 1))  # B's worker also works at A
    db.session.commit()
    c = make_client(world.users["hr_chief"])
    assert _upload(c, world, PDF, "order.pdf").status_code == 302
    db.session.expire_all()
    doc = db.session.execute(select(PersonnelDocument).where(PersonnelDocument.stored_name.is_not(None))).scalar_one()
    path = Path(app.config["UPLOAD_FOLDER"]) / doc.stored_name
    wid = world.wB.id
    # no deletion, by row or in bulk
    c.post("/admin/workers/delete/", data={"id": str(wid), "csrf_token": token(c)})
    c.post("/admin/workers/action/", data={"action": "delete", "rowid": str(wid), "csrf_token": token(c)})
    db.session.expire_all()
    assert db.session.get(Worker, wid) is not None and len(db.session.get(Worker, wid).employments) == 2
    listing = c.get("/admin/workers/").get_data(as_text=True)
    assert "/admin/workers/delete/" not in listing and "/admin/workers/end/" in listing
    # the bulk action and the row action lead to "end employment"
    resp = c.post("/admin/workers/action/", data={"action": "end_employment", "rowid": str(wid),
                                                  "csrf_token": token(c)})
    assert resp.status_code == 302 and "/admin/workers/end/" in resp.headers["Location"]
    page = c.get(resp.headers["Location"])
    assert page.status_code == 200 and world.wB.surname in page.get_data(as_text=True)
    ground = f.ref(LabourCodeGround, "EMPLOYEE_INITIATIVE")
    resp = c.post("/admin/workers/end/", data={"ids": str(wid), "end_date": today.isoformat(),
                                               "end_ground": str(ground.id), "end_category": "leaves_sector",
                                               "csrf_token": token(c)})
    assert resp.status_code == 302
    db.session.expire_all()
    episodes = {e.organization_id: e for e in db.session.execute(
        select(Employment).where(Employment.worker_id == wid)).scalars()}
    assert episodes[world.orgA.id].end_date == today and episodes[world.orgA.id].end_ground_id == ground.id
    assert episodes[world.orgA.id].end_category == "leaves_sector"
    assert episodes[world.orgB.id].end_date is None  # the other organization's episode is untouched
    assert db.session.get(Worker, wid).certificates and path.exists()
    # an episode or a document of another organization is not reachable at all
    other = episodes[world.orgB.id]
    assert c.post("/admin/employment/delete/", data={"id": str(other.id), "csrf_token": token(c)}).status_code in (302, 404)
    db.session.expire_all()
    assert db.session.get(Employment, other.id) is not None


def test_the_ministry_annuls_a_record_entered_by_mistake_and_restores_it(world, make_client):
    from profreg.workers.models import Employment, Worker

    db = world.db
    ministry = make_client(world.users["ministry"])
    hr = make_client(world.users["hr_chief"])
    wid = world.wA.id
    assert hr.get(f"/admin/workers/annul/?id={wid}").status_code == 403
    page = ministry.get(f"/admin/workers/annul/?id={wid}")
    assert page.status_code == 200
    refused = ministry.post(f"/admin/workers/annul/?id={wid}", data={"reason": "", "csrf_token": token(ministry)})
    assert refused.status_code == 200 and db.session.get(Worker, wid).annulled_at is None
    done = ministry.post(f"/admin/workers/annul/?id={wid}", data={"reason": "Ошибочно зарегистрирован",
                                                                   "csrf_token": token(ministry)})
    assert done.status_code == 302
    db.session.expire_all()
    worker = db.session.get(Worker, wid)
    assert worker.annulled_at is not None and all(e.annulled_at is not None for e in worker.employments)
    assert all(c.annulled_at is not None for c in worker.certificates)
    # out of every list: the hr's (no current episode), the ministry's, the records' lists
    assert f"/admin/workers/details/?id={wid}" not in hr.get("/admin/workers/").get_data(as_text=True)
    assert f"/admin/workers/details/?id={wid}" not in ministry.get("/admin/workers/").get_data(as_text=True)
    assert f"id={wid}" in ministry.get("/admin/workers/annulled/").get_data(as_text=True)
    assert db.session.execute(select(Employment).where(Employment.worker_id == wid,
                                                       Employment.current_on(clock.today()))).first() is None
    restored = ministry.post(f"/admin/workers/annul/?id={wid}", data={"reason": "Проверено: верно",
                                                                       "csrf_token": token(ministry)})
    assert restored.status_code == 302
    db.session.expire_all()
    worker = db.session.get(Worker, wid)
    assert worker.annulled_at is None and all(e.annulled_at is None for e in worker.employments)
    assert all(c.in_force for c in worker.certificates)
    assert f"/admin/workers/details/?id={wid}" in hr.get("/admin/workers/").get_data(as_text=True)
    reasons = {e.detail for e in _entries(db, table_name="worker", record_id=wid, action="update")}
    assert {"Ошибочно зарегистрирован", "Проверено: верно"} <= reasons


def test_the_actors_head_sees_what_his_staff_did_to_another_organizations_data(world, make_client, today):
    """An entry is filed under the owner's organization and the actor's: A's head sees A's hr_chief
    ending an episode of a worker who then belongs to B only."""
    from profreg.reference.models import LabourCodeGround

    db, f = world.db, world.factory
    f.employment(world.wB, world.orgA, hire=today.replace(year=today.year - 1))
    db.session.commit()
    c = make_client(world.users["hr_chief"])
    ground = f.ref(LabourCodeGround, "EMPLOYEE_INITIATIVE")
    assert c.post("/admin/workers/end/", data={"ids": str(world.wB.id), "end_date": today.isoformat(),
                                               "end_ground": str(ground.id), "end_category": "in_sector",
                                               "csrf_token": token(c)}).status_code == 302
    entry = _entries(db, action="update", table_name="employment", worker_id=world.wB.id)[-1]
    assert entry.actor_organization_id == world.orgA.id and entry.user_id == world.users["hr_chief"].id
    head = make_client(world.users["org_head"])
    html = head.get("/admin/audit/?page_size=100").get_data(as_text=True)
    assert f"/admin/audit/details/?id={entry.id}" in html


def test_the_audit_list_and_the_worker_history_show_no_internal_names_hashes_or_ids(world, make_client, today):
    """Issue 15: a worker edited, a document uploaded and a certificate corrected; the audit list (as
    ministry) and the worker's history (as hr_chief) name fields by their labels and rows by their names."""
    from profreg.certificates.models import Certificate
    from profreg.workers.records import correct

    hr = make_client(world.users["hr"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    data = MultiDict(parse_form(hr.get(url).get_data(as_text=True)).data)
    data["surname"] = "Қасымова-Ахметова"
    assert hr.post(url, data=data).status_code == 302
    assert _upload(hr, world, PDF, "приказ.pdf").status_code == 302
    cert = world.db.session.execute(select(Certificate).where(Certificate.worker_id == world.wA.id)).scalars().first()
    correct(cert, {"issuer": "НЦНЭ МЗ РК"}, "Орган выдачи указан неточно", world.users["region"])
    world.db.session.commit()
    doc = world.db.session.execute(select(PersonnelDocument).where(PersonnelDocument.original_name == "приказ.pdf")
                                   ).scalar_one()
    internal = re.compile(r"\b[a-z]+_[a-z_]+\b")  # snake_case column names: surname_key, stored_name, ...
    for client, path in ((make_client(world.users["ministry"]), f"/admin/audit/?lang=en&search={world.wA.iin}"),
                         (make_client(world.users["hr_chief"]), f"/admin/workers/details/?id={world.wA.id}&lang=en&tab=history")):
        html = client.get(path).get_data(as_text=True)
        # visible text: without scripts, styles and Flask-Admin's hidden filter definitions (JSON)
        text = re.sub(r"<script.*?</script>|<style.*?</style>|<div id=\"(?:filter-groups|active-filters)-data\"[^>]*>.*?</div>"
                      r"|<[^>]+>", " ", html, flags=re.S)
        body = text[text.index("Audit trail" if "audit" in path else "History of changes"):]
        assert "Қасымова-Ахметова" in body, path
        found = sorted({m for m in internal.findall(body)} - {"csrf_token"})
        assert not found, (path, found)
        assert doc.sha256 not in body and doc.stored_name not in body, path
        assert not re.search(r"(?:→|:)\s*\d{1,6}\s*(?:<|$|\n)", body), path  # no bare ids as values
