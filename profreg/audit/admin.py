"""The audit view: read-only, scoped (hr_chief / org_head → organization, region → region, ministry → all)."""
from __future__ import annotations

import json

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..admin.base import ReadOnlyModelView
from ..admin.worker_records import WorkerSearchMixin
from .models import AuditLog

ACTIONS = {"create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "view": _l("Viewed"),
           "export": _l("Exported"), "download": _l("Downloaded"), "block": _l("Blocked"),
           "unblock": _l("Unblocked"), "confirm": _l("Confirmed as current"),
           "hire_lookup": _l("Searched for a registered worker")}


def _changes(view, context, model, name):
    if not model.changes:
        return ""
    rows = Markup("").join(
        Markup("<div><code>{}</code>: {} → {}</div>").format(k, json.dumps(v[0], ensure_ascii=False),
                                                            json.dumps(v[1], ensure_ascii=False))
        for k, v in model.changes.items() if isinstance(v, (list, tuple)) and len(v) == 2)
    return rows or escape(json.dumps(model.changes, ensure_ascii=False))


class AuditLogView(WorkerSearchMixin, ReadOnlyModelView):
    column_list = ("at", "user", "action", "table_name", "record_id", "worker_id", "changes", "detail")
    column_details_list = ("at", "user", "action", "table_name", "record_id", "worker_id", "organization_id",
                           "region_id", "changes", "detail")
    column_export_list = column_details_list
    column_labels = {"at": _l("When"), "user": _l("Who"), "action": _l("Action"), "table_name": _l("Table"),
                     "record_id": _l("Record"), "worker_id": _l("Worker"), "changes": _l("Old → new"),
                     "detail": _l("Details"), "organization_id": _l("Organization"), "region_id": _l("Region")}
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_filters = (FilterEqual(AuditLog.worker_id, _l("Worker")),
                      FilterEqual(AuditLog.action, _l("Action"), options=list(ACTIONS.items())),
                      FilterEqual(AuditLog.table_name, _l("Table")))
    column_formatters = {"changes": _changes,
                         "action": lambda v, c, m, n: ACTIONS.get(m.action, m.action),
                         "user": lambda v, c, m, n: m.user.email if m.user else _l("system")}
    column_formatters_export = {"changes": lambda v, c, m, n: json.dumps(m.changes or {}, ensure_ascii=False),
                                "user": lambda v, c, m, n: m.user.email if m.user else "system"}
    simple_list_pager = True


def register_views(admin):
    admin.add_view(AuditLogView(AuditLog, name=_l("Audit trail"), endpoint="audit", category=_l("Administration")))
