from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from ..education.admin import worker_record_attrs
from .models import Certificate

_COLS = ("worker", "number", "specialty", "issuer", "issue_date", "valid_until")


class CertificateView(ScopedModelView):
    locals().update(worker_record_attrs(_COLS))
    column_labels = {"worker": _l("Worker"), "number": _l("Certificate number"), "specialty": _l("Specialty"),
                     "issuer": _l("Issued by"), "issue_date": _l("Date of issue"), "valid_until": _l("Valid until"),
                     "worker.iin": _l("IIN"), "worker.status": _l("Status")}
    column_searchable_list = ("number",)
    column_default_sort = ("valid_until", True)


def register_views(admin):
    admin.add_view(CertificateView(Certificate, name=_l("Certificates"), endpoint="certificates",
                                   category=_l("Register")))
