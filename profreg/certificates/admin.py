"""Specialist certificates in the panel: the certificates list and the worker page's certificates."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from ..admin.base import ScopedModelView
from ..admin.filters import ClauseFilter, ReferenceFilter, date_range
from ..admin.record_actions import RecordActionsMixin
from ..admin.worker_records import (
    WorkerSearchMixin,
    prefill,
    worker_inline,
    worker_record_attrs,
    worker_section,
)
from ..reference.models import Specialty
from . import corrections  # noqa: F401  (the rule of certificate corrections)
from .models import Certificate, warning_months

COLUMNS = ("number", "specialty", "issuer", "issue_date", "valid_until")
LABELS = {"number": _l("Certificate number"), "specialty": _l("Specialty"), "issuer": _l("Issued by"),
          "issue_date": _l("Date of issue"), "valid_until": _l("Valid until")}

worker_section("certificates", _l("Specialist certificates"), Certificate, "issue_date", "certificates/_section.html",
               position=30, tab_label=_l("Certificates and admission"))
worker_inline(Certificate, COLUMNS, LABELS, position=20)


def _expiry_choices():
    """The expiry windows of the certificates list; "expiring" is the sweep's warning window
    (``CERT_WARNING_MONTHS``, ``Certificate.expiring_on``: no renewal on file)."""
    return [("expired", _l("Expired")),
            ("expiring", lazy_ngettext("Expiring within %(num)d month", "Expiring within %(num)d months",
                                       warning_months())),
            ("valid", _l("Valid today"))]


def expiry_clause(value, today):
    """SQL of an expiry window on ``today``: ranges on ``valid_until`` (ix_certificate_valid_until)."""
    if value == "expired":
        return Certificate.valid_until < today
    if value == "expiring":
        return Certificate.expiring_on(today)
    if value == "valid":
        return Certificate.valid_on(today)
    return None


def _day(value: str):
    return datetime.strptime(value, "%Y-%m-%d").date()


def certificate_filters() -> list:
    return [ReferenceFilter(Certificate.specialty_id, _l("Specialty"), Specialty),
            ClauseFilter(Certificate.valid_until, _l("Expiry"), expiry_clause,
                         options=lambda: [(k, str(v)) for k, v in _expiry_choices()]),
            ClauseFilter(Certificate.valid_until, _l("Valid on"), lambda day, _today: Certificate.valid_on(day),
                         data_type="datepicker", op=_l("date"), clean=_day),
            *date_range(Certificate.valid_until, _l("Valid until"))]


class CertificateView(WorkerSearchMixin, RecordActionsMixin, ScopedModelView):
    locals().update(worker_record_attrs(("worker", *COLUMNS), LABELS))
    column_default_sort = ("valid_until", True)
    column_filters = certificate_filters()

    def create_form(self, obj=None):
        """Opened from a worklist item (the reconciliation's "add the certificate"), the form starts with
        what the issuer's registry says; the worker comes through the scope (``WorkerSearchMixin``)."""
        form = super().create_form(obj)
        prefill(form, COLUMNS)
        return form


def register_views(admin):
    admin.add_view(CertificateView(Certificate, name=_l("Certificates"), endpoint="certificates",
                                   category=_l("Register")))
