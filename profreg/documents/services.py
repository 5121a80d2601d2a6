"""Personnel documents (rule 14.6): the file's type is taken from its content (magic bytes), never
from its name; files are stored under UPLOAD_FOLDER with a random name and their SHA-256."""
from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import event, select

from .. import access, clock
from ..errors import InvalidInput
from ..extensions import db
from ..uow import after_commit
from .models import PersonnelDocument

# magic bytes → (content type, stored extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def sniff(head: bytes):
    """(content type, extension) for an accepted file, None for anything else (executables, ...)."""
    for magic, ctype, ext in SIGNATURES:
        if head.startswith(magic):
            return ctype, ext
    return None


def whole_file_ok(data: bytes, ctype: str) -> bool:
    """Is the file, as a whole, what its first bytes claim (issue 18: ``%PDF-`` followed by HTML was
    stored)? A PDF must parse with pypdf (its cross-reference table and trailer, every page);
    a PNG or JPEG must decode completely with Pillow, in the format its signature names (a
    decompression bomb is refused too). pypdf reads leniently (``strict=False``: scanners write small
    errors), but a file without a readable cross-reference, trailer and pages fails."""
    try:
        if ctype == "application/pdf":
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted or len(reader.pages) < 1:
                return False
            for page in reader.pages:
                page.mediabox  # noqa: B018 - reads the page object
            return True
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                expected = {"image/png": "PNG", "image/jpeg": "JPEG"}[ctype]
                if img.format != expected:
                    return False
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()  # verify() checks the structure; load() decodes every pixel
        return True
    except Exception:  # noqa: BLE001 - any parser error means "not a readable file of that type"
        return False


def download_name(doc) -> str:
    """The name a download is saved under: the original name with the stored type's extension (never
    ``.html`` or ``.svg``, whatever the uploader called the file)."""
    ext = next((e for _m, c, e in SIGNATURES if c == doc.content_type), "")
    return _safe_original(doc.original_name or "", ext)


def upload_folder() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def attach_file(doc, storage, *, uploaded_by=None) -> None:
    """Check and store an uploaded file for ``doc`` (flushes nothing, writes the file).

    Refused with ``InvalidInput``: empty files, files over MAX_UPLOAD_BYTES, and any content that
    is not PDF, PNG or JPEG (an executable renamed ``.pdf`` is refused).
    """
    limit = int(current_app.config.get("MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    data = storage.stream.read(limit + 1)
    if not data:
        raise InvalidInput({"file": _l("The file is empty.")})
    if len(data) > limit:
        raise InvalidInput({"file": _l("The file is too large (at most %(mb)s MB).",
                                          mb=round(limit / 1024 / 1024, 1))})
    kind = sniff(data[:16])
    if kind is None:
        raise InvalidInput({"file": _l("Only PDF, PNG and JPEG files are accepted.")})
    ctype, ext = kind
    if not whole_file_ok(data, ctype):
        raise InvalidInput({"file": _l("The file is not a readable PDF, PNG or JPEG document (it may be "
                                          "damaged or of another type). Save it again as PDF and upload it.")})
    stored = secrets.token_hex(16) + ext
    (upload_folder() / stored).write_bytes(data)
    old = doc.stored_name
    doc.stored_name = stored
    doc.original_name = _safe_original(storage.filename or "", ext)
    doc.content_type = ctype
    doc.size = len(data)
    doc.sha256 = hashlib.sha256(data).hexdigest()
    if uploaded_by is not None:
        doc.uploaded_by_id = uploaded_by.id
    if old and not _file_shared(old, doc.id):
        after_commit(lambda: remove_file(old))  # the replaced file goes once the change is committed


def _safe_original(name: str, ext: str) -> str:
    """The file name without its folders, with the stored type's extension instead of its own."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    stem = name.rsplit(".", 1)[0].strip() if "." in name.lstrip(".") else name.strip(".").strip()
    return f"{stem or 'document'}{ext}"


def remove_file(stored_name: str | None) -> None:
    if stored_name and "/" not in stored_name and "\\" not in stored_name:
        path = upload_folder() / stored_name
        if path.is_file():
            path.unlink()


@event.listens_for(PersonnelDocument, "after_delete")
def _remove_file_once_committed(_mapper, _connection, doc) -> None:
    """A deleted document's file goes once the deletion is committed, whichever path deleted it (its
    view, a bulk delete, the deletion of the worker); never before, not at all on a rollback, and not
    while another version of the document still refers to it."""
    name = doc.stored_name
    if name and not _file_shared(name, doc.id, _connection):
        after_commit(lambda: remove_file(name))


def _file_shared(stored_name: str, doc_id, connection=None) -> bool:
    """Does another document row (another version: a correction refers to the same stored file; an
    annulled or superseded version keeps it) still refer to this file? Then the file stays."""
    q = select(PersonnelDocument.id).where(PersonnelDocument.stored_name == stored_name)
    if doc_id is not None:
        q = q.where(PersonnelDocument.id != doc_id)
    runner = connection if connection is not None else db.session
    return runner.execute(q.limit(1)).first() is not None


def file_path(doc) -> Path | None:
    if not doc.stored_name or "/" in doc.stored_name or "\\" in doc.stored_name:
        return None
    path = upload_folder() / doc.stored_name
    return path if path.is_file() else None


def set_organization(doc, actor) -> None:
    """The document belongs to the actor's organization (org roles) or the worker's current one."""
    if getattr(actor, "role", None) in access.ORG_ROLES:
        doc.organization_id = actor.organization_id
        return
    if doc.worker is not None:
        today = clock.today()
        current = [e for e in doc.worker.employments if e.current_on(today)]
        if current:
            doc.organization_id = current[0].organization_id
