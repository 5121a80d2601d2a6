"""Specialist certificates in the panel: the certificates list and the worker page's certificates."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from ..admin.record_actions import RecordActionsMixin
from ..admin.worker_records import WorkerSearchMixin, worker_inline, worker_record_attrs, worker_section
from . import corrections  # noqa: F401  (the rule of certificate corrections)
from .models import Certificate

COLUMNS = ("number", "specialty", "issuer", "issue_date", "valid_until")
LABELS = {"number": _l("Certificate number"), "specialty": _l("Specialty"), "issuer": _l("Issued by"),
          "issue_date": _l("Date of issue"), "valid_until": _l("Valid until")}

worker_section("certificates", _l("Specialist certificates"), Certificate, "issue_date", "certificates/_section.html",
               position=30, tab_label=_l("Certificates and admission"))
worker_inline(Certificate, COLUMNS, LABELS, position=20)


class CertificateView(WorkerSearchMixin, RecordActionsMixin, ScopedModelView):
    locals().update(worker_record_attrs(("worker", *COLUMNS), LABELS))
    column_default_sort = ("valid_until", True)


def register_views(admin):
    admin.add_view(CertificateView(Certificate, name=_l("Certificates"), endpoint="certificates",
                                   category=_l("Register")))
