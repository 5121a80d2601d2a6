"""The audit view: read-only, scoped (hr_chief / org_head → organization, region → region, ministry → all)."""
from __future__ import annotations

import json

from flask import g
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, or_, select

from ..admin.base import ReadOnlyModelView
from ..admin.filters import ChoiceFilter, ClauseFilter, date_range, sorted_options
from ..admin.record_actions import ACTION_LABELS, describe_changes, detail_label, table_labels
from ..admin.worker_records import WorkerSearchMixin
from ..auth.models import User
from ..extensions import db
from ..workers.models import Worker
from .models import AuditLog

ACTIONS = ACTION_LABELS


def _by_user(value, _today):
    """Entries of the users whose e-mail or name contains ``value`` (a text filter: the options would
    list other organizations' users). Applied to the scoped audit query (``ix_audit_user_action_at``)."""
    term = value.strip().casefold()
    if not term:
        return None
    pattern = f"%{term}%"
    users = select(User.id).where(or_(func.lower(User.email).like(pattern), func.lower(User.full_name).like(pattern)))
    return AuditLog.user_id.in_(users)


def _changes(view, context, model, name):
    """The entry's changes as a reader sees them: field labels, names of related rows, old → new;
    technical columns (keys, hashes, internal ids) summed up as "Other data" (``describe_changes``)."""
    rows = g.get("profreg_audit_changes", {}).get(model.id)
    if rows is None:
        rows = describe_changes([model]).get(model.id, [])
    return Markup("").join(Markup("<div>{}: {} → {}</div>").format(label, old or "—", new or "—")
                           if (old or new) else Markup("<div>{}</div>").format(label) for label, old, new in rows)


def _worker(view, context, model, name):
    return g.get("profreg_audit_workers", {}).get(model.worker_id, "")


def _table(view, context, model, name):
    return table_labels().get(model.table_name, model.table_name)


class AuditLogView(WorkerSearchMixin, ReadOnlyModelView):
    # no internal names or ids on the page: the list names the table's list, the worker and the fields
    column_list = ("at", "user", "action", "table_name", "worker_id", "changes", "detail")
    column_details_list = ("at", "user", "action", "table_name", "record_id", "worker_id", "organization_id",
                           "region_id", "changes", "detail")
    column_export_list = column_details_list
    column_labels = {"at": _l("When"), "user": _l("Who"), "action": _l("Action"), "table_name": _l("Table"),
                     "record_id": _l("Record"), "worker_id": _l("Worker"), "changes": _l("Old → new"),
                     "detail": _l("Details"), "organization_id": _l("Organization"), "region_id": _l("Region")}
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_filters = (ClauseFilter(AuditLog.user_id, _l("Who (e-mail or name)"), _by_user, op=_l("contains")),
                      ChoiceFilter(AuditLog.action, _l("Action"), list(ACTIONS.items())),
                      ClauseFilter(AuditLog.table_name, _l("Record type"), lambda v, _t: AuditLog.table_name == v,
                                   options=lambda: sorted_options(table_labels().items())),
                      *date_range(AuditLog.at, _l("When")))
    column_formatters = {"changes": _changes, "worker_id": _worker, "table_name": _table,
                         "action": lambda v, c, m, n: ACTIONS.get(m.action, m.action),
                         "detail": lambda v, c, m, n: detail_label(m.detail, m.action),
                         "user": lambda v, c, m, n: m.user.email if m.user else _l("system")}
    column_formatters_export = {"changes": lambda v, c, m, n: json.dumps(m.changes or {}, ensure_ascii=False),
                                "user": lambda v, c, m, n: m.user.email if m.user else "system"}
    simple_list_pager = True

    def list_rows(self, data, list_columns, keep_models=False):
        # the page's workers and changes in a few queries, not one per row
        ids = {m.worker_id for m in data if m.worker_id is not None}
        g.profreg_audit_workers = dict(db.session.execute(
            select(Worker.id, Worker.surname + " " + Worker.name).where(Worker.id.in_(ids))).all()) if ids else {}
        g.profreg_audit_changes = describe_changes(data)
        return super().list_rows(data, list_columns, keep_models)


def register_views(admin):
    admin.add_view(AuditLogView(AuditLog, name=_l("Audit trail"), endpoint="audit", category=_l("Administration")))
