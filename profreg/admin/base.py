"""The hardened base views every admin view derives from. Scoping comes from profreg/access.py.

Covers the FLASK-ADMIN.md pitfalls: scoped get_query / get_count_query / get_one (404 when out of
scope), per-request can_* from the role matrix, CSRF through FlaskForm, neutral integrity errors,
scoped relationship dropdowns and ajax loaders, no inline editing, no fast mass delete.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.form import rules
from flask_admin.model import template as row_action_types
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden, HTTPException

from .. import access
from ..audit.services import log_export, log_read
from ..errors import DomainError, NotAllowed, OutOfScope
from ..extensions import db
from ..i18n import type_formatters, type_formatters_detail
from ..uow import PanelSession, show_error

log = logging.getLogger(__name__)
PANEL_SESSION = PanelSession()


class PanelForm(FlaskForm):
    """FlaskForm (CSRF through Flask-WTF's CSRFProtect) that also remembers the edited object, as
    Flask-Admin's own BaseForm does: its ``Unique`` validator compares against ``form._obj``, and
    without it every edit of a row with a unique column (IIN, BIN, e-mail) fails "Already exists"."""

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


WORKER_DATA = ("worker", "worker_record", "employment", "personnel_document")


def request_memo(key, make):
    """``make()`` once per request: a list page asks the same question (may this user see IINs?
    which views may they open? how is "Active" said in their language?) for every row and menu
    item. Outside a request it is simply ``make()``."""
    if not has_request_context():
        return make()
    memo = g.setdefault("profreg_memo", {})
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _mask_iins() -> bool:
    return request_memo("mask_iin", lambda: access.mask_for(current_user))


def status_labels() -> tuple[str, str]:
    """(blocked, active) in the current language (one language per request)."""
    return request_memo("status_labels", lambda: (_("Blocked"), _("Active")))


def sex_label(sex: str | None) -> str:
    male, female = request_memo("sex_labels", lambda: (_("Male"), _("Female")))
    return male if sex == "M" else female


def iin_formatter(view, context, model, name):
    """IIN cell (``iin`` or ``worker.iin``): masked to the last 4 digits for associations."""
    obj = model.worker if name.startswith("worker.") else model
    iin = getattr(obj, "iin", None)
    return access.mask_iin(iin) if _mask_iins() else (iin or "")


def blocked_badge(view, context, model, name):
    """Status cell: a red badge for blocked workers (rule 14.5), plain text otherwise."""
    worker = model.worker if name.startswith("worker.") else model
    blocked, active = status_labels()
    if worker is not None and worker.status == "blocked":
        return Markup('<span class="badge badge-blocked">{}</span>').format(blocked)
    return active


def blocked_export(view, context, model, name):
    worker = model.worker if name.startswith("worker.") else model
    blocked, active = status_labels()
    return blocked if worker is not None and worker.status == "blocked" else active


class HiddenTag(rules.BaseRule):
    """Form rule rendering the hidden fields (CSRF token, lock version): a view with
    ``form_create_rules`` / ``form_edit_rules`` must list it, or its forms lose the CSRF token."""

    @property
    def visible_fields(self):
        return ["csrf_token", "lock_version"]

    def __call__(self, form, form_opts=None, field_args=None):
        return Markup(form.hidden_tag()) if hasattr(form, "hidden_tag") else ""


def _deny():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    abort(403)


class ProtectedMixin:
    """Signed-in users only; anonymous → login, signed-in without the right → 403."""

    #: MATRIX resource; None means any signed-in user.
    resource: str | None = None
    #: Roles allowed on a custom (non-model) view; None means decided by ``resource``.
    roles: tuple[str, ...] | None = None

    def is_accessible(self):
        # asked for every menu item on every page: once per view and request
        return request_memo(("accessible", id(self)),
                            lambda: self._accessible(request_memo("user", current_user._get_current_object)))

    def _accessible(self, user) -> bool:
        if not user.is_authenticated or not user.active:
            return False
        if self.roles is not None and user.role not in self.roles:
            return False
        if self.resource is not None:
            return access.can(user, self.resource, access.LIST) or access.can(user, self.resource, access.DETAILS)
        return True

    def inaccessible_callback(self, name, **kwargs):
        return _deny()


class ProtectedIndexView(ProtectedMixin, AdminIndexView):
    pass


class ProtectedBaseView(ProtectedMixin, BaseView):
    pass


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Ajax lookups (autocomplete) limited to the user's scope, for lookups and submitted ids alike."""

    def get_query(self):
        return access.options_scoped(super().get_query(), self.model, current_user)

    def get_one(self, pk):
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(getattr(self.model, self.pk) == pk).one_or_none()


_FILTERS = {"generation": 0, "lock": threading.Lock(), "building": threading.local()}


def invalidate_filter_options() -> None:
    """Reference data changed: every view rebuilds its filters (and their options) on next use."""
    _FILTERS["generation"] += 1


class _RowPlaceholder:
    """Stands for every row while a page's row actions are rendered once (see profreg/list.html):
    its primary key is a marker each row replaces with its own."""

    pk = "__profreg_row_pk__"

    def __getattr__(self, name):
        return self.pk


_ROW_PLACEHOLDER = _RowPlaceholder()
#: Row actions whose markup depends on the row id only (safe to render once with the placeholder).
_ID_ONLY_ROW_ACTIONS = (row_action_types.ViewRowAction, row_action_types.ViewPopupRowAction,
                        row_action_types.EditRowAction, row_action_types.EditPopupRowAction,
                        row_action_types.DeleteRowAction)


class ScopedModelView(ProtectedMixin, ModelView):
    """Base for every model view: everything goes through ``access``."""

    form_base_class = PanelForm
    list_template = "profreg/list.html"  # adds the "estimated count" label
    can_view_details = True  # static (cached at start-up); guarded by get_one
    column_display_pk = False
    page_size = 50
    can_set_page_size = True
    export_types = ["csv", "xlsx"]
    export_max_rows = 10_000  # big exports go through profreg.exports (streamed)
    column_editable_list: list = []
    fast_mass_delete = False
    details_modal = False
    # Dates and numbers in the user's locale (Babel); exports keep ISO values.
    column_type_formatters = type_formatters
    column_type_formatters_detail = type_formatters_detail

    def __init__(self, model, *args, **kwargs):
        if self.resource is None:
            self.resource = access.resource_of(model)
        # Flask-Admin's create/update/delete commit and roll back by themselves: through
        # ``PanelSession`` that is a flush and a discard, and the request commits once (profreg/uow.py).
        super().__init__(model, PANEL_SESSION, *args, **kwargs)

    def _accessible(self, user) -> bool:
        if not super()._accessible(user):
            return False
        # Associations read only the rule-4.5 records (certificates, CPD, education, categories).
        if user.role == "association" and self.resource == "worker_record":
            return self.model.__name__ in access.ASSOCIATION_MODELS
        return True

    # Filters. Their options (regions, specialties, positions) come from reference tables and their
    # labels from the catalog, so Flask-Admin's build-once-at-start-up cache is wrong for us, and
    # rebuilding them on every list page cost three queries and ~200 translations a page. They are
    # built per locale and kept for FILTER_OPTIONS_TTL seconds or until reference data changes
    # (``invalidate_filter_options``). Options must not depend on the user: they are shared.
    def _refresh_filters_cache(self):
        self.__dict__["_profreg_filter_states"] = {}

    def _filter_state(self) -> dict:
        key = str(get_locale() or "") if has_request_context() else ""
        now = time.monotonic()
        state = self.__dict__.setdefault("_profreg_filter_states", {}).get(key)
        if state is not None and state["generation"] == _FILTERS["generation"] and state["expires"] > now:
            return state
        if has_request_context():  # one build per request at most, even with a TTL of 0
            built = g.setdefault("profreg_filter_states", {})
            if (self.endpoint, key) in built:
                return built[(self.endpoint, key)]
        with _FILTERS["lock"]:
            state = {}
            _FILTERS["building"].view = (self, state)  # this thread's build, seen by the properties
            try:
                ModelView._refresh_filters_cache(self)  # assigns through the properties below
                state["groups"] = ModelView._get_filter_groups(self)  # labels translated once
            finally:
                _FILTERS["building"].view = None
            state["generation"] = _FILTERS["generation"]
            state["expires"] = now + (current_app.config.get("FILTER_OPTIONS_TTL", 60) if has_request_context() else 0)
            self._profreg_filter_states[key] = state
        if has_request_context():
            g.profreg_filter_states[(self.endpoint, key)] = state
        return state

    def _filter_attr(name):  # noqa: N805  (property factory, used in the class body only)
        def building(self):
            current = getattr(_FILTERS["building"], "view", None)
            return current[1] if current is not None and current[0] is self else None

        def get(self):
            state = building(self)
            return state.get(name) if state is not None else self._filter_state().get(name)

        def set_(self, value):
            state = building(self)
            if state is not None:
                state[name] = value

        return property(get, set_)

    _filters = _filter_attr("_filters")
    _filter_groups = _filter_attr("_filter_groups")
    _filter_args = _filter_attr("_filter_args")
    del _filter_attr

    def _get_filter_groups(self):
        return self._filter_state()["groups"]

    @expose("/details/")
    def details_view(self):
        response = super().details_view()
        obj_id = request.args.get("id")
        if obj_id and self.resource in WORKER_DATA and not hasattr(response, "status_code"):
            log_read("view", self.get_one(obj_id), current_user)  # committed with the request
        return response

    @expose("/export/<export_type>/")
    def export(self, export_type):
        response = super().export(export_type)
        if self.can_export and export_type in self.export_types:
            log_export(self.model, current_user, export_type, request.query_string.decode()[:200])
        return response

    # The list page formats each cell once here and renders row actions once per page; see
    # profreg/list.html.
    def render(self, template, **kwargs):
        if template == self.list_template and "data" in kwargs and "list_columns" in kwargs:
            per_row = not all(isinstance(a, _ID_ONLY_ROW_ACTIONS) for a in kwargs.get("list_row_actions") or ())
            kwargs["rows"] = self.list_rows(kwargs["data"], kwargs["list_columns"], keep_models=per_row)
            # The template's context lives on in reference cycles (Jinja macros imported "with
            # context") until a garbage collection: without the model objects in it, that garbage is
            # small and the collections that clear it are cheap.
            kwargs["data"] = kwargs["rows"]
            kwargs["row_placeholder"] = _ROW_PLACEHOLDER
            kwargs["row_actions_per_row"] = per_row
        return super().render(template, **kwargs)

    def list_rows(self, data, list_columns, keep_models=False):
        """(pk, model or None, the row's cells as HTML) per row: what ``get_list_value`` gives each cell (column
        formatter or field value, choices, type formatter), with the formatter of each column and
        value type looked up once per page instead of once per cell."""
        formatters, choices = self.column_formatters, self._column_choices_map
        type_formatters = list(self.column_type_formatters.items())
        by_type: dict = {}

        def type_formatter(value):
            cls = type(value)
            if cls not in by_type:
                by_type[cls] = next((f for t, f in type_formatters if isinstance(value, t)), None)
            return by_type[cls]

        def cell(model, name):
            fmt = formatters.get(name)
            value = fmt(self, None, model, name) if fmt is not None else self._get_field_value(model, name)
            if choices.get(name):
                return choices[name].get(value) or value
            tfmt = type_formatter(value)
            return tfmt(self, value, name) if tfmt is not None else value

        names = [c for c, _name in list_columns]
        opens = [f'<td class="col-{escape(c)}">' for c in names]
        get_pk = self.get_pk_value

        def cells(model):  # the row's <td>s, each value escaped unless it is Markup already
            return Markup("".join([o + str(escape(cell(model, c))) + "</td>" for o, c in zip(opens, names, strict=True)]))

        return [(get_pk(m), m if keep_models else None, cells(m)) for m in data]

    # Counting at national scale. Flask-Admin runs count(*) for the pager on every page; over the
    # whole register that is a full scan. Without search or filters: ministry (an unscoped list)
    # gets PostgreSQL's planner estimate (pg_class.reltuples), labelled "about"; the scoped roles
    # get an exact count from the narrowest index (``fast_count``). With search or filters the
    # exact scoped count runs as usual.
    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        fast = None
        if execute and not search and not filters:
            fast = self.fast_count()
        if fast is None:
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        g.profreg_count_estimated = fast[1]
        data = self.scope_page(page, sort_column, sort_desc, page_size)
        if data is not None:
            return fast[0], data
        g.profreg_count = fast
        try:
            _count, data = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        finally:
            g.pop("profreg_count", None)
        return fast[0], data

    #: Column (a sortable column's name) whose order ``access.scope_page`` serves from an index for the
    #: scoped roles; ``access.scope_page`` must order exactly as that column's sort field does.
    scope_page_column: str | None = None

    def scope_page(self, page, sort_column, sort_desc, page_size):
        """The rows of an unfiltered page in ``scope_page_column`` order from ``access.scope_page``
        (None: the usual query)."""
        if not self.scope_page_column:
            return None
        if sort_column is None:
            # the default order must be the column's own sort field (a column may sort by another
            # attribute: the surname by its sort key)
            field = self._sortable_columns.get(self.scope_page_column)
            default = next(iter(self._get_default_order() or ()), None)
            if default is None or field is None or default[0] is not field:
                return None
            sort_desc = default[2]
        elif sort_column != self.scope_page_column:
            return None
        size = self.page_size if page_size is None else page_size
        if not size:
            return None
        return access.scope_page(self.model, current_user, (page or 0) * size, size, sort_desc)

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """The chosen order, then the primary key: pages of rows with equal sort values (the many
        workers named Ахметова) neither repeat nor skip rows."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is None:
            default = next(iter(self._get_default_order() or ()), None)
            sort_desc = bool(default and default[2])
        pk = getattr(self.model, "id", None)
        if pk is not None:
            query = query.order_by(pk.desc() if sort_desc else pk)
        return query, joins

    def fast_count(self) -> tuple[int, bool] | None:
        """(count, estimated) for the unfiltered list, or None to let Flask-Admin count."""
        threshold = current_app.config.get("ESTIMATED_COUNT_THRESHOLD", 10_000)
        if db.engine.dialect.name != "postgresql" or not access.unrestricted(self.model, current_user):
            return access.fast_scope_count(self.model, current_user, estimate_above=threshold)
        table = self.model.__table__.name
        estimate = access.cached_estimate(("table_rows", table), lambda: db.session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}).scalar())
        if estimate is None or estimate < threshold:
            return None
        return int(estimate), True

    def get_count_query(self):
        if "profreg_count" in g:  # the count is already known (get_list): no count query at all
            return None
        return access.scoped(super().get_count_query(), self.model, current_user)

    # per-request permissions from the matrix
    def _allowed(self, action):
        return current_user.is_authenticated and access.can(current_user, self.resource, action)

    @property
    def can_create(self):
        return self._allowed(access.CREATE)

    @property
    def can_edit(self):
        return self._allowed(access.EDIT)

    @property
    def can_delete(self):
        return self._allowed(access.DELETE)

    @property
    def can_export(self):
        return self._allowed(access.EXPORT)

    #: Relationship naming the owning organization. For the organization roles it is removed from
    #: the create/edit forms and set from the actor (DESIGN rule 1), never taken from a POST.
    actor_organization_field: str | None = None

    def _org_from_actor(self) -> bool:
        return bool(self.actor_organization_field) and current_user.role in access.ORG_ROLES

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if self._org_from_actor() and hasattr(form, self.actor_organization_field):
            delattr(form, self.actor_organization_field)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if self._org_from_actor() and hasattr(form, self.actor_organization_field):
            delattr(form, self.actor_organization_field)
        return form

    def set_actor_organization(self, model, is_created):
        if is_created and self._org_from_actor():
            with db.session.no_autoflush:  # the new row is pending without its organization yet
                setattr(model, self.actor_organization_field, current_user.organization)

    # scoping of every read path
    def get_query(self):
        return access.scoped(super().get_query(), self.model, current_user)

    def get_one(self, id):
        try:
            pk = int(id)
        except (TypeError, ValueError):
            abort(404)
        obj = self.get_query().filter(self.model.id == pk).one_or_none()
        if obj is None:
            abort(404)
        return obj

    def _relationship_query_factory(self, remote_model):
        return lambda: access.options_scoped(db.session.query(remote_model), remote_model, current_user)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        # Every relationship dropdown lists only rows in the user's scope (pitfall 5).
        for name in dir(form_class):
            field = getattr(form_class, name, None)
            kwargs = getattr(field, "kwargs", None)
            if isinstance(kwargs, dict) and "query_factory" in kwargs:
                prop = getattr(self.model, name, None)
                remote = getattr(getattr(prop, "property", None), "mapper", None)
                if remote is not None:
                    kwargs["query_factory"] = self._relationship_query_factory(remote.class_)
        return form_class

    def ajax_update(self):  # no inline editing anywhere (pitfall 3)
        abort(403)

    # Our catalogs word these (Flask-Admin's shipped ru confirmation is garbled and cannot be overridden).
    @action("delete", _l("Delete"), _l("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        # Ids arrive as strings: PostgreSQL refuses "integer IN (varchar)"; drop anything non-numeric.
        clean = [int(i) for i in ids if str(i).isdigit()]
        return super().action_delete(clean)

    def is_action_allowed(self, name):
        if name == "delete" and not self.can_delete:
            return False
        return super().is_action_allowed(name)

    def get_export_name(self, export_type="csv"):
        from .. import clock

        return f"{self.endpoint}_{clock.now():%Y%m%d_%H%M%S}.{export_type}"

    def _check_write(self, model, action):
        if not access.can(current_user, self.resource, action):
            abort(403)

    def on_model_change(self, form, model, is_created):
        """Subclasses run their service calls first and call this last: the row, as it will be
        committed, must lie inside the actor's scope (an ``hr`` user cannot create or move a row
        into another organization). Raising here rolls the whole change back."""
        self._check_write(model, access.CREATE if is_created else access.EDIT)
        self.set_actor_organization(model, is_created)
        super().on_model_change(form, model, is_created)
        db.session.flush()
        if not access.write_in_scope(model, current_user):
            raise OutOfScope()

    def on_model_delete(self, model):
        self._check_write(model, access.DELETE)

    def handle_view_exception(self, exc):
        if isinstance(exc, HTTPException):  # a 403/404 from a check stays a 403/404
            raise exc
        if isinstance(exc, NotAllowed):
            raise Forbidden()
        if isinstance(exc, DomainError):
            show_error(exc)
            return True
        if isinstance(exc, StaleDataError):
            flash(_("This record was changed by someone else while you were editing it. "
                    "Your changes were not saved; reload the record and apply them again."), "error")
            return True
        if isinstance(exc, IntegrityError):
            if current_app.config.get("FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR"):
                raise exc
            log.warning("integrity error: %s", exc)
            flash(_("The record could not be saved: it conflicts with an existing record "
                    "(for example a duplicate number)."), "error")
            return True
        return super().handle_view_exception(exc)


class ReadOnlyModelView(ScopedModelView):
    @property
    def can_create(self):
        return False

    @property
    def can_edit(self):
        return False

    @property
    def can_delete(self):
        return False
