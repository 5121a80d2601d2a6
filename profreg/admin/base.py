"""The hardened base views every admin view derives from. Scoping comes from profreg/access.py.

Covers the FLASK-ADMIN.md pitfalls: scoped get_query / get_count_query / get_one (404 when out of
scope), per-request can_* from the role matrix, CSRF through FlaskForm, neutral integrity errors,
scoped relationship dropdowns and ajax loaders, no inline editing, no fast mass delete.
"""
from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import access
from ..extensions import db
from ..i18n import type_formatters, type_formatters_detail

log = logging.getLogger(__name__)


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
        if not current_user.is_authenticated or not current_user.active:
            return False
        if self.roles is not None and current_user.role not in self.roles:
            return False
        if self.resource is not None:
            return access.can(current_user, self.resource, access.LIST) or \
                access.can(current_user, self.resource, access.DETAILS)
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
        return access.scoped(super().get_query(), self.model, current_user)

    def get_one(self, pk):
        return self.get_query().filter(self.pk == pk).one_or_none()


class ScopedModelView(ProtectedMixin, ModelView):
    """Base for every model view: everything goes through ``access``."""

    form_base_class = FlaskForm
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
        super().__init__(model, db, *args, **kwargs)

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

    # scoping of every read path
    def get_query(self):
        return access.scoped(super().get_query(), self.model, current_user)

    def get_count_query(self):
        return access.scoped(super().get_count_query(), self.model, current_user)

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
        return lambda: access.scoped(db.session.query(remote_model), remote_model, current_user)

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

    def is_action_allowed(self, name):
        if name == "delete" and not self.can_delete:
            return False
        return super().is_action_allowed(name)

    def get_export_name(self, export_type="csv"):
        from .. import clock

        return f"{self.endpoint}_{clock.now():%Y%m%d_%H%M%S}.{export_type}"

    def _check_write(self, model, action):
        if not access.allowed(current_user, type(model), action):
            abort(403)

    def on_model_change(self, form, model, is_created):
        self._check_write(model, access.CREATE if is_created else access.EDIT)
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        # A created or edited row must land inside the user's scope (e.g. hr cannot move a worker out).
        if not access.in_scope(model, current_user):
            db.session.rollback()
            abort(403)

    def on_model_delete(self, model):
        self._check_write(model, access.DELETE)

    def handle_view_exception(self, exc):
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
