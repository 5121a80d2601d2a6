"""Panel view of the working-day overrides (government transfer decrees), edited by the ministry
(resource ``calendar`` in profreg/access.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from .models import WorkingDayOverride


class WorkingDayOverrideView(ScopedModelView):
    """Transferred days off and working weekend days (government decrees), edited by the ministry."""

    column_list = ("day", "is_working", "note")
    column_details_list = ("day", "is_working", "note")
    column_export_list = ("day", "is_working", "note")
    form_columns = ("day", "is_working", "note")
    column_default_sort = ("day", True)
    column_labels = {"day": _l("Date"), "is_working": _l("Working day"), "note": _l("Note")}
    column_descriptions = {"is_working": _l("Ticked: a weekend day worked in exchange; unticked: a day off.")}


def register_views(admin):
    admin.add_view(WorkingDayOverrideView(WorkingDayOverride, name=_l("Working-day calendar"),
                                          endpoint="working_days", category=_l("Reference data")))
