"""CPD records in the panel; the advanced-training lists and the CPD assessment are custom views
(``views.py``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from ..admin.filters import ReferenceFilter, date_range
from ..admin.record_actions import RecordActionsMixin
from ..admin.worker_records import WorkerSearchMixin, worker_inline, worker_record_attrs, worker_section
from ..reference.models import Specialty, TrainingActivityType
from .models import CpdRecord
from .views import register as register_training_views

COLUMNS = ("activity_type", "specialty", "provider", "topic", "start_date", "end_date", "hours", "credits",
           "certificate_number")
LABELS = {"activity_type": _l("Activity type"), "specialty": _l("Specialty"), "provider": _l("Provider"),
          "topic": _l("Topic"), "start_date": _l("Start date"), "end_date": _l("End date"), "hours": _l("Hours"),
          "credits": _l("Credits"), "certificate_number": _l("Certificate number")}

worker_section("cpd", _l("Professional development"), CpdRecord, "end_date", "training/_section_cpd.html",
               position=50)
worker_inline(CpdRecord, COLUMNS, LABELS, position=30)


class CpdView(WorkerSearchMixin, RecordActionsMixin, ScopedModelView):
    locals().update(worker_record_attrs(("worker", *COLUMNS), LABELS))
    column_default_sort = ("end_date", True)
    column_filters = [ReferenceFilter(CpdRecord.activity_type_id, _l("Activity type"), TrainingActivityType),
                      ReferenceFilter(CpdRecord.specialty_id, _l("Specialty"), Specialty),
                      *date_range(CpdRecord.end_date, _l("End date"))]


def register_views(admin):
    admin.add_view(CpdView(CpdRecord, name=_l("Professional development"), endpoint="cpd",
                           category=_l("Education and qualification")))
    register_training_views(admin)  # training lists, CPD assessment
