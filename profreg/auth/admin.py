"""User management for the ``admin`` role: create, disable, assign role and scope. The password
hash never appears in a form, list, details page or export."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, PasswordField
from wtforms.validators import Optional

from ..admin.base import ScopedAjaxLoader, ScopedModelView
from ..extensions import db
from ..orgs.models import Organization
from ..reference.models import AdminUnit
from .models import ROLE_LABELS, User
from .services import disable_totp, disable_user, prepare_user

USER_COLUMNS = ("email", "full_name", "role", "organization", "region", "district", "specialties", "active",
                "must_change_password", "two_step", "locked_until", "last_login_at")


def _regions():
    return db.session.query(AdminUnit).filter(AdminUnit.level == 1).order_by(AdminUnit.code)


def _districts():
    return db.session.query(AdminUnit).filter(AdminUnit.level == 2).order_by(AdminUnit.code)


class UserView(ScopedModelView):
    column_list = ("email", "full_name", "role", "organization", "region", "district", "active",
                   "must_change_password", "two_step", "last_login_at")
    column_details_list = USER_COLUMNS + ("created_at",)
    column_export_list = USER_COLUMNS
    column_searchable_list = ("email", "full_name")
    column_labels = {"email": _l("E-mail"), "full_name": _l("Full name"), "role": _l("Role"),
                     "organization": _l("Organization"), "region": _l("Region"), "district": _l("District"),
                     "specialties": _l("Specialties (association)"), "active": _l("Active"),
                     "must_change_password": _l("Must change password"), "locked_until": _l("Locked until"),
                     "last_login_at": _l("Last sign-in"), "created_at": _l("Created"),
                     "new_password": _l("New password"), "two_step": _l("Two-step sign-in"),
                     "reset_two_step": _l("Reset two-step sign-in")}
    column_formatters = {"role": lambda v, c, m, n: ROLE_LABELS.get(m.role, m.role),
                         "two_step": lambda v, c, m, n: _l("On") if m.totp_enabled else _l("Off")}
    column_formatters_export = column_formatters
    form_columns = ("email", "full_name", "role", "organization", "region", "district", "specialties", "active",
                    "new_password", "reset_two_step")
    form_extra_fields = {"new_password": PasswordField(
        _l("New password"), validators=[Optional()],
        description=_l("Required for a new user; the user must change it at the first sign-in.")),
        "reset_two_step": BooleanField(
            _l("Reset two-step sign-in"),
            description=_l("For a user who lost the phone and the recovery codes: the key and the codes are "
                           "removed; a role that must use two-step sign-in sets it up again at the next sign-in."))}
    form_choices = {"role": [(k, v) for k, v in ROLE_LABELS.items()]}
    form_args = {"region": {"query_factory": _regions},
                 "district": {"query_factory": _districts,
                              "description": _l("Only for a region coordinator: limits the user to one district "
                                                "of the region (empty: the whole region).")}}
    column_default_sort = "email"

    def __init__(self, model, *args, **kwargs):
        self.form_ajax_refs = {"organization": ScopedAjaxLoader("organization", db.session, Organization,
                                                                fields=("bin", "name_ru", "name_kk"), page_size=10)}
        super().__init__(model, *args, **kwargs)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.region.kwargs["query_factory"] = _regions
        form_class.district.kwargs["query_factory"] = _districts
        return form_class

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and obj.region_id and hasattr(form, "district"):
            # the districts of the coordinator's region only
            form.district.query_factory = lambda: _districts().filter(AdminUnit.parent_id == obj.region_id)
        return form

    def on_model_change(self, form, model, is_created):
        prepare_user(model, new_password=form.new_password.data or None, is_created=is_created)
        if not is_created and form.reset_two_step.data:
            disable_totp(model, actor=current_user._get_current_object(), reason="by_admin")
        super().on_model_change(form, model, is_created)

    def delete_model(self, model):  # users are disabled, never deleted (audit trail keeps their id)
        disable_user(model)  # committed with the request
        return True


def register_views(admin):
    admin.add_view(UserView(User, name=_l("Users"), endpoint="users", category=_l("Administration")))
