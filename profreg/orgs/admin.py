from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError as FormError

from ..admin.base import ScopedModelView
from ..admin.filters import ReferenceFilter, UnitFilter, date_range, district_options, region_options
from ..errors import InvalidInput
from ..extensions import db
from ..identity import IdentityError, validate_bin
from ..reference.models import Position, Specialty
from .models import Organization, StaffingPosition
from .services import districts_select, region_of, set_region, staffing_line_errors


def _bin_check(form, field):
    try:
        validate_bin(field.data or "")
    except IdentityError as exc:
        raise FormError(str(exc.message)) from None


class OrganizationView(ScopedModelView):
    # "name" is the name in the reader's language (Organization.name follows the locale).
    column_list = ("bin", "name", "region", "district", "type", "ownership")
    column_details_list = ("bin", "name_kk", "name_ru", "name_en", "unit", "region", "district", "type",
                           "ownership", "parent", "address")
    column_export_list = column_details_list
    column_labels = {"bin": _l("BIN"), "name_kk": _l("Name (Kazakh)"), "name_ru": _l("Name (Russian)"),
                     "name_en": _l("Name (English)"), "unit": _l("Administrative-territorial unit"),
                     "region": _l("Region"), "district": _l("District"), "type": _l("Type"), "ownership": _l("Ownership"),
                     "parent": _l("Parent organization"), "address": _l("Address"), "name": _l("Organization")}
    column_searchable_list = ("bin", "name_ru", "name_kk", "name_en")
    column_filters = [UnitFilter(Organization.region_id, _l("Region"), region_options()),
                      UnitFilter(Organization.district_id, _l("District"), district_options())]
    form_columns = ("bin", "name_kk", "name_ru", "name_en", "unit", "district", "type", "ownership", "parent",
                    "address")
    form_args = {"bin": {"validators": [_bin_check]},
                 "district": {"description": _l("The district or city of regional significance of the "
                                                "organization's region; filled in from the unit when the "
                                                "unit is a district.")}}

    def _scope_districts(self, form, obj=None):
        """The district dropdown offers the districts of the organization's region only: the region of
        the unit submitted (or of the organization being edited); all districts while none is known."""
        if not hasattr(form, "district"):
            return form

        def districts():
            unit = getattr(form, "unit", None)
            unit = unit.data if unit is not None else None
            region = region_of(unit) if unit is not None else (obj.region if obj is not None else None)
            return db.session.execute(districts_select(region.id if region is not None else None)).scalars().all()

        field = form.district
        field.query_factory = districts
        # "Esil District" is in three regions: the region tells them apart while all are offered
        field.get_label = lambda u: f"{u.name} ({u.parent.name})" if u.parent is not None else u.name
        builtin = field.pre_validate

        def pre_validate(form_):
            # a submitted district that is not one of the region's is refused, not silently emptied
            if getattr(field, "_formdata", None) not in (None, "", "__None") and field.data is None:
                raise FormError(str(_l("Choose a district of the organization's region.")))
            builtin(form_)

        field.pre_validate = pre_validate
        return form

    def create_form(self, obj=None):
        return self._scope_districts(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_districts(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        set_region(model)
        super().on_model_change(form, model, is_created)


class StaffingView(ScopedModelView):
    column_list = ("organization", "position", "specialty", "department", "approved_fte", "valid_from")
    column_labels = {"organization": _l("Organization"), "position": _l("Position"), "specialty": _l("Specialty"),
                     "department": _l("Department"), "approved_fte": _l("Approved FTE"),
                     "valid_from": _l("Valid from")}
    column_details_list = column_list
    column_export_list = column_list
    form_columns = column_list
    actor_organization_field = "organization"
    column_filters = [ReferenceFilter(StaffingPosition.position_id, _l("Position"), Position),
                      ReferenceFilter(StaffingPosition.specialty_id, _l("Specialty"), Specialty),
                      *date_range(StaffingPosition.valid_from, _l("Valid from"))]

    def on_model_change(self, form, model, is_created):
        # the rule of a staffing line, shared with the bulk import (``orgs.services``)
        errors = staffing_line_errors(model.approved_fte)
        if errors:
            raise InvalidInput(errors)
        super().on_model_change(form, model, is_created)


def register_views(admin):
    cat = _l("Organizations")
    admin.add_view(OrganizationView(Organization, name=_l("Organizations"), endpoint="organizations", category=cat))
    admin.add_view(StaffingView(StaffingPosition, name=_l("Staffing tables"), endpoint="staffing", category=cat))
