"""Issue 18, item 7: uploads are validated as whole files (a PDF parsed by pypdf, an image decoded by
Pillow), served with the stored type as an attachment whose name carries the stored type's extension
(never ``.html``), and every request body is capped (``MAX_CONTENT_LENGTH``: 413 before it is read)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from profreg.documents.models import PersonnelDocument
from profreg.reference.models import PersonnelDocumentType
from tests.conftest import real_pdf, real_png
from tests.panel.conftest import token

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _upload(client, world, content, filename, number="П-18"):
    doc_type = world.factory.ref(PersonnelDocumentType, "HIRE_ORDER")
    return client.post("/admin/documents/new/", content_type="multipart/form-data", data={
        "csrf_token": token(client), "worker": str(world.wA.id), "doc_type": str(doc_type.id), "number": number,
        "doc_date": "2026-11-20", "file": (io.BytesIO(content), filename)})


def _docs(db, number="П-18"):
    db.session.expire_all()
    return db.session.execute(select(PersonnelDocument).where(PersonnelDocument.number == number)).scalars().all()


@pytest.mark.parametrize("content,name", [
    (b"%PDF-1.4\n" + HTML, "report.html"),
    (b"%PDF-1.7\n%%EOF\n" + HTML, "scan.pdf"),
    (b"\x89PNG\r\n\x1a\n" + HTML, "photo.png"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "zeros.png"),
    (b"\xff\xd8\xff\xe0" + HTML, "photo.jpg"),
    (real_png()[:40], "truncated.png"),
    (real_pdf()[:60], "truncated.pdf"),
])
def test_a_file_that_only_starts_like_a_pdf_or_image_is_refused(world, make_client, content, name):
    c = make_client(world.users["hr"])
    resp = _upload(c, world, content, name)
    assert resp.status_code == 200 and "not a readable" in resp.get_data(as_text=True)
    assert _docs(world.db) == []


@pytest.mark.parametrize("content,ctype,name,expected", [
    (real_pdf(), "application/pdf", "приказ.html", "приказ.pdf"),
    (real_png(), "image/png", "scan.svg", "scan.png"),
    (real_png(fmt="JPEG"), "image/jpeg", "photo", "photo.jpg"),
])
def test_whole_files_are_stored_and_served_as_attachments_of_their_type(world, make_client, content, ctype, name,
                                                                        expected):
    c = make_client(world.users["hr"])
    resp = _upload(c, world, content, name)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    (doc,) = _docs(world.db)
    assert doc.content_type == ctype and doc.original_name == expected
    r = c.get(f"/admin/documents/download/{doc.id}")
    assert r.status_code == 200 and r.data == content and r.mimetype == ctype
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and ".html" not in disposition and ".svg" not in disposition
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in r.headers["Cache-Control"]


def test_a_stored_html_name_is_never_served_as_html(world, make_client, app):
    """A document stored before the fix with an .html name still downloads with its stored type's extension."""
    c = make_client(world.users["hr"])
    assert _upload(c, world, real_pdf(), "order.pdf").status_code == 302
    (doc,) = _docs(world.db)
    from sqlalchemy import update

    world.db.session.execute(update(PersonnelDocument).where(PersonnelDocument.id == doc.id)
                             .values(original_name="evil.html"))  # a saved record is immutable in the ORM
    world.db.session.commit()
    r = c.get(f"/admin/documents/download/{doc.id}")
    assert r.mimetype == "application/pdf" and 'filename=evil.pdf' in r.headers["Content-Disposition"]


def test_every_request_body_is_capped(world, make_client, app):
    c = make_client(world.users["hr"])
    cap = app.config["MAX_CONTENT_LENGTH"]
    assert cap and cap <= app.config["MAX_UPLOAD_BYTES"] + 2 * 1024 * 1024
    resp = _upload(c, world, b"%PDF-" + b"0" * cap, "big.pdf")
    assert resp.status_code == 413
    assert c.post("/login", data=b"x" * (cap + 1), content_type="application/x-www-form-urlencoded").status_code == 413
    assert _docs(world.db) == []
