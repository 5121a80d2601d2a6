"""Personnel documents: upload (type checked from content), download only within the user's scope."""
from __future__ import annotations

from flask import abort, send_file, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import FileField

from ..admin.base import ScopedModelView
from ..admin.filters import ReferenceFilter, date_range
from ..admin.record_actions import RecordActionsMixin
from ..admin.worker_records import WorkerSearchMixin, worker_record_attrs, worker_section
from ..audit.services import log_read
from ..errors import InvalidInput
from ..reference.models import PersonnelDocumentType
from .models import PersonnelDocument
from .services import attach_file, download_name, file_path, set_organization

_COLS = ("worker", "doc_type", "number", "doc_date")

worker_section("documents", _l("Personnel documents"), PersonnelDocument, "doc_date", "documents/_section.html",
               position=60)


def _download_link(view, context, model, name):
    if not model.stored_name:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for(".download", id=model.id), model.original_name or "⇩")


class PersonnelDocumentView(WorkerSearchMixin, RecordActionsMixin, ScopedModelView):
    locals().update(worker_record_attrs(_COLS))
    column_list = ("worker", "worker.iin", "doc_type", "number", "doc_date", "original_name", "size", "uploaded_at")
    column_details_list = column_list + ("content_type", "sha256")
    column_export_list = ("worker", "worker.iin", "doc_type", "number", "doc_date", "original_name", "size",
                          "sha256", "uploaded_at")
    column_labels = {"worker": _l("Worker"), "worker.iin": _l("IIN"), "doc_type": _l("Document type"),
                     "number": _l("Number"), "doc_date": _l("Date"), "original_name": _l("File"),
                     "size": _l("Size, bytes"), "uploaded_at": _l("Uploaded at"), "content_type": _l("File type"),
                     "sha256": "SHA-256", "file": _l("File (PDF, PNG or JPEG)")}
    form_columns = ("worker", "doc_type", "number", "doc_date", "file")
    column_filters = [ReferenceFilter(PersonnelDocument.doc_type_id, _l("Document type"), PersonnelDocumentType),
                      *date_range(PersonnelDocument.doc_date, _l("Date"))]
    form_extra_fields = {"file": FileField(_l("File (PDF, PNG or JPEG)"))}
    column_formatters = {**worker_record_attrs(_COLS)["column_formatters"], "original_name": _download_link}

    def on_model_change(self, form, model, is_created):
        storage = form.file.data
        if storage is not None and getattr(storage, "filename", None):
            attach_file(model, storage, uploaded_by=current_user)
        elif is_created:
            raise InvalidInput({"file": _l("Choose a file to upload.")})
        if is_created or model.organization_id is None:
            set_organization(model, current_user)
        super().on_model_change(form, model, is_created)


    @expose("/download/<int:id>")
    def download(self, id):
        doc = self.get_one(id)  # 404 outside the user's scope
        path = file_path(doc)
        if path is None:
            abort(404)
        log_read("download", doc, current_user, detail=doc.original_name)  # committed with the request
        return send_file(path, mimetype=doc.content_type, as_attachment=True,  # never rendered inline
                         download_name=download_name(doc))


def register_views(admin):
    admin.add_view(PersonnelDocumentView(PersonnelDocument, name=_l("Personnel documents"), endpoint="documents",
                                         category=_l("Register")))
