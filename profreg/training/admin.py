from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from ..education.admin import worker_record_attrs
from .models import CpdRecord

_COLS = ("worker", "activity_type", "specialty", "provider", "topic", "start_date", "end_date", "hours", "credits",
         "certificate_number")


class CpdView(ScopedModelView):
    locals().update(worker_record_attrs(_COLS))
    column_labels = {"worker": _l("Worker"), "activity_type": _l("Activity type"), "specialty": _l("Specialty"),
                     "provider": _l("Provider"), "topic": _l("Topic"), "start_date": _l("Start date"),
                     "end_date": _l("End date"), "hours": _l("Hours"), "credits": _l("Credits"),
                     "certificate_number": _l("Certificate number"), "worker.iin": _l("IIN"),
                     "worker.status": _l("Status")}
    column_default_sort = ("end_date", True)


def register_views(admin):
    admin.add_view(CpdView(CpdRecord, name=_l("Professional development"), endpoint="cpd",
                           category=_l("Education and qualification")))
    from .views import register as register_training_views  # issue 6: training lists, CPD assessment

    register_training_views(admin)
