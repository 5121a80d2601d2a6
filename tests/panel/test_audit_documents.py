"""Audit trail (changes with old → new, reads, exports, inline deletions, scoped view) and personnel
documents (content-checked uploads, size limit, scoped download)."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg.audit.models import AuditLog
from profreg.documents.models import PersonnelDocument
from profreg.reference.models import PersonnelDocumentType
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


def test_create_and_delete_are_audited_outside_requests_too(world, today):
    """The listener sees the CLI and jobs (no user: system)."""
    db, f = world.db, world.factory
    cert = f.certificate(world.wB, valid_until=today.replace(year=today.year + 2))
    db.session.commit()
    created = _entries(db, action="create", table_name="certificate", record_id=cert.id)
    assert len(created) == 1 and created[0].user_id is None and created[0].worker_id == world.wB.id
    assert created[0].organization_id == world.orgB.id and created[0].changes["number"][1] == cert.number
    cid = cert.id
    db.session.delete(cert)
    db.session.commit()
    deleted = _entries(db, action="delete", table_name="certificate", record_id=cid)
    assert len(deleted) == 1 and deleted[0].changes["number"][0] is not None


def test_inline_deleted_row_is_audited(world, make_client):
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
    assert resp.status_code == 302
    entries = _entries(db, action="delete", table_name="cpd_record", record_id=cpd_id)
    assert len(entries) == 1 and entries[0].user_id == world.users["hr_chief"].id


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

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
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


def test_deleting_a_worker_audits_every_record_and_removes_his_files(world, make_client, app):
    db = world.db
    c = make_client(world.users["hr_chief"])
    assert _upload(c, world, PDF, "order.pdf").status_code == 302
    db.session.expire_all()
    doc = db.session.execute(select(PersonnelDocument).where(PersonnelDocument.stored_name.is_not(None))).scalar_one()
    path = Path(app.config["UPLOAD_FOLDER"]) / doc.stored_name
    assert path.exists()
    wid = world.wA.id
    resp = c.post("/admin/workers/delete/", data={"id": str(wid), "csrf_token": token(c)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(world.wA), wid) is None and not path.exists()
    tables = {e.table_name for e in _entries(db, action="delete", worker_id=wid)}
    assert {"worker", "employment", "certificate", "cpd_record", "education_document",
            "personnel_document"} <= tables
