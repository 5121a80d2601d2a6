"""Custom panel views: advanced-training lists (rule 14.3) and the associations' CPD assessment (rule 4.5).

Thin: every rule and every permission check lives in ``services``; the views parse forms, call a
service, commit once and redirect. A list outside the user's scope answers 404, a missing right 403.
"""
from __future__ import annotations

from dataclasses import astuple

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from .. import access, clock
from ..admin import app_kept_seconds
from ..admin.base import ProtectedBaseView, page_arg
from ..audit.services import log_export
from ..auth.models import User
from ..errors import DomainError
from ..exports import send_tempfile
from ..extensions import db
from ..i18n import current_lang
from ..memo import Memo
from ..orgs.models import Organization
from ..reference.models import AdminUnit, Specialty, TrainingActivityType
from ..uow import show_error
from ..workers.models import sort_key
from . import exports, services
from .forms import AddForm, BuildForm, CompleteForm, RemoveForm
from .models import CpdRecord, TrainingList, TrainingListItem

PER_PAGE = 50

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _can(action: str, resource: str = "training_list") -> bool:
    return access.can(current_user, resource, action)


def _send_tmp(suffix: str, writer, download_name: str):
    return send_tempfile(writer, f".{suffix}", download_name)


def _log_export(model, fmt: str, detail: str) -> None:
    """Read-log entry for an export (audit domain), committed with the request."""
    log_export(model, current_user, fmt, detail)


class TrainingListView(ProtectedBaseView):
    """Lists of employees for advanced training: build by rules, draft, edit, approve, complete, export."""

    resource = "training_list"

    def _list(self, list_id) -> TrainingList:
        lst = services.get_list(current_user, list_id)
        if lst is None:
            abort(404)
        return lst

    @expose("/")
    def index(self):
        page = page_arg()
        base = services.lists_query(current_user)
        total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar()
        counts = (select(TrainingListItem.list_id, func.count().label("n"))
                  .where(TrainingListItem.removed.is_(False)).group_by(TrainingListItem.list_id).subquery())
        q = (select(TrainingList, Organization, func.coalesce(counts.c.n, 0))
             .join(Organization, Organization.id == TrainingList.organization_id)
             .outerjoin(counts, counts.c.list_id == TrainingList.id)
             .where(TrainingList.id.in_(select(base.subquery().c.id)))
             .order_by(TrainingList.period.desc(), Organization.name_ru, TrainingList.id)
             .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
        rows = db.session.execute(q).all()
        return self.render("training/lists.html", rows=rows, page=page, total=total, per_page=PER_PAGE,
                           can_create=_can(access.CREATE) and current_user.organization_id is not None)

    @expose("/new", methods=("GET", "POST"))
    @access.requires("training_list", access.CREATE)
    def build(self):
        org_id = current_user.organization_id
        if org_id is None:
            abort(403)
        form = BuildForm()
        positions, specialties, departments = services.organization_choices(org_id)
        form.position_id.choices = [("", _("All"))] + [(i, n) for i, n in positions]
        form.specialty_id.choices = [("", _("All"))] + [(i, n) for i, n in specialties]
        form.department.choices = [("", _("All"))] + [(d, d) for d in departments]
        candidates, names = None, None
        if form.validate_on_submit():
            rules = services.Rules(
                cert_expiring=form.cert_expiring.data, cert_months=form.cert_months.data,
                include_expired=form.include_expired.data, cpd_deficit=form.cpd_deficit.data,
                cpd_pro_rata=form.cpd_pro_rata.data, no_training=form.no_training.data,
                no_training_years=form.no_training_years.data, new_role=form.new_role.data,
                new_role_months=form.new_role_months.data)
            filters = services.Filters(position_id=form.position_id.data, specialty_id=form.specialty_id.data,
                                       department=form.department.data or None)
            try:
                if "save" in request.form:
                    lst = services.create_draft(org_id, form.period.data, rules, filters, current_user)
                    flash(_("The list was saved as a draft."), "success")
                    return redirect(url_for(".details", list_id=lst.id))
                services.parse_period(form.period.data)
                candidates = services.build_candidates(org_id, rules, filters)
                names = services.reference_names()
            except DomainError as exc:
                show_error(exc, form)
        return self.render("training/build.html", form=form, candidates=candidates, names=names,
                           reasons_text=services.reasons_text)

    @expose("/<int:list_id>/")
    def details(self, list_id):
        lst = self._list(list_id)
        names = services.reference_names()
        draft = lst.status == "draft"
        return self.render(
            "training/detail.html", lst=lst, names=names, reasons_text=services.reasons_text,
            totals=services.training_totals(lst), add_form=AddForm(), remove_form=RemoveForm(),
            can_edit=draft and _can(access.EDIT), can_approve=draft and _can(access.APPROVE),
            can_delete=draft and _can(access.DELETE), can_complete=not draft and _can(access.EDIT),
            can_export=_can(access.EXPORT), formats=exports.FORMATS)

    def _run(self, lst, fn, ok_message):
        """One change of a list; the request commits it. A refused change writes nothing and its
        reason is shown on the list."""
        try:
            fn()
        except DomainError as exc:
            show_error(exc)
        else:
            flash(ok_message, "success")
        return redirect(url_for(".details", list_id=lst.id))

    @expose("/<int:list_id>/add", methods=("POST",))
    @access.requires("training_list", access.EDIT)
    def add(self, list_id):
        lst = self._list(list_id)
        form = AddForm()
        if not form.validate_on_submit():
            flash(_("Give the worker's IIN and the reason."), "error")
            return redirect(url_for(".details", list_id=lst.id))
        worker = services.find_staff_by_iin(lst.organization_id, form.iin.data)
        if worker is None:
            flash(_("No current employee of the organization with this IIN."), "error")
            return redirect(url_for(".details", list_id=lst.id))
        return self._run(lst, lambda: services.add_worker(lst, worker.id, form.note.data, current_user),
                         _("The worker was added to the list."))

    @expose("/<int:list_id>/remove/<int:item_id>", methods=("POST",))
    @access.requires("training_list", access.EDIT)
    def remove(self, list_id, item_id):
        lst = self._list(list_id)
        form = RemoveForm()
        if not form.validate_on_submit():
            flash(_("Give the reason for removing the worker."), "error")
            return redirect(url_for(".details", list_id=lst.id))
        return self._run(lst, lambda: services.remove_worker(lst, item_id, form.reason.data, current_user),
                         _("The worker was removed from the list."))

    @expose("/<int:list_id>/approve", methods=("POST",))
    @access.requires("training_list", access.APPROVE)
    def approve(self, list_id):
        lst = self._list(list_id)
        return self._run(lst, lambda: services.approve(lst, current_user), _("The list was approved."))

    @expose("/<int:list_id>/delete", methods=("POST",))
    @access.requires("training_list", access.DELETE)
    def delete(self, list_id):
        lst = self._list(list_id)
        try:
            services.delete_draft(lst, current_user)
        except DomainError as exc:
            show_error(exc)
            return redirect(url_for(".details", list_id=lst.id))
        flash(_("The draft was deleted."), "success")
        return redirect(url_for(".index"))

    @expose("/<int:list_id>/complete/<int:item_id>", methods=("GET", "POST"))
    @access.requires("training_list", access.EDIT)
    def complete(self, list_id, item_id):
        lst = self._list(list_id)
        item = next((i for i in lst.items if i.id == item_id), None)
        if item is None:
            abort(404)
        form = CompleteForm()
        form.activity_type_id.choices = [
            (i, n) for i, n in db.session.execute(
                select(TrainingActivityType.id, TrainingActivityType.name_column())
                .where(TrainingActivityType.is_active.is_(True))
                .order_by(TrainingActivityType.is_advanced_training.desc(), TrainingActivityType.id))]
        if request.method == "GET":
            form.end_date.data = clock.today()
        if form.validate_on_submit():
            data = services.Completion(
                activity_type_id=form.activity_type_id.data, provider=form.provider.data, topic=form.topic.data,
                start_date=form.start_date.data, end_date=form.end_date.data, hours=form.hours.data,
                credits=form.credits.data, certificate_number=form.certificate_number.data)
            try:
                services.complete_item(lst, item_id, data, current_user)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("Completion recorded; the CPD record was added to the worker."), "success")
                return redirect(url_for(".details", list_id=lst.id))
        return self.render("training/complete.html", lst=lst, item=item, form=form)

    @expose("/<int:list_id>/export/<fmt>")
    @access.requires("training_list", access.EXPORT)
    def export(self, list_id, fmt):
        lst = self._list(list_id)
        if fmt not in exports.FORMATS:
            abort(404)
        name = f"training_list_{lst.organization.bin}_{lst.period}.{fmt}"
        response = _send_tmp(fmt, lambda p: exports.write_list(lst, fmt, p), name)
        _log_export(TrainingList, fmt, f"list={lst.id} org={lst.organization.bin} period={lst.period}")
        return response


def _assessment_filters() -> services.AssessmentFilters:
    def as_int(name):
        try:
            return int(request.args.get(name) or 0) or None
        except ValueError:
            return None

    deficit = {"1": True, "0": False}.get(request.args.get("deficit", ""))
    return services.AssessmentFilters(region_id=as_int("region"), specialty_id=as_int("specialty"), deficit=deficit,
                                      search=(request.args.get("q") or "").strip()[:100])


_ASSESSMENT_PAGES = Memo("CPD assessment pages", "BIG_SCOPE_CACHE_SECONDS", max_keys=500, shared=True,
                         background=True)


class CpdAssessmentView(ProtectedBaseView):
    """Read-only CPD of the workers in the association's specialties across the country (IIN masked)."""

    resource = "cpd_assessment"

    @expose("/")
    def index(self):
        f = _assessment_filters()
        page = page_arg()
        # the whole country's certificates are ranked for each page (~0.9 s at 300,000 workers): a page
        # is kept BIG_SCOPE_CACHE_SECONDS per user, filters, language and day (the page says so)
        key = (current_user.id, astuple(f), page, current_lang(), clock.today())
        user_id = current_user.id  # (refreshed in a thread: the user is read again in its session)
        rows, total = _ASSESSMENT_PAGES.get(key, lambda: services.assessment_page(
            db.session.get(User, user_id), f, page=page, per_page=PER_PAGE))
        specs = services.assessment_specialties(current_user)
        sq = select(Specialty.id, Specialty.name_column())
        if specs is not None:
            sq = sq.where(Specialty.id.in_(specs))
        # by name in the reader's language, in its alphabet's order (the Kazakh one for kk)
        specialties = sorted(db.session.execute(sq).all(), key=lambda r: sort_key(r[1]) or "")
        regions = sorted(db.session.execute(select(AdminUnit.id, AdminUnit.name_column())
                                            .where(AdminUnit.level == 1)).all(), key=lambda r: sort_key(r[1]) or "")
        return self.render("training/assessment.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           filters=f, specialties=specialties, regions=regions,
                           spec_names=dict(specialties), can_export=_can(access.EXPORT, "cpd_assessment"),
                           kept_seconds=app_kept_seconds())

    @expose("/export.xlsx")
    @access.requires("cpd_assessment", access.EXPORT)
    def export(self):
        f = _assessment_filters()
        name = f"cpd_assessment_{clock.today():%Y%m%d}.xlsx"
        response = _send_tmp("xlsx", lambda p: exports.write_assessment(current_user, f, p), name)
        _log_export(CpdRecord, "xlsx", f"cpd_assessment region={f.region_id or ''} specialty={f.specialty_id or ''} "
                                       f"deficit={'' if f.deficit is None else int(f.deficit)}")
        return response


def register(admin) -> None:
    """Called from ``training.admin.register_views``."""
    admin.add_view(TrainingListView(name=_l("Advanced-training lists"), endpoint="training_lists",
                                    category=_l("Education and qualification")))
    admin.add_view(CpdAssessmentView(name=_l("CPD assessment"), endpoint="cpd_assessment",
                                     category=_l("Education and qualification")))
