"""The private Flask-Admin names the admin shell relies on (profreg/admin/base.py, listing.py,
worker_records.py, profreg/uow.py, the list template). Each is pinned here with what we rely on, so a
Flask-Admin upgrade that renames, removes or reshapes one fails loudly here, not silently in a page.
"""
from __future__ import annotations

import inspect
import re

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import view as sqla_view
from flask_admin.model import base as model_base
from flask_admin.model import template as row_action_types
from flask_admin.model.form import InlineFormAdmin

# (owner, name, parameter names after self) of the private methods the shell overrides or calls.
METHODS = [
    (ModelView, "_refresh_filters_cache", []),           # listing: the per-language filter cache
    (model_base.BaseModelView, "_get_filter_groups", []),  # listing: filters built once per language
    (ModelView, "_get_default_order", []),                # listing: default order → index paging
    (ModelView, "_apply_sorting", ["query", "joins", "sort_column", "sort_desc"]),  # listing: id tiebreak
    (ModelView, "_apply_search", ["query", "count_query", "joins", "count_joins", "search"]),  # workers search
    (model_base.BaseModelView, "_get_field_value", ["model", "name"]),  # listing: cells formatted once
    (model_base.BaseModelView, "_on_model_change", ["form", "model", "is_created"]),  # hooks of saves
]
# Instance attributes Flask-Admin sets on a model view that the shell reads or shadows with properties.
ATTRIBUTES = ["_sortable_columns", "_column_choices_map", "_form_ajax_refs"]


@pytest.mark.parametrize("owner,name,params", METHODS, ids=[m[1] for m in METHODS])
def test_private_methods_keep_their_names_and_parameters(owner, name, params):
    method = getattr(owner, name, None)
    assert method is not None, f"Flask-Admin no longer has {owner.__name__}.{name}"
    got = [p for p in inspect.signature(method).parameters if p != "self"]
    assert got[:len(params)] == params, f"{owner.__name__}.{name}{tuple(got)}: the shell passes {params}"


def test_the_filter_cache_is_filled_through_the_three_attributes_we_shadow():
    src = inspect.getsource(ModelView._refresh_filters_cache) + inspect.getsource(
        model_base.BaseModelView._refresh_filters_cache)
    for attr in ("_filters", "_filter_groups", "_filter_args"):
        assert f"self.{attr} =" in src, f"_refresh_filters_cache no longer assigns {attr}"


def test_instance_attributes_exist_on_a_built_view(app):
    view = next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == "workers")
    for attr in ATTRIBUTES:
        assert hasattr(view, attr), attr
    assert isinstance(view._sortable_columns, dict) and isinstance(view._column_choices_map, dict)
    assert "surname" in view._sortable_columns
    # (sort field, joins, descending?): listing.scope_page reads the field and the direction
    field, _joins, desc = next(iter(view._get_default_order()))
    assert field is not None and desc is False


def test_saves_commit_and_roll_back_through_the_view_session():
    """``uow.PanelSession`` turns these commits into flushes and these rollbacks into a discard of
    the unit: each must still go through the session Flask-Admin was given (``self.session``)."""
    for name in ("create_model", "update_model", "delete_model", "action_delete"):
        src = inspect.getsource(getattr(ModelView, name))
        assert "_get_deprecated_session(self.session)" in src, name
        assert re.search(r"session\.commit\(\)", src), f"{name} no longer commits the view session"
    for name in ("create_model", "update_model", "delete_model"):
        assert "session.rollback()" in inspect.getsource(getattr(ModelView, name)), name
    assert sqla_view._get_deprecated_session(object()) is not None  # objects without .session pass through


def test_the_panel_session_is_what_flask_admin_uses(app):
    from profreg.admin.base import PANEL_SESSION

    view = next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == "workers")
    assert view.session is PANEL_SESSION
    assert sqla_view._get_deprecated_session(view.session) is PANEL_SESSION


def test_list_page_context_and_template_blocks(app):
    """profreg/list.html replaces the table of Flask-Admin's list page from the context the view renders."""
    src = inspect.getsource(model_base.BaseModelView.index_view)
    for key in ("data=", "list_columns=", "list_row_actions=", "num_pages=", "page_size="):
        assert key in src, f"index_view no longer renders {key[:-1]}"
    with app.app_context():
        env = app.jinja_env
        page, _f, _u = env.loader.get_source(env, "admin/model/list.html")
        lib, _f, _u = env.loader.get_source(env, "admin/lib.html")
    for block in ("model_menu_bar_before_filters", "model_list_table"):
        assert re.search(r"{%-?\s*block " + block + r"\b", page), block
    for macro in ("pager", "simple_pager"):
        assert re.search(r"{%-?\s*macro " + macro + r"\(", lib), macro


def test_row_actions_render_from_an_id_and_a_row():
    for cls in (row_action_types.ViewRowAction, row_action_types.ViewPopupRowAction,
                row_action_types.EditRowAction, row_action_types.EditPopupRowAction,
                row_action_types.DeleteRowAction):
        # the template calls render_ctx(row_id, row); Jinja passes the context first
        assert list(inspect.signature(cls.render_ctx).parameters) == ["self", "context", "row_id", "row"], cls


def test_inline_form_admin_takes_columns_and_labels():
    inline = InlineFormAdmin(object, form_columns=("id", "number"), column_labels={"number": "N"})
    assert inline.form_columns == ("id", "number") and inline.column_labels == {"number": "N"}


def test_flask_login_caches_the_user_where_the_audit_reads_it(app, factory):
    """audit.services reads the signed-in user from ``g._login_user`` (Flask-Login's cache)."""
    from flask import g
    from flask_login import login_user

    user = factory.user("hr", org=factory.org())
    with app.test_request_context("/"):
        login_user(user)
        assert g.get("_login_user") is user
