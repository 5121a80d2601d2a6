"""Admin views for workers and employment episodes (thin: columns, filters, forms; rules in services)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, session, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import rules
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext, ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.validators import ValidationError as FormError

from .. import access, clock
from ..admin.base import HiddenTag, PanelForm, ScopedModelView, later_error
from ..admin.dateinput import LocalDateField
from ..admin.filters import (
    ClauseFilter,
    ReferenceFilter,
    date_range,
    district_options,
    lazy_options,
    reference_options,
    sorted_options,
)
from ..admin.formatting import blocked_badge, blocked_export, iin_formatter, request_memo, sex_label
from ..admin.record_actions import ACTION_LABELS, RecordPage, describe_changes, detail_label, table_labels
from ..admin.worker_records import (
    WorkerSearchMixin,
    card_tabs,
    inline_models,
    prefill,
    related_records,
    visible_sections,
    worker_ajax_ref,
    worker_section,
)
from ..certificates.models import warning_months
from ..certificates.services import block_reasons
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..i18n import fmt_date
from ..identity import iin_rule
from ..reference import models as ref
from ..reference.models import AdminUnit, EmploymentEndReason, LabourCodeGround, Position, Specialty
from ..uow import show_error
from . import exports as worker_exports
from . import search
from .models import END_CATEGORIES, END_CATEGORY_LABELS, Employment, Worker
from .records import annul_worker, restore_worker
from .services import (
    ENTRY_FIELDS,
    IIN_TAKEN,
    check_new_employment,
    confirm_current,
    employment_errors,
    end_employment,
    entry_errors,
    episode_ending_errors,
    episode_saved,
    hire_registered,
    iin_registered,
    pending_transfer_ids,
    register_worker,
    worker_errors,
)
from .views import LABELS as PERSONAL_LABELS
from .views import register_worker_pages, worker_history

WORKER_LABELS = {
    **PERSONAL_LABELS,  # the personal-data fields, labelled once (workers/views.py)
    "status": _l("Status"), "blocked_reason": _l("Reason for blocking"), "blocked_at": _l("Blocked at"),
    "surname_folded": _l("Surname"),
    "education_documents": _l("Education documents"), "certificates": _l("Specialist certificates"),
    "cpd_records": _l("Professional development"), "qualification_categories": _l("Qualification categories"),
    "hire_position": _l("Position"), "hire_specialty": _l("Specialty"), "hire_date": _l("Hire date"),
    "hire_fte": _l("FTE"), "hire_department": _l("Department"), "hire_order_number": _l("Order number"),
    "hire_concurrent": _l("Concurrent post (part-time, the other employment continues)"),
    "updated_at": _l("Last updated"), "confirmed_at": _l("Confirmed as current"),
}
CONCURRENT = _l("Concurrent post (part-time, the other employment continues)")
CONCURRENT_HELP = _l("Tick it when the worker keeps a current employment in another organization; "
                     "otherwise that organization is asked to end its episode (a transfer).")
PERSONAL = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place", "citizenship",
            "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued", "id_doc_expires",
            "residence_address", "registration_place", "registration_date", "email", "phone", "locale")
INLINES = ("education_documents", "certificates", "cpd_records", "qualification_categories")
HIRE_FIELDS = ("hire_position", "hire_specialty", "hire_date", "hire_fte", "hire_department", "hire_order_number",
               "hire_concurrent")
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
        for name in ("birth_date", "sex"):  # under the field they concern, once that field is validated
            if name in errors:
                later_error(form, name, errors[name])
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

def _regions():
    """The regions by name in the reader's language, in its alphabet's order."""
    rows = db.session.execute(select(AdminUnit).where(AdminUnit.level == 1)).scalars()
    return sorted_options((r.id, r.name) for r in rows)


def _ref_options(model_name):
    return reference_options(getattr(ref, model_name))


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
        WorkerClauseFilter(_l("Region"), search.by_region, options=lazy_options(_regions)),
        WorkerClauseFilter(_l("District"), search.by_district, options=district_options()),
        WorkerClauseFilter(_l("Specialty"), search.by_specialty, options=_ref_options("Specialty")),
        WorkerClauseFilter(_l("Position"), search.by_position, options=_ref_options("Position")),
        WorkerClauseFilter(_l("Status"), lambda v: Worker.status == v, options=STATUS_CHOICES),
        WorkerClauseFilter(_l("Certificate status"), search.certificate_status_clause,
                           options=lazy_options(_cert_status_choices)),
    ]


def _position_query():
    return db.session.query(Position).filter(Position.is_active.is_(True)).order_by(Position.code)


def _specialty_query():
    return db.session.query(Specialty).filter(Specialty.is_active.is_(True)).order_by(Specialty.code)


def _ground_query():
    return db.session.query(LabourCodeGround).filter(LabourCodeGround.is_active.is_(True)) \
        .order_by(LabourCodeGround.id)


def end_category_choices():
    return [(k, v) for k, v in END_CATEGORY_LABELS.items()]


class EndEmploymentForm(PanelForm):
    """The last day of the employment in the actor's organization, the Labour Code ground and where the
    worker goes (issue 20.6: two fields)."""

    end_date = LocalDateField(_l("End date"), validators=[DataRequired()], default=clock.today)
    end_ground = QuerySelectField(_l("Labour Code ground"), query_factory=_ground_query,
                                  validators=[DataRequired()])
    end_category = SelectField(_l("Category of leaving"), choices=end_category_choices,
                               validators=[DataRequired()])


class ReasonForm(PanelForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class HireRegisteredForm(PanelForm):
    """Hire a worker who is already in the register: identified by IIN, surname and date of birth
    (all three from the identity document), then the new episode in the actor's organization."""

    iin = StringField(_l("IIN"), validators=[DataRequired()])
    surname = StringField(_l("Surname"), validators=[DataRequired()])
    birth_date = LocalDateField(_l("Date of birth"), validators=[DataRequired()])
    position = QuerySelectField(_l("Position"), query_factory=_position_query,
                                validators=[DataRequired()])
    specialty = QuerySelectField(_l("Specialty"), query_factory=_specialty_query, allow_blank=True,
                                 blank_text="—")
    hire_date = LocalDateField(_l("Hire date"), validators=[DataRequired()], default=clock.today)
    fte = DecimalField(_l("FTE"), default=1, places=2, validators=[Optional(), NumberRange(min=0.01, max=2)])
    department = StringField(_l("Department"), validators=[Optional()])
    order_number = StringField(_l("Order number"), validators=[Optional()])
    concurrent = BooleanField(CONCURRENT, description=CONCURRENT_HELP)


def worker_block_reasons(worker, today=None) -> list[str]:
    """``block_reasons`` of the worker, once per request (the card asks for them three times: its
    status cell, its status sentence and its certificates tab)."""
    today = today or clock.today()
    return request_memo(("block_reasons", worker.id, today), lambda: block_reasons(worker, today))


def status_sentence(worker, today=None) -> str:
    """The worker's status in words (rule 14.5): "Blocked since 01.12.2026: <post>: certificate № …
    expired on 30.11.2026", each blocked post with its certificate (``block_reasons``); never the stored
    reason code. Empty for a worker who is not blocked (no "blocked at" next to Active)."""
    if worker.status != "blocked":
        return ""
    since = fmt_date(worker.blocked_at) if worker.blocked_at else "—"
    lines = worker_block_reasons(worker, today)
    if lines:
        return _("Blocked since %(date)s: %(reasons)s", date=since, reasons="; ".join(lines))
    if worker.blocked_reason == "certificate_expired":
        return _("Blocked since %(date)s: no valid specialist certificate.", date=since)
    return _("Blocked since %(date)s by the register.", date=since)


def _status_detail(view, context, model, name):
    """The worker page's status: the badge, and for a blocked worker why and since when."""
    sentence = status_sentence(model)
    return Markup("{} {}").format(blocked_badge(view, context, model, name), sentence) if sentence \
        else blocked_badge(view, context, model, name)


class WorkerView(ScopedModelView):
    list_template = "workers/list.html"  # adds "Hire a registered worker" to the list's tabs
    details_template = "workers/details.html"
    edit_template = "workers/edit.html"
    create_template = "workers/create.html"  # the IIN fills birth date and sex (workers/_iin_fill.html)
    column_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "status")
    column_details_list = ("iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place",
                           "citizenship", "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued",
                           "id_doc_expires", "residence_address", "registration_place", "registration_date",
                           "email", "phone", "status", "updated_at", "confirmed_at")
    column_export_list = tuple(col.key for col, *_ in worker_exports.COLUMNS)
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
    # the card's status explains itself (``status_sentence``); the list keeps the badge
    column_formatters_detail = {**column_formatters, "status": _status_detail}
    # the list's export and ``profreg export workers`` have the same columns, labels and cells
    # (``workers/exports.py``): sex and status in the reader's language
    column_formatters_export = {"status": lambda v, c, m, n: worker_exports.labels()["status"].get(m.status, m.status),
                                "sex": lambda v, c, m, n: worker_exports.labels()["sex"].get(m.sex, m.sex)}
    form_create_rules = (HiddenTag(), rules.Header(_l("Personal data")), *PERSONAL,
                         rules.Header(_l("Employment in your organization")), *HIRE_FIELDS,
                         *INLINES)
    form_edit_rules = (HiddenTag(), rules.Header(_l("Personal data")), *PERSONAL, *INLINES)

    def get_export_columns(self):
        return [(col.key, str(label)) for col, label, *_ in worker_exports.COLUMNS]

    def dataset_export(self, path, export_type, statement) -> int:
        """The list's export is the register's own (``profreg export workers``): the same file, limited
        to the list's workers (scope, search, filters); on PostgreSQL the database renders it."""
        return worker_exports.export(str(path), export_type, ids=statement)

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
            hire_specialty = QuerySelectField(_l("Specialty"), query_factory=_specialty_query, allow_blank=True,
                                              blank_text="—")
            hire_date = LocalDateField(_l("Hire date"), validators=[DataRequired()], default=clock.today)
            hire_fte = DecimalField(_l("FTE"), default=1, places=2,
                                    validators=[Optional(), NumberRange(min=0.01, max=2)])
            hire_department = StringField(_l("Department"), validators=[Optional()])
            hire_order_number = StringField(_l("Order number"), validators=[Optional()])
            hire_concurrent = BooleanField(CONCURRENT, description=CONCURRENT_HELP)

        for name in ENTRY_FIELDS:  # the asterisk of a required field on the Create form only
            unbound = getattr(base, name, None)
            if unbound is not None:
                kwargs = {**unbound.kwargs, "validators": [*unbound.kwargs.get("validators", ()), RequiredAtEntry()]}
                setattr(CreateForm, name, unbound.field_class(*unbound.args, **kwargs))
        return CreateForm

    # after Create / Save: the worker's page, with a message that names the worker (not Flask-Admin's
    # "Record was successfully created.")
    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        g.profreg_saved_worker = (model, is_created)

    def _name_the_worker(self):
        saved = g.pop("profreg_saved_worker", None)
        if saved is None:
            return
        model, created = saved
        generic = admin_gettext("Record was successfully created." if created else "Record was successfully saved.")
        session["_flashes"] = [f for f in session.get("_flashes", []) if f[1] != generic]
        flash(_("Worker %(name)s registered.", name=model.short_name) if created
              else _("Worker %(name)s saved.", name=model.short_name), "success")

    def create_form(self, obj=None):
        """Opened from a worklist item (the reconciliation's "open the hire form" for a contract not
        entered), the form starts with the contract's IIN, start date and position."""
        form = super().create_form(obj)
        prefill(form, ("iin", "hire_date"))
        if request.method == "GET" and request.args.get("position") and hasattr(form, "hire_position"):
            prefill_position(form.hire_position, request.args["position"])
        return form

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        response = super().create_view()
        self._name_the_worker()
        return response

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        response = super().edit_view()
        self._name_the_worker()
        return response

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
                            order_number=form.hire_order_number.data or None,
                            concurrent=bool(form.hire_concurrent.data))
        else:
            sent = (form.lock_version.data or "").strip() if hasattr(form, "lock_version") else ""
            if sent and sent != str(model.version):
                raise StaleDataError("version mismatch")
        super().on_model_change(form, model, is_created)

    # Nobody deletes a worker (docs/integrity.md): an organization ends its employment, the ministry
    # annuls a record entered by mistake (and restores it).
    def get_list_row_actions(self):
        actions = list(super().get_list_row_actions())
        if access.can(current_user, "employment", access.END):
            actions.append(EndpointLinkRowAction("fa fa-sign-out", ".end_view", title=_l("End employment")))
        return actions

    @action("end_employment", _l("End employment"))
    def action_end_employment(self, ids):
        clean = ",".join(str(int(i)) for i in ids if str(i).isdigit())
        return redirect(url_for(".end_view", ids=clean))

    def is_action_allowed(self, name):
        if name == "end_employment":
            return access.can(current_user, "employment", access.END)
        if name == "confirm":
            return self.can_confirm()
        return super().is_action_allowed(name)

    @expose("/end/", methods=("GET", "POST"))
    @access.requires("employment", access.END)
    def end_view(self):
        raw = request.values.get("ids") or request.values.get("id") or ""
        workers = [self.get_one(i) for i in raw.split(",") if i.strip()]  # 404 outside the scope
        if not workers:
            abort(404)
        form = EndEmploymentForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                for worker in workers:
                    end_employment(worker, current_user, form.end_date.data, form.end_ground.data,
                                   form.end_category.data)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(ngettext("The employment of %(num)d worker in your organization was ended.",
                               "The employment of %(num)d workers in your organization was ended.",
                               len(workers)), "success")
                return redirect(url_for(".index_view"))
        return self.render("workers/end.html", form=form, workers=workers, ids=raw)

    @expose("/annul/", methods=("GET", "POST"))
    @access.requires("worker", access.ANNUL)
    def annul_view(self):
        worker = self.get_one(request.values.get("id"))
        restoring = worker.annulled_at is not None
        form = ReasonForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                (restore_worker if restoring else annul_worker)(worker, form.reason.data, current_user)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("The record was restored.") if restoring else
                      _("The record was annulled: it is out of every list and report, and can be restored."),
                      "success")
                return redirect(url_for(".details_view", id=worker.id) if restoring else url_for(".annulled_view"))
        return self.render("workers/annul.html", form=form, worker=worker, restoring=restoring)

    @expose("/annulled/")
    @access.requires("worker", access.ANNUL)
    def annulled_view(self):
        rows = db.session.execute(
            access.scoped(select(Worker).where(Worker.annulled_at.is_not(None)), Worker, current_user)
            .order_by(Worker.annulled_at.desc(), Worker.id.desc()).limit(500)).scalars().all()
        return self.render("workers/annulled.html", rows=rows)

    def can_annul(self) -> bool:
        return access.can(current_user, "worker", access.ANNUL)

    # rule 13: HR confirms that a record is current (the worker page's button, the list's bulk action)
    def can_confirm(self) -> bool:
        return current_user.is_authenticated and access.can(current_user, self.resource, access.CONFIRM)

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
        prefill(form, ("iin", "hire_date"))  # a contract not entered (the reconciliation's worklist)
        if request.method == "GET" and request.args.get("position"):
            prefill_position(form.position, request.args["position"])
        if request.method == "POST" and form.validate():
            try:
                worker, _episode = hire_registered(
                    iin=form.iin.data, surname=form.surname.data, birth_date=form.birth_date.data,
                    actor=current_user, position=form.position.data, hire_date=form.hire_date.data,
                    specialty=form.specialty.data, fte=form.fte.data, department=form.department.data or None,
                    order_number=form.order_number.data or None, concurrent=bool(form.concurrent.data))
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
        if template in (self.create_template, self.edit_template):
            kwargs["iin_rule"] = iin_rule()
        if template in (self.details_template, self.edit_template) and kwargs.get("model") is not None:
            worker = kwargs["model"]
            if template == self.details_template:  # the card reads the rows of its open tab only
                kwargs["active_tab"] = self._open_tab()
                kwargs["related"] = related_records(worker, current_user, tab=kwargs["active_tab"])
            else:
                kwargs["related"] = related_records(worker, current_user, edit_page=True)
            kwargs["today"] = clock.today()
            shown = next((rows for section, rows, _older in kwargs["related"] if section.model is Employment), None)
            kwargs["can_end"] = access.can(current_user, "employment", access.END) and any(
                e.organization_id == current_user.organization_id and e.current_on(kwargs["today"])
                for e in (worker.employments if shown is None else shown))  # the page's rows: no second read
            kwargs["can_annul"] = access.can(current_user, "worker", access.ANNUL)
            kwargs["pending_transfers"] = pending_transfer_ids(
                e.id for section, rows, _older in kwargs["related"] if section.model is Employment for e in rows)
            kwargs["record_page"] = RecordPage(current_user, kwargs["related"])
            kwargs["block_reasons"] = worker_block_reasons(worker, kwargs["today"]) if worker.is_blocked else []
            if template == self.details_template:  # the card: its tabs, its history
                self._card(worker, kwargs)
        return super().render(template, **kwargs)


    # the worker card (workers/details.html): identity, the record tabs every domain declares, history
    def _open_tab(self) -> str:
        """The card's open tab: ``?tab=`` when it names one the reader may see, else identity."""
        wanted = request.args.get("tab")
        keys = {"identity", "history", *(section.tab for section in visible_sections(current_user))}
        return wanted if wanted in keys else "identity"

    def _card(self, worker, kwargs):
        """The card's tab bar and its open tab. A tab is a link that opens the card on it: only the
        open tab's rows (or history) are read and rendered, so the card costs about one details
        page whatever the worker's record holds (docs/performance.md)."""
        def card_url(tab):
            return url_for(".details_view", id=worker.id, tab=tab)

        kwargs["card_tabs"] = card_tabs(visible_sections(current_user), kwargs["related"], worker, card_url)
        kwargs["card_url"] = card_url
        kwargs["status_sentence"] = status_sentence(worker, kwargs["today"])
        # who changed what and when: every write on the worker's record and his rows the reader may see
        # (access.worker_history_scoped), described as the audit list describes it (one source)
        opened = kwargs["active_tab"] == "history"
        kwargs["history"] = worker_history(worker, current_user, actions=CARD_HISTORY_ACTIONS) if opened else None
        kwargs["history_changes"] = describe_changes(kwargs["history"]) if opened else {}
        kwargs["history_tables"] = table_labels()
        kwargs["history_actions"] = ACTION_LABELS
        kwargs["history_detail"] = detail_label
        kwargs["audit_url"] = (url_for("audit.index_view", search=worker.iin)
                               if access.can(current_user, "audit", access.LIST) else None)


#: The audit entries the worker card's history shows: writes, not reads (views, exports, downloads).
CARD_HISTORY_ACTIONS = ("create", "update", "delete", "block", "unblock", "confirm")


def pending_badge(pending: bool):
    """The "pending transfer" mark of an episode another organization's hire is waiting on."""
    if not pending:
        return ""
    return Markup('<span class="badge badge-warning" title="{}">{}</span>').format(
        _("Another organization has hired this worker: end this episode."), _("pending transfer"))


def prefill_position(field_, text: str) -> None:
    """A position written as text (a labour contract's) chosen in the form when it names one of the
    field's positions in any language."""
    wanted = (text or "").strip().casefold()
    for _pk, obj in field_._get_object_list():
        if wanted and wanted in {(n or "").strip().casefold() for n in (obj.name_kk, obj.name_ru, obj.name_en, obj.code)}:
            field_.data = obj
            return


def _category_clause(value, _today):
    try:
        code = END_CATEGORIES[int(value) - 1]
    except (ValueError, IndexError):
        return None
    return Employment.end_category == code


def _end_category(view, context, model, name):
    """The analytic category of an ending by its name (never the stored code)."""
    label = END_CATEGORY_LABELS.get(model.end_category or "")
    return str(label) if label is not None else ""


def _pending_transfer(view, context, model, name):
    pending = g.get("profreg_pending_transfers")
    if pending is None:
        pending = pending_transfer_ids([model.id])
    return pending_badge(model.id in pending)


def _episode_state(value, today):
    """Current (``Employment.current_on``) or ended episodes."""
    if value == "current":
        return Employment.current_on(today)
    if value == "ended":
        return Employment.end_date < today
    return None


class EmploymentView(WorkerSearchMixin, ScopedModelView):
    column_list = ("worker", "worker.status", "organization", "organization.bin", "position", "specialty", "fte",
                   "hire_date", "end_date", "end_ground", "end_category", "pending_transfer")
    column_labels = {"worker": _l("Worker"), "organization": _l("Organization"), "position": _l("Position"),
                     "specialty": _l("Specialty"), "fte": _l("FTE"), "hire_date": _l("Hire date"),
                     "end_date": _l("End date"), "end_ground": _l("Labour Code ground"),
                     "end_category": _l("Category of leaving"),
                     "end_reason": _l("Reason for leaving (as entered before the split)"),
                     "department": _l("Department"), "order_number": _l("Order number"),
                     "entered_at": _l("Entered into the register"), "worker.status": _l("Status"),
                     "organization.bin": _l("BIN"), "concurrent": CONCURRENT, "pending_transfer": _l("Transfer")}
    column_details_list = ("worker", "worker.status", "organization", "organization.bin", "position",
                           "specialty", "department", "fte", "hire_date", "end_date", "end_ground", "end_category",
                           "end_reason", "order_number", "concurrent", "entered_at", "pending_transfer")
    column_export_list = ("worker", "worker.status", "organization", "organization.bin", "position", "specialty",
                          "fte", "hire_date", "end_date", "end_ground", "end_category")
    column_formatters = {"worker.status": blocked_badge, "pending_transfer": _pending_transfer,
                         "end_category": _end_category}
    column_formatters_export = {"worker.status": blocked_export, "end_category": _end_category}
    column_descriptions = {"concurrent": CONCURRENT_HELP}
    form_columns = ("worker", "organization", "position", "specialty", "department", "fte", "hire_date",
                    "end_date", "end_ground", "end_category", "order_number", "concurrent")
    form_choices = {"end_category": end_category_choices()}
    form_args = {"end_ground": {"query_factory": _ground_query}}
    form_ajax_refs = {"worker": worker_ajax_ref()}
    column_default_sort = ("hire_date", True)
    column_filters = [ReferenceFilter(Employment.position_id, _l("Position"), Position),
                      ReferenceFilter(Employment.specialty_id, _l("Specialty"), Specialty),
                      ClauseFilter(Employment.end_date, _l("Employment"), _episode_state,
                                   options=lambda: [("current", str(_l("Current"))), ("ended", str(_l("Ended")))]),
                      *date_range(Employment.hire_date, _l("Hire date")),
                      *date_range(Employment.end_date, _l("End date")),
                      ReferenceFilter(Employment.end_ground_id, _l("Labour Code ground"), LabourCodeGround),
                      # the options' values are the categories' positions: a stored code never reaches a page
                      ClauseFilter(Employment.end_category, _l("Category of leaving"), _category_clause,
                                   options=lazy_options(lambda: sorted_options(
                                       (str(i), label) for i, (_k, label) in enumerate(end_category_choices(), 1)))),
                      ReferenceFilter(Employment.end_reason_id, _l("Reason for leaving (as entered before the split)"),
                                      EmploymentEndReason)]

    actor_organization_field = "organization"

    def on_model_change(self, form, model, is_created):
        self.set_actor_organization(model, is_created)
        errors = employment_errors(birth_date=model.worker.birth_date if model.worker else None,
                                   hire_date=model.hire_date, end_date=model.end_date)
        errors.update(episode_ending_errors(model))
        if errors:
            raise InvalidInput(errors)
        if model.worker is not None and (is_created or _post_changed(model)):
            check_new_employment(model.worker, model.position, model.specialty, hire_date=model.hire_date)
        concurrent_changed = inspect(model).attrs.concurrent.history.has_changes()
        super().on_model_change(form, model, is_created)
        # a hire of a worker held elsewhere opens a transfer (unless concurrent)
        episode_saved(model, created=is_created, concurrent_changed=concurrent_changed)

    def list_rows(self, data, list_columns, keep_models=False):
        # the page's episodes waiting on a transfer, in one query (the "Transfer" column)
        g.profreg_pending_transfers = pending_transfer_ids(m.id for m in data)
        return super().list_rows(data, list_columns, keep_models)


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
    register_worker_pages(admin, cat)  # transfers, departed workers (workers/views.py)


__all__ = ["EmploymentView", "WorkerView", "worker_filters"]
