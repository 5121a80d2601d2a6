"""Admin views for workers and employment episodes (thin: columns, filters, form checks)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError as FormError

from ..admin.base import ScopedModelView
from .models import Employment, Worker
from .services import employment_errors, worker_errors

WORKER_LABELS = {
    "iin": _l("IIN"), "surname": _l("Surname"), "name": _l("Name"), "patronymic": _l("Patronymic"),
    "sex": _l("Sex"), "birth_date": _l("Date of birth"), "birth_place": _l("Place of birth"),
    "citizenship": _l("Citizenship"), "id_doc_type": _l("Identity document"),
    "id_doc_number": _l("Document number"), "id_doc_issuer": _l("Issued by"),
    "id_doc_issued": _l("Date of issue"), "id_doc_expires": _l("Valid until"),
    "residence_address": _l("Place of residence"), "registration_place": _l("Place of registration"),
    "registration_date": _l("Date of registration"), "email": _l("E-mail"), "phone": _l("Phone"),
    "status": _l("Status"), "blocked_reason": _l("Reason for blocking"), "blocked_at": _l("Blocked at"),
    "locale": _l("Language"),
}


class WorkerFormChecks:
    """Form-level validator: the IIN must be valid and agree with birth date, sex and citizenship."""

    def __call__(self, form, field):
        citizenship = form.citizenship.data if hasattr(form, "citizenship") else None
        errors = worker_errors(iin=field.data, birth_date=form.birth_date.data, sex=form.sex.data,
                               citizenship_code=getattr(citizenship, "code", None))
        if "birth_date" in errors:
            form.birth_date.errors = list(form.birth_date.errors) + [str(errors["birth_date"])]
        if "iin" in errors:
            raise FormError(str(errors["iin"]))


class WorkerView(ScopedModelView):
    column_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "status")
    column_details_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place",
                           "citizenship", "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued",
                           "id_doc_expires", "residence_address", "registration_place", "registration_date",
                           "email", "phone", "status", "blocked_reason", "blocked_at")
    column_export_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "status")
    column_labels = WORKER_LABELS
    column_default_sort = ("surname", False)
    column_sortable_list = ("iin", "surname", "birth_date", "status")
    column_searchable_list = ("iin", "surname_folded")
    form_columns = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place", "citizenship",
                    "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued", "id_doc_expires",
                    "residence_address", "registration_place", "registration_date", "email", "phone", "locale")
    form_choices = {"sex": [("M", _l("Male")), ("F", _l("Female"))],
                    "locale": [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]}
    form_args = {"iin": {"validators": [WorkerFormChecks()]}}
    column_formatters = {"sex": lambda v, c, m, n: _l("Male") if m.sex == "M" else _l("Female"),
                         "status": lambda v, c, m, n: _l("Blocked") if m.status == "blocked" else _l("Active")}

    def on_model_change(self, form, model, is_created):
        from .models import fold

        model.surname_folded = fold(model.surname)
        super().on_model_change(form, model, is_created)


class EmploymentView(ScopedModelView):
    column_list = ("worker", "organization", "position", "specialty", "fte", "hire_date", "end_date", "end_reason")
    column_labels = {"worker": _l("Worker"), "organization": _l("Organization"), "position": _l("Position"),
                     "specialty": _l("Specialty"), "fte": _l("FTE"), "hire_date": _l("Hire date"),
                     "end_date": _l("End date"), "end_reason": _l("Reason for leaving"),
                     "department": _l("Department"), "order_number": _l("Order number"),
                     "entered_at": _l("Entered into the register")}
    column_details_list = ("worker", "organization", "position", "specialty", "department", "fte", "hire_date",
                           "end_date", "end_reason", "order_number", "entered_at")
    column_export_list = column_list
    form_columns = ("worker", "organization", "position", "specialty", "department", "fte", "hire_date",
                    "end_date", "end_reason", "order_number")
    column_default_sort = ("hire_date", True)

    def on_model_change(self, form, model, is_created):
        errors = employment_errors(birth_date=model.worker.birth_date if model.worker else None,
                                   hire_date=model.hire_date, end_date=model.end_date)
        if errors:
            raise FormError(" ".join(str(v) for v in errors.values()))
        super().on_model_change(form, model, is_created)


def register_views(admin):
    cat = _l("Register")
    admin.add_view(WorkerView(Worker, name=_l("Workers"), endpoint="workers", category=cat))
    admin.add_view(EmploymentView(Employment, name=_l("Employment"), endpoint="employment", category=cat))
