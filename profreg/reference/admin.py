from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import signals
from ..admin.base import ScopedModelView
from .models import REFERENCE_MODELS

TITLES = {
    "admin_units": _l("Administrative-territorial units"), "countries": _l("Countries"),
    "specialties": _l("Specialties"), "positions": _l("Positions"), "education_levels": _l("Education levels"),
    "identity_document_types": _l("Identity document types"), "academic_degree_types": _l("Academic degrees"),
    "academic_title_types": _l("Academic titles"), "qualification_category_types": _l("Qualification categories"),
    "publication_types": _l("Publication types"), "training_activity_types": _l("CPD activity types"),
    "labour_code_grounds": _l("Labour Code grounds"),
    "employment_end_reasons": _l("Reasons for leaving (as entered before the split)"), "personnel_document_types": _l("Personnel document types"),
    "organization_types": _l("Organization types"), "ownership_forms": _l("Ownership forms"),
}
LABELS = {"code": _l("Code"), "name_kk": _l("Name (Kazakh)"), "name_ru": _l("Name (Russian)"),
          "name_en": _l("Name (English)"), "is_active": _l("In use"), "parent": _l("Parent"),
          "level": _l("Level"), "population": _l("Population"), "is_city": _l("City"),
          "is_clinical": _l("Clinical"), "cpd_hours_required": _l("CPD hours per cycle"),
          "cpd_credits_required": _l("CPD credits per cycle"), "group": _l("Group"), "kind": _l("Kind"),
          "is_advanced_training": _l("Advanced training"), "voluntary": _l("Voluntary"),
          "leaves_sector": _l("Leaves the health sector"), "abroad": _l("Moves abroad"),
          "retirement": _l("Retirement"), "death": _l("Death"), "transfer": _l("Transfer"),
          "article": _l("Article of the Labour Code"), "ground_code": _l("Labour Code ground (code)"),
          "category": _l("Category of leaving")}


class ReferenceView(ScopedModelView):
    column_searchable_list = ("code", "name_ru", "name_kk", "name_en")
    column_labels = LABELS
    column_default_sort = "code"
    can_delete = False  # referenced rows are retired with is_active, not deleted

    def after_model_change(self, form, model, is_created):
        signals.reference_changed.send(type(model))  # e.g. list filters offer reference rows
        super().after_model_change(form, model, is_created)


def register_views(admin):
    cat = _l("Reference data")
    for stem, model in REFERENCE_MODELS.items():
        cols = [c.key for c in model.__table__.columns if c.key != "id" and not c.key.endswith("_id")]
        if hasattr(model, "parent"):
            cols.insert(1, "parent")
        view = type(f"{model.__name__}View", (ReferenceView,),
                    {"column_list": cols, "column_details_list": cols, "column_export_list": cols,
                     "form_columns": cols})
        admin.add_view(view(model, name=TITLES[stem], endpoint=f"ref_{stem}", category=cat))
