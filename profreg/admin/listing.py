"""The list page at national scale: the admin shell's performance machinery, kept apart from its
security (``profreg/admin/base.py``) and from policy (``profreg/access.py``, which only says which rows).

* Counts: Flask-Admin runs ``count(*)`` for the pager on every page; over the whole register that is a
  full scan. Unfiltered lists get PostgreSQL's planner estimate (labelled) or an exact count from the
  narrowest employment index (``fast_scope_count``); searches and filters keep the exact scoped count.
* Paging: a region's or organization's list in surname order is read from its own
  (scope, surname key, worker) index (``scope_page``); every order ends with the primary key.
* Filters: built per language and kept ``FILTER_OPTIONS_TTL`` seconds or until reference data changes
  (the ``reference_changed`` signal); their options must not depend on the user.
* Rows: each cell formatted once in Python, row actions rendered once per page (profreg/list.html).

``ListingMixin`` goes before Flask-Admin's ``ModelView`` in a view's bases; it relies on private
Flask-Admin names that ``tests/panel/test_flask_admin_contract.py`` pins.
"""
from __future__ import annotations

import json
import threading
import time

from flask import current_app, g, has_request_context
from flask_admin.model import template as row_action_types
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import distinct, func, select, text
from sqlalchemy.orm import Query

from .. import access, clock, signals
from ..extensions import db
from ..workers.models import Employment, Worker
from .dashboard import requested_tile

_ESTIMATES: dict = {}
ESTIMATE_SECONDS = 60


def cached_estimate(key, compute):
    """A planner estimate, kept for ``ESTIMATE_SECONDS``: it is approximate by nature (and labelled
    so), and asking the planner on every page cost a round trip and a plan."""
    now = time.monotonic()
    hit = _ESTIMATES.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_ESTIMATES) > 1000:  # keys carry the day: drop the stale ones now and then
        for old in [k for k, (expires, _v) in _ESTIMATES.items() if expires <= now]:
            _ESTIMATES.pop(old, None)
    _ESTIMATES[key] = (now + ESTIMATE_SECONDS, value)
    return value


def forget_estimates() -> None:
    _ESTIMATES.clear()


def fast_scope_count(model, user, estimate_above: int | None = None) -> tuple[int, bool] | None:
    """(number of workers in a scoped role's list, estimated?) from the employment indexes alone;
    None where there is no shortcut. With ``estimate_above`` (PostgreSQL), a list the planner expects
    to hold more workers than that gets the planner's estimate instead of an exact count, which
    would read the whole scope (a region of 20,000 workers: 2–3 ms on every page)."""
    conditions = access.scope_episodes(user) if model is Worker else None
    if conditions is None:
        return None
    emp = Employment
    # Only a region can be that big; an organization (a few thousand workers at most) counts exactly.
    if estimate_above is not None and user.role == access.Role.REGION and db.engine.dialect.name == "postgresql":
        def planner_rows():
            compiled = select(emp.worker_id).distinct().where(*conditions).compile(dialect=db.engine.dialect)
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
            return int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])

        # keyed by the district too: a district coordinator's list is not the region's
        rows = cached_estimate(("region_workers", user.region_id, access.district_of_user(user), clock.today()),
                               planner_rows)
        if rows > estimate_above:
            return rows, True
    n = db.session.execute(select(func.count(distinct(emp.worker_id))).where(*conditions)).scalar()
    return int(n or 0), False


def scope_page(model, user, offset: int, limit: int, desc: bool = False) -> list | None:
    """One page of a scoped role's worker list in surname order (then id): the page's worker ids come
    from the scope's (region or organization, worker_surname_key, worker_id) employment index — the same
    rows and order as the list query under ``access.worker_scope_clause`` — and the workers are joined to
    them in the same statement. None where there is no such shortcut."""
    conditions = access.scope_episodes(user) if model is Worker else None
    if conditions is None:
        return None
    emp = Employment
    order = (emp.worker_surname_key.desc(), emp.worker_id.desc()) if desc else (emp.worker_surname_key,
                                                                                  emp.worker_id)
    page = (select(emp.worker_surname_key, emp.worker_id).distinct().where(*conditions)
            .order_by(*order).offset(offset).limit(limit).subquery("page"))
    outer = (page.c.worker_surname_key.desc(), page.c.worker_id.desc()) if desc else (page.c.worker_surname_key,
                                                                                        page.c.worker_id)
    q = select(model).join(page, page.c.worker_id == model.id).order_by(*outer)
    return list(db.session.execute(q).scalars())


_FILTERS = {"generation": 0, "lock": threading.Lock(), "building": threading.local()}


def invalidate_filter_options(_sender=None, **_extra) -> None:
    """Reference data changed: every view rebuilds its filters (and their options) on next use."""
    _FILTERS["generation"] += 1


signals.reference_changed.connect(invalidate_filter_options)


def planner_rows(statement) -> int | None:
    """PostgreSQL's estimate of the rows ``statement`` (a ``count(*)`` query) counts: the rows of the
    aggregate's input in its plan. None elsewhere."""
    if db.engine.dialect.name != "postgresql":
        return None
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})  # IN lists
    plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    node = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    while node.get("Node Type") == "Aggregate" and node.get("Plans"):
        node = node["Plans"][0]
    return int(node.get("Plan Rows", 0))


class EstimatedCountQuery(Query):
    """The count query of a searched or filtered list (Flask-Admin builds it from the view's
    ``get_count_query`` with ``filter``/``join``, which keep this class). Where PostgreSQL expects
    more than ``ESTIMATED_FILTERED_COUNT_THRESHOLD`` rows, the pager gets that estimate, labelled
    "about", instead of an exact count that reads every match (a surname prefix over the whole
    country: ~100 ms of a 150 ms page). A page that turns out shorter than a full page is counted
    exactly (``ListingMixin.get_list``)."""

    def scalar(self):
        threshold = current_app.config.get("ESTIMATED_FILTERED_COUNT_THRESHOLD", 5_000)
        if threshold >= 0 and has_request_context():
            rows = planner_rows(self.statement)
            if rows is not None and rows > threshold:
                g.profreg_count_estimated = True
                return rows
        return super().scalar()


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
                        row_action_types.DeleteRowAction, row_action_types.EndpointLinkRowAction)


class ListingMixin:
    """List-page machinery for model views (counts, index paging, filter cache, row rendering)."""

    list_template = "profreg/list.html"  # adds the "estimated count" label

    # Filters. Their options (regions, specialties, positions) come from reference tables and their
    # labels from the catalog, so Flask-Admin's build-once-at-start-up cache is wrong for us, and
    # rebuilding them on every list page cost three queries and ~200 translations a page. They are
    # built per locale and kept for FILTER_OPTIONS_TTL seconds or until reference data changes
    # (``invalidate_filter_options``). Options must not depend on the user: they are shared.
    def _refresh_filters_cache(self):  # Flask-Admin's hook: forget every language's build
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
                super()._refresh_filters_cache()  # Flask-Admin's build, assigning through the properties below
                state["groups"] = super()._get_filter_groups()  # labels translated once
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
        if execute and not search and not filters and requested_tile(self.model) is None:
            fast = self.fast_count()
        if fast is None:
            count, data = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
            size = self.page_size if page_size is None else page_size
            if g.get("profreg_count_estimated") and execute and not page and size and len(data) < size:
                count, g.profreg_count_estimated = len(data), False  # one short page: the exact count
            return count, data
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

    #: Column (a sortable column's name) whose order ``scope_page`` serves from an index for the
    #: scoped roles; ``scope_page`` must order exactly as that column's sort field does.
    scope_page_column: str | None = None

    def scope_page(self, page, sort_column, sort_desc, page_size):
        """The rows of an unfiltered page in ``scope_page_column`` order from ``scope_page``
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
        return scope_page(self.model, current_user, (page or 0) * size, size, sort_desc)

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
            return fast_scope_count(self.model, current_user, estimate_above=threshold)
        table = self.model.__table__.name
        estimate = cached_estimate(("table_rows", table), lambda: db.session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}).scalar())
        if estimate is None or estimate < threshold:
            return None
        return int(estimate), True
