from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from .models import Certificate


class CertificateView(ScopedModelView):
    column_list = ("worker", "number", "specialty", "issuer", "issue_date", "valid_until")
    column_details_list = column_list
    column_export_list = column_list
    column_labels = {"worker": _l("Worker"), "number": _l("Certificate number"), "specialty": _l("Specialty"),
                     "issuer": _l("Issued by"), "issue_date": _l("Date of issue"), "valid_until": _l("Valid until")}
    column_searchable_list = ("number",)
    column_default_sort = ("valid_until", True)
    form_columns = ("worker", "number", "specialty", "issuer", "issue_date", "valid_until")


def register_views(admin):
    admin.add_view(CertificateView(Certificate, name=_l("Certificates"), endpoint="certificates",
                                   category=_l("Register")))
