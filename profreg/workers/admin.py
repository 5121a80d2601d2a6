"""Admin views for workers and employment episodes (thin: columns, filters, forms; rules in services)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import rules
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext, ngettext
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, DecimalField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, StopValidation
from wtforms.validators import ValidationError as FormError

from .. import access, clock
from ..admin.base import HiddenTag, PanelForm, ScopedModelView
from ..admin.formatting import blocked_badge, blocked_export, iin_formatter, sex_label
from ..admin.worker_records import inline_models, related_records, worker_ajax_ref, worker_section
from ..certificates.models import warning_months
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..reference import models as ref
from ..reference.models import AdminUnit, Position, Specialty
from ..uow import show_error
from . import search
from .models import Employment, Worker
from .services import (
    ENTRY_FIELDS,
    IIN_TAKEN,
    check_new_employment,
    confirm_current,
    delete_worker_records,
    employment_errors,
    entry_errors,
    hire_registered,
    iin_registered,
    register_worker,
    worker_errors,
)

WORKER_LABELS = {
    "iin": _l("IIN"), "surname": _l("Surname"), "name": _l("Name"), "patronymic": _l("Patronymic"),
    "sex": _l("Sex"), "birth_date": _l("Date of birth"), "birth_place": _l("Place of birth"),
    "citizenship": _l("Citizenship"), "id_doc_type": _l("Identity document"),
    "id_doc_number": _l("Document number"), "id_doc_issuer": _l("Issued by"),
    "id_doc_issued": _l("Date of issue"), "id_doc_expires": _l("Valid until"),
    "residence_address": _l("Place of residence"), "registration_place": _l("Place of registration"),
    "registration_date": _l("Date of registration"), "email": _l("E-mail"), "phone": _l("Phone"),
    "status": _l("Status"), "blocked_reason": _l("Reason for blocking"), "blocked_at": _l("Blocked at"),
    "locale": _l("Language"), "surname_folded": _l("Surname"),
    "education_documents": _l("Education documents"), "certificates": _l("Specialist certificates"),
    "cpd_records": _l("Professional development"), "qualification_categories": _l("Qualification categories"),
    "hire_position": _l("Position"), "hire_specialty": _l("Specialty"), "hire_date": _l("Hire date"),
    "hire_fte": _l("FTE"), "hire_department": _l("Department"), "hire_order_number": _l("Order number"),
    "updated_at": _l("Last updated"), "confirmed_at": _l("Confirmed as current"),
}
PERSONAL = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place", "citizenship",
            "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued", "id_doc_expires",
            "residence_address", "registration_place", "registration_date", "email", "phone", "locale")
INLINES = ("education_documents", "certificates", "cpd_records", "qualification_categories")
HIRE_FIELDS = ("hire_position", "hire_specialty", "hire_date", "hire_fte", "hire_department", "hire_order_number")
STATUS_CHOICES = [("active", _l("Active")), ("blocked", _l("Blocked"))]


def _cert_status_choices():
    """The certificate-status filter's options; the expiring one names the warning window
    (``CERT_WARNING_MONTHS``), the window the sweep, the dashboard and the reports use."""

    return [("valid", _l("Valid")),
            ("expiring", lazy_ngettext("Expiring within %(num)d month", "Expiring within %(num)d months",
                                       warning_months())),
            ("expired", _l("Expired")), ("none", _l("No certificate"))]


class WorkerFormChecks:
    """Form-level validator: the IIN must be valid and agree with birth date, sex and citizenship."""

    def __call__(self, form, field):
        citizenship = form.citizenship.data if hasattr(form, "citizenship") else None
        errors = worker_errors(iin=field.data, birth_date=form.birth_date.data, sex=form.sex.data,
                               citizenship_code=getattr(citizenship, "code", None))
        if "birth_date" in errors:
            form.birth_date.errors = list(form.birth_date.errors) + [str(errors["birth_date"])]
        if getattr(form, "_obj", None) is None and iin_registered(field.data):
            # nothing more (not Flask-Admin's "Already exists" too): the registered worker is found by hiring
            raise StopValidation(str(IIN_TAKEN))
        if "iin" in errors:
            raise FormError(str(errors["iin"]))


class RequiredAtEntry(InputRequired):
    """Marks a rule-8 field of the Create form as required (Flask-Admin's asterisk). The check itself
    is ``services.entry_errors``, run by the form's ``validate``, so the message is the rule's own.
    No browser ``required`` attribute: select2 hides the select it would sit on."""

    def __init__(self):
        super().__init__()
        self.field_flags = {}

    def __call__(self, form, field):
        return None


def form_entry_errors(form) -> dict:
    """``services.entry_errors`` of the values on a Create form (its education documents are the
    inline forms added to it)."""

    def value(name):
        field = getattr(form, name, None)
        return field.data if field is not None else None

    education = getattr(form, "education_documents", None)
    return entry_errors(iin=value("iin"), citizenship_code=getattr(value("citizenship"), "code", None),
                        id_doc_type_code=getattr(value("id_doc_type"), "code", None),
                        id_doc_number=value("id_doc_number"), id_doc_issuer=value("id_doc_issuer"),
                        id_doc_issued=value("id_doc_issued"), residence_address=value("residence_address"),
                        registration_place=value("registration_place"), registration_date=value("registration_date"),
                        education_documents=len(education.entries) if education is not None else 0)


# --- list filters: SQL EXISTS clauses from workers/search.py, applied to the scoped query -------------

def _options(loader):
    """Options read from the database per request (the view refreshes its filters on each list)."""
    def get():
        try:
            return loader()
        except RuntimeError:  # at start-up, outside an application context
            return []
    return get


def _regions():
    rows = db.session.execute(select(AdminUnit).where(AdminUnit.level == 1).order_by(AdminUnit.code)).scalars()
    return [(str(r.id), r.name) for r in rows]


def _ref_options(model_name):
    def load():
        model = getattr(ref, model_name)
        rows = db.session.execute(select(model).where(model.is_active.is_(True)).order_by(model.code)).scalars()
        return [(str(r.id), r.name) for r in rows]
    return load


class WorkerClauseFilter(BaseSQLAFilter):
    """A filter whose SQL is an EXISTS clause on the worker."""

    def __init__(self, name, clause, options=None, op=None):
        super().__init__(Worker.id, name, options=options)
        self.clause, self.op = clause, op

    def apply(self, query, value, alias=None):
        try:
            cond = self.clause(value)
        except (TypeError, ValueError):
            return query.filter(db.false())
        return query.filter(cond) if cond is not None else query

    def operation(self):
        return self.op or _l("equals")


def worker_filters(path=None):
    """Filters for the worker list; ``path`` (e.g. 'worker') is unused: record views filter by worker."""
    return [
        WorkerClauseFilter(_l("Organization (BIN)"), search.by_org_bin),
        WorkerClauseFilter(_l("Region"), search.by_region, options=_options(_regions)),
        WorkerClauseFilter(_l("Specialty"), search.by_specialty, options=_options(_ref_options("Specialty"))),
        WorkerClauseFilter(_l("Position"), search.by_position, options=_options(_ref_options("Position"))),
        WorkerClauseFilter(_l("Status"), lambda v: Worker.status == v, options=STATUS_CHOICES),
        WorkerClauseFilter(_l("Certificate status"), search.certificate_status_clause,
                           options=_options(_cert_status_choices)),
    ]


def _position_query():
    return db.session.query(Position).filter(Position.is_active.is_(True)).order_by(Position.code)


def _specialty_query():
    return db.session.query(Specialty).filter(Specialty.is_active.is_(True)).order_by(Specialty.code)


class HireRegisteredForm(PanelForm):
    """Hire a worker who is already in the register: identified by IIN, surname and date of birth
    (all three from the identity document), then the new episode in the actor's organization."""

    iin = StringField(_l("IIN"), validators=[DataRequired()])
    surname = StringField(_l("Surname"), validators=[DataRequired()])
    birth_date = DateField(_l("Date of birth"), validators=[DataRequired()])
    position = QuerySelectField(_l("Position"), query_factory=_position_query,
                                validators=[DataRequired()])
    specialty = QuerySelectField(_l("Specialty"), query_factory=_specialty_query, allow_blank=True)
    hire_date = DateField(_l("Hire date"), validators=[DataRequired()], default=clock.today)
    fte = DecimalField(_l("FTE"), default=1, places=2, validators=[Optional(), NumberRange(min=0.01, max=2)])
    department = StringField(_l("Department"), validators=[Optional()])
    order_number = StringField(_l("Order number"), validators=[Optional()])


class WorkerView(ScopedModelView):
    list_template = "workers/list.html"  # adds "Hire a registered worker" to the list's tabs
    details_template = "workers/details.html"
    edit_template = "workers/edit.html"
    column_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "status")
    column_details_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place",
                           "citizenship", "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued",
                           "id_doc_expires", "residence_address", "registration_place", "registration_date",
                           "email", "phone", "status", "blocked_reason", "blocked_at", "updated_at", "confirmed_at")
    column_export_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "status")
    column_labels = WORKER_LABELS
    column_default_sort = ("surname_key", False)  # Kazakh alphabetical order (models.sort_key)
    scope_page_column = "surname"  # region and organization lists page through their own index
    column_sortable_list = ("iin", "surname", "birth_date", "status")
    column_searchable_list = ("iin", "surname_folded")
    column_filters = worker_filters()
    form_columns = (*PERSONAL, "lock_version")
    form_extra_fields = {"lock_version": HiddenField()}
    form_choices = {"sex": [("M", _l("Male")), ("F", _l("Female"))],
                    "locale": [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]}
    form_args = {"iin": {"validators": [WorkerFormChecks()]}}
    inline_models: tuple = ()  # set in register_views: the record forms other domains declare
    column_formatters = {"sex": lambda v, c, m, n: sex_label(m.sex),
                         "status": blocked_badge, "iin": iin_formatter}
    column_formatters_export = {"status": blocked_export,
                                "sex": lambda v, c, m, n: "M" if m.sex == "M" else "F"}
    form_create_rules = (HiddenTag(), rules.Header(_l("Personal data")), *PERSONAL,
                         rules.Header(_l("Employment in your organization")), *HIRE_FIELDS,
                         *INLINES)
    form_edit_rules = (HiddenTag(), rules.Header(_l("Personal data")), *PERSONAL, *INLINES)

    def get_sortable_columns(self):
        # The surname column sorts by the surname's sort key (Kazakh alphabetical order); Flask-Admin
        # names a same-table sort field after itself, so the mapping is set here.
        columns = super().get_sortable_columns()
        columns["surname"] = Worker.surname_key
        return columns

    def get_create_form(self):
        base = super().get_create_form()

        class CreateForm(base):
            """A first registration: rule 8's fields are required (``services.entry_errors``)."""

            def validate(self, extra_validators=None):
                valid = super().validate(extra_validators)
                errors = form_entry_errors(self)
                for name, message in errors.items():
                    field = getattr(self, name, None)
                    if field is not None and not any(isinstance(e, str) for e in field.errors):
                        field.errors = [*field.errors, str(message)]
                return valid and not errors

            hire_position = QuerySelectField(_l("Position"), query_factory=_position_query,
                                             validators=[DataRequired()])
            hire_specialty = QuerySelectField(_l("Specialty"), query_factory=_specialty_query, allow_blank=True)
            hire_date = DateField(_l("Hire date"), validators=[DataRequired()], default=clock.today)
            hire_fte = DecimalField(_l("FTE"), default=1, places=2,
                                    validators=[Optional(), NumberRange(min=0.01, max=2)])
            hire_department = StringField(_l("Department"), validators=[Optional()])
            hire_order_number = StringField(_l("Order number"), validators=[Optional()])

        for name in ENTRY_FIELDS:  # the asterisk of a required field on the Create form only
            unbound = getattr(base, name, None)
            if unbound is not None:
                kwargs = {**unbound.kwargs, "validators": [*unbound.kwargs.get("validators", ()), RequiredAtEntry()]}
                setattr(CreateForm, name, unbound.field_class(*unbound.args, **kwargs))
        return CreateForm

    # search: case-folded, Kazakh-safe on SQLite (IIN / surname / certificate number)
    def _apply_search(self, query, count_query, joins, count_joins, search_text):
        for term in search_text.split():
            cond = search.search_clause(term)
            query = query.filter(cond)
            if count_query is not None:
                count_query = count_query.filter(cond)
        return query, count_query, joins, count_joins

    # optimistic locking: the form carries the version it was loaded with
    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.lock_version.data = obj.version
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            with db.session.no_autoflush:  # the new worker is pending: the service checks it before any write
                organization = current_user.organization
            register_worker(model, actor_organization=organization,
                            position=form.hire_position.data, hire_date=form.hire_date.data,
                            specialty=form.hire_specialty.data, fte=form.hire_fte.data,
                            department=form.hire_department.data or None,
                            order_number=form.hire_order_number.data or None)
        else:
            sent = (form.lock_version.data or "").strip() if hasattr(form, "lock_version") else ""
            if sent and sent != str(model.version):
                raise StaleDataError("version mismatch")
        super().on_model_change(form, model, is_created)

    def on_model_delete(self, model):
        super().on_model_delete(model)
        delete_worker_records(model)

    # rule 13: HR confirms that a record is current (the worker page's button, the list's bulk action)
    def can_confirm(self) -> bool:
        return current_user.is_authenticated and access.can(current_user, self.resource, access.CONFIRM)

    def is_action_allowed(self, name):
        if name == "confirm":
            return self.can_confirm()
        return super().is_action_allowed(name)

    @action("confirm", _l("Confirm the record is current"), _l("Confirm that the selected records are current?"))
    def action_confirm(self, ids):
        n = confirm_current(ids, current_user)  # only the actor's workers: other ids are ignored
        flash(ngettext("%(num)d record confirmed as current.", "%(num)d records confirmed as current.", n),
              "success")

    @expose("/confirm/", methods=("POST",))
    def confirm_view(self):
        access.require(current_user, self.resource, access.CONFIRM)
        worker = self.get_one(request.form.get("id"))  # 404 outside the actor's scope
        confirm_current([worker], current_user)
        flash(_("The record of %(name)s is confirmed as current.", name=worker.full_name), "success")
        return redirect(url_for(".details_view", id=worker.id))

    # a worker already in the register (another organization's, or back after leaving)
    def can_hire_registered(self) -> bool:
        return bool(self.can_create and current_user.organization is not None)

    @expose("/hire/", methods=("GET", "POST"))
    def hire_view(self):
        if not self.can_hire_registered():
            abort(403)
        form = HireRegisteredForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                worker, _episode = hire_registered(
                    iin=form.iin.data, surname=form.surname.data, birth_date=form.birth_date.data,
                    actor=current_user, position=form.position.data, hire_date=form.hire_date.data,
                    specialty=form.specialty.data, fte=form.fte.data, department=form.department.data or None,
                    order_number=form.order_number.data or None)
            except DomainError as exc:
                show_error(exc, form)  # under the field it concerns; only the attempt's audit entry is kept
            else:
                flash(_("%(name)s now works in your organization.", name=worker.full_name), "success")
                return redirect(url_for(".details_view", id=worker.id))
        return self.render("workers/hire.html", form=form)

    # the worker page: related records (episodes with BIN, education, certificates, CPD, documents)
    @expose("/details/")
    def details_view(self):
        return super().details_view()

    def render(self, template, **kwargs):
        # the worker page: the sections every domain declares (admin/worker_records.py), through access
        if template in (self.details_template, self.edit_template) and kwargs.get("model") is not None:
            kwargs["related"] = related_records(kwargs["model"], current_user,
                                                edit_page=template == self.edit_template)
            kwargs["today"] = clock.today()
        return super().render(template, **kwargs)


class EmploymentView(ScopedModelView):
    column_list = ("worker", "worker.status", "organization", "organization.bin", "position", "specialty", "fte",
                   "hire_date", "end_date", "end_reason")
    column_labels = {"worker": _l("Worker"), "organization": _l("Organization"), "position": _l("Position"),
                     "specialty": _l("Specialty"), "fte": _l("FTE"), "hire_date": _l("Hire date"),
                     "end_date": _l("End date"), "end_reason": _l("Reason for leaving"),
                     "department": _l("Department"), "order_number": _l("Order number"),
                     "entered_at": _l("Entered into the register"), "worker.status": _l("Status"),
                     "organization.bin": _l("BIN")}
    column_details_list = ("worker", "worker.status", "organization", "organization.bin", "position",
                           "specialty", "department", "fte", "hire_date", "end_date", "end_reason", "order_number",
                           "entered_at")
    column_export_list = column_list
    column_formatters = {"worker.status": blocked_badge}
    column_formatters_export = {"worker.status": blocked_export}
    form_columns = ("worker", "organization", "position", "specialty", "department", "fte", "hire_date",
                    "end_date", "end_reason", "order_number")
    form_ajax_refs = {"worker": worker_ajax_ref()}
    column_default_sort = ("hire_date", True)

    actor_organization_field = "organization"

    def on_model_change(self, form, model, is_created):
        self.set_actor_organization(model, is_created)
        errors = employment_errors(birth_date=model.worker.birth_date if model.worker else None,
                                   hire_date=model.hire_date, end_date=model.end_date)
        if errors:
            raise InvalidInput(errors)
        if model.worker is not None and (is_created or _post_changed(model)):
            check_new_employment(model.worker, model.position, model.specialty)
        super().on_model_change(form, model, is_created)


def _post_changed(model) -> bool:
    """The position or the specialty of an episode was changed (the admission rule applies again)."""
    attrs = inspect(model).attrs
    return any(getattr(attrs, name).history.has_changes()
               for name in ("position_id", "position", "specialty_id", "specialty"))


worker_section("employments", _l("Employment"), Employment, "hire_date", "workers/_section_employments.html",
               position=10, on_edit_page=True)


def register_views(admin):
    WorkerView.inline_models = inline_models()  # the record forms other domains declare
    cat = _l("Register")
    admin.add_view(WorkerView(Worker, name=_l("Workers"), endpoint="workers", category=cat))
    admin.add_view(EmploymentView(Employment, name=_l("Employment"), endpoint="employment", category=cat))


__all__ = ["EmploymentView", "WorkerView", "worker_filters"]
