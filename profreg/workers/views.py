"""Custom panel pages of the workers domain (thin: parse, call a service, show).

* **Transfers** (``/admin/transfers/``, resource ``transfer``): the transfers a user sees (scope
  ``between``: both organizations and the old one's region), filtered overdue / open / all; the region
  coordinator's worklist is the overdue ones. "End the episode" ends the old organization's episode
  (``services.end_transferred_episode``: the region once the due date has passed, the organization's
  own HR any time), with a reason.
* **Departed workers** (``/admin/departed/``, resource ``worker``): workers whose last episode has
  ended, as ``access.departed_select`` finds them for the user, searchable by IIN or surname; from
  there the corrections of rule 9 (personal data, an episode), each with a mandatory reason
  (``services.correct_departed_worker`` / ``correct_episode``, allowed by
  ``access.may_correct_departed``).
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import access, clock
from ..admin.base import PanelForm, ProtectedBaseView, page_arg
from ..admin.dateinput import LocalDateField
from ..admin.record_actions import describe_changes
from ..audit.models import AuditLog
from ..dates import add_months
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date
from ..reference.models import Country, IdentityDocumentType, LabourCodeGround, Position, Specialty
from ..uow import show_error
from .models import END_CATEGORY_LABELS, TRANSFER_CANCELLED, TRANSFER_ENDED, Employment, Transfer, Worker
from .search import search_clause
from .services import (
    EPISODE_FIELDS,
    PERSONAL_FIELDS,
    TRANSFER_VIEWS,
    correct_departed_worker,
    correct_episode,
    end_transferred_episode,
    may_end_transfer,
    transfer_list,
)

PAGE_SIZE = 50


def _id() -> int:
    try:
        return int(request.args.get("id", ""))
    except ValueError:
        abort(404)


class ReasonForm(PanelForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=255)])


# ------------------------------------------------------------------------------------------ transfers
def transfer_status(transfer, today) -> tuple[str, str]:
    """(label, badge class) of a transfer's state on ``today``."""
    if transfer.status == TRANSFER_ENDED:
        return _("ended"), "badge-secondary"
    if transfer.status == TRANSFER_CANCELLED:
        return _("cancelled"), "badge-light"
    if transfer.due_date < today:
        return _("overdue"), "badge-danger"
    return _("open"), "badge-warning"


class TransfersView(ProtectedBaseView):
    """Transfers between organizations; the region coordinator's worklist of overdue ones."""

    resource = "transfer"

    def _show(self) -> str:
        show = request.args.get("show", "open")
        return show if show in TRANSFER_VIEWS else "open"

    @expose("/")
    def index(self):
        today, show, page = clock.today(), self._show(), page_arg()
        q = transfer_list(current_user, show, today).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        rows = db.session.execute(q).scalars().all()
        items = [(t, transfer_status(t, today), may_end_transfer(current_user, t, today)) for t in rows[:PAGE_SIZE]]
        filters = [("overdue", _("Overdue")), ("open", _("Open")), ("all", _("All"))]
        return self.render("workers/transfers.html", items=items, show=show, filters=filters, page=page,
                           has_next=len(rows) > PAGE_SIZE, today=today)

    def _transfer(self) -> Transfer:
        transfer = db.session.execute(transfer_list(current_user, "all").where(Transfer.id == _id())).scalar()
        if transfer is None:
            abort(404)
        return transfer

    @expose("/end/", methods=("GET", "POST"))
    def end(self):
        access.require(current_user, "transfer", access.END)
        transfer = self._transfer()
        # only the old organization and its region act on a transfer (403 for the new one)
        access.require(current_user, "transfer", access.END, org_id=transfer.organization_id)
        form = ReasonForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                episode = end_transferred_episode(transfer, user=current_user, reason=form.reason.data)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("The episode of %(worker)s in %(organization)s was ended on %(date)s.",
                        worker=transfer.worker.full_name, organization=transfer.organization.name,
                        date=fmt_date(episode.end_date)), "success")
                return redirect(url_for(".index", show="overdue"))
        today = clock.today()
        return self.render("workers/transfer_end.html", transfer=transfer, form=form,
                           status=transfer_status(transfer, today),
                           allowed=may_end_transfer(current_user, transfer, today),
                           end_date=transfer.to_employment.hire_date - timedelta(days=1))


# ----------------------------------------------------------------------------------- departed workers
LABELS = {
    "iin": _l("IIN"), "surname": _l("Surname"), "name": _l("Name"), "patronymic": _l("Patronymic"),
    "sex": _l("Sex"), "birth_date": _l("Date of birth"), "birth_place": _l("Place of birth"),
    "citizenship": _l("Citizenship"), "id_doc_type": _l("Identity document"),
    "id_doc_number": _l("Document number"), "id_doc_issuer": _l("Issued by"),
    "id_doc_issued": _l("Date of issue"), "id_doc_expires": _l("Valid until"),
    "residence_address": _l("Place of residence"), "registration_place": _l("Place of registration"),
    "registration_date": _l("Date of registration"), "email": _l("E-mail"), "phone": _l("Phone"),
    "locale": _l("Language"),
}


def _active(model, current=None):
    """Active reference rows, plus the one the record holds now (it may have been retired since)."""
    def query():
        cond = model.is_active.is_(True)
        if current is not None:
            cond = or_(cond, model.id == current.id)
        return db.session.query(model).filter(cond).order_by(model.code)
    return query


class PersonalCorrectionForm(PanelForm):
    iin = StringField(LABELS["iin"], validators=[DataRequired(), Length(max=12)])
    surname = StringField(LABELS["surname"], validators=[DataRequired(), Length(max=100)])
    name = StringField(LABELS["name"], validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(LABELS["patronymic"], validators=[Optional(), Length(max=100)])
    sex = SelectField(LABELS["sex"], choices=[SelectChoice("M", _l("Male")), SelectChoice("F", _l("Female"))])
    birth_date = LocalDateField(LABELS["birth_date"], validators=[DataRequired()])
    birth_place = StringField(LABELS["birth_place"], validators=[DataRequired(), Length(max=255)])
    citizenship = QuerySelectField(LABELS["citizenship"], validators=[DataRequired()])
    id_doc_type = QuerySelectField(LABELS["id_doc_type"], allow_blank=True, blank_text="—")
    id_doc_number = StringField(LABELS["id_doc_number"], validators=[Optional(), Length(max=32)])
    id_doc_issuer = StringField(LABELS["id_doc_issuer"], validators=[Optional(), Length(max=255)])
    id_doc_issued = LocalDateField(LABELS["id_doc_issued"], validators=[Optional()])
    id_doc_expires = LocalDateField(LABELS["id_doc_expires"], validators=[Optional()])
    residence_address = StringField(LABELS["residence_address"], validators=[Optional(), Length(max=255)])
    registration_place = StringField(LABELS["registration_place"], validators=[Optional(), Length(max=255)])
    registration_date = LocalDateField(LABELS["registration_date"], validators=[Optional()])
    email = StringField(LABELS["email"], validators=[Optional(), Length(max=255)])
    phone = StringField(LABELS["phone"], validators=[Optional(), Length(max=32)])
    locale = SelectField(LABELS["locale"], choices=[SelectChoice("", "—"), SelectChoice("kk", "Қазақша"),
                                                      SelectChoice("ru", "Русский"), SelectChoice("en", "English")])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=255)])


class EpisodeCorrectionForm(PanelForm):
    position = QuerySelectField(_l("Position"), validators=[DataRequired()])
    specialty = QuerySelectField(_l("Specialty"), allow_blank=True, blank_text="—")
    department = StringField(_l("Department"), validators=[Optional(), Length(max=255)])
    fte = DecimalField(_l("FTE"), places=2, validators=[DataRequired(), NumberRange(min=0.01, max=2)])
    hire_date = LocalDateField(_l("Hire date"), validators=[DataRequired()])
    end_date = LocalDateField(_l("End date"), validators=[DataRequired()])
    end_ground = QuerySelectField(_l("Labour Code ground"), validators=[DataRequired()])
    end_category = SelectField(_l("Category of leaving"), validators=[DataRequired()],
                               choices=lambda: [SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in
                                                                          END_CATEGORY_LABELS.items()])
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=64)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=255)])


def _form_labels(*forms) -> dict:
    """Field name → label of the correction forms: the history table shows labels, never column names."""
    out = {}
    for form in forms:
        for name in dir(form):
            unbound = getattr(form, name, None)
            if isinstance(unbound, UnboundField) and name != "reason" and unbound.args:
                out[name] = unbound.args[0]
    return out


#: Labels of the columns the history of a departed worker's record shows (audit entries' changes).
HISTORY_LABELS = {**_form_labels(PersonalCorrectionForm, EpisodeCorrectionForm),
                  "organization": _l("Organization"), "is_main": _l("Main post"),
                  "blocked_at": _l("Blocked at"), "status": _l("Status"), "blocked_reason": _l("Reason for blocking")}


def _value(field):
    data = field.data
    if isinstance(data, str):
        data = data.strip()
        return data or None
    return data


def _changes(form, obj, names) -> dict:
    """The fields whose submitted value differs from the record's (empty text = no value)."""
    out = {}
    for name in names:
        value = _value(getattr(form, name))
        if value != getattr(obj, name):
            out[name] = value
    return out


def worker_history(worker, user, limit: int = 50, actions=("update",)) -> list:
    """The corrections and other changes of the worker's record ``user`` may read
    (``access.worker_history_scoped``: the audit trail's readers in their scope, an organization's HR
    for a worker it employs), newest first: the departed-worker correction page and the worker page
    show them (``workers/_history.html``)."""
    q = access.worker_history_scoped(select(AuditLog), worker, user).where(AuditLog.worker_id == worker.id,
                                                                          AuditLog.action.in_(actions))
    return db.session.execute(q.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)).scalars().all()


class DepartedWorkersView(ProtectedBaseView):
    """Departed workers (no current episode) and the corrections of rule 9."""

    resource = "worker"

    @expose("/")
    def index(self):
        today, page = clock.today(), page_arg()
        term = (request.args.get("q") or "").strip()
        q = access.departed_select(current_user, today)
        for word in term.split():
            q = q.where(search_clause(word))
        q = q.order_by(Employment.end_date.desc(), Worker.id.desc()).limit(PAGE_SIZE + 1).offset(
            (page - 1) * PAGE_SIZE)
        rows = db.session.execute(q).all()
        months = self._months()
        window = (access.correction_window_start(today) if access.can(current_user, "worker", access.CORRECT)
                  and getattr(current_user, "organization_id", None) else None)
        items = [(w, e, add_months(e.end_date, months) if window else None) for w, e in rows[:PAGE_SIZE]]
        return self.render("workers/departed.html", items=items, q=term, page=page, has_next=len(rows) > PAGE_SIZE,
                           months=months, masked=access.mask_for(current_user),
                           can_correct_worker=access.can(current_user, "worker", access.CORRECT),
                           can_correct_episode=access.can(current_user, "employment", access.CORRECT))

    @staticmethod
    def _months() -> int:
        return int(current_app.config.get("CORRECTION_MONTHS_AFTER_END", 12))

    def _history(self, worker):
        return worker_history(worker, current_user)

    def _worker(self) -> Worker:
        worker = db.session.get(Worker, _id())
        if worker is None or not access.may_correct_departed(current_user, worker):
            abort(404)
        return worker

    @expose("/worker/", methods=("GET", "POST"))
    def correct_worker(self):
        worker = self._worker()
        form = PersonalCorrectionForm(request.form if request.method == "POST" else None,
                                      obj=worker if request.method == "GET" else None)
        form.citizenship.query_factory = _active(Country, worker.citizenship)
        form.id_doc_type.query_factory = _active(IdentityDocumentType, worker.id_doc_type)
        if request.method == "GET":
            form.locale.data = worker.locale or ""
        if request.method == "POST" and form.validate():
            try:
                correct_departed_worker(worker, user=current_user, changes=_changes(form, worker, PERSONAL_FIELDS),
                                        reason=form.reason.data)
            except DomainError as exc:
                show_error(exc, form)
                worker = db.session.get(Worker, worker.id)
            else:
                flash(_("The correction was saved with its reason."), "success")
                return redirect(url_for(".correct_worker", id=worker.id))
        history = self._history(worker)
        return self.render("workers/correct_worker.html", worker=worker, form=form, history=history,
                           history_changes=describe_changes(history, HISTORY_LABELS),
                           episodes=sorted(worker.employments, key=lambda e: (e.hire_date, e.id)),
                           can_correct_episode=access.can(current_user, "employment", access.CORRECT))

    @expose("/episode/", methods=("GET", "POST"))
    def correct_episode(self):
        episode = db.session.get(Employment, _id())
        if episode is None or not access.may_correct_departed(current_user, episode.worker, episode=episode):
            abort(404)
        form = EpisodeCorrectionForm(request.form if request.method == "POST" else None,
                                     obj=episode if request.method == "GET" else None)
        form.position.query_factory = _active(Position, episode.position)
        form.specialty.query_factory = _active(Specialty, episode.specialty)
        form.end_ground.query_factory = _active(LabourCodeGround, episode.end_ground)
        if request.method == "POST" and form.validate():
            try:
                correct_episode(episode, user=current_user, changes=_changes(form, episode, EPISODE_FIELDS),
                                reason=form.reason.data)
            except DomainError as exc:
                show_error(exc, form)
                episode = db.session.get(Employment, episode.id)
            else:
                flash(_("The correction was saved with its reason."), "success")
                return redirect(url_for(".correct_worker", id=episode.worker_id))
        return self.render("workers/correct_episode.html", episode=episode, worker=episode.worker, form=form)


def register_worker_pages(admin, category) -> None:
    admin.add_view(TransfersView(name=_l("Transfers"), endpoint="transfers", url="/admin/transfers",
                                 category=category))
    admin.add_view(DepartedWorkersView(name=_l("Departed workers"), endpoint="departed", url="/admin/departed",
                                       category=category))


__all__ = ["DepartedWorkersView", "TransfersView", "register_worker_pages", "transfer_status"]
