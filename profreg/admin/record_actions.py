"""Corrections and annulments of worker records in the panel (docs/integrity.md): one mixin for every
view over a ``WorkerRecord`` model (certificates, education documents, degrees, titles, qualification
categories, publications, CPD records, personnel documents), and the worker page's history.

* ``RecordActionsMixin`` adds to the view ``/correct/?id=N`` (the view's form with the record's
  values, without the worker: a correction never moves a record to another worker, plus a required
  reason; ``workers.records.correct``), ``/annul/?id=N`` and ``/restore/?id=N`` (a reason;
  ``records.annul`` / ``records.restore``), and the list's row actions "Correct" and "Annul" on the rows
  the user may correct (``access.correctable_ids``: in memory, one query per page for a region).
  Every route reads the record through the view's scoped ``get_one`` (404 outside the scope), posts
  with the CSRF token (``PanelForm``), and refuses with 403 and the reason of the refusal.
* ``RecordPage`` is what the worker page's sections need: the row links and, for who may see it
  (``access.may_see_record_history``), the superseded versions ("corrected on D by X: reason", with
  what changed, by field label) and the annulled entries (reason, and "Restore" for who may restore).
* ``describe_changes`` shows an audit entry's changes with field labels and names, never the raw
  column names and ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.model.template import BaseListRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ColumnProperty, RelationshipProperty
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access
from ..audit.models import AuditLog
from ..auth.models import User
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..i18n import fmt_date, fmt_datetime
from ..uow import discard, show_error
from ..workers import records
from ..workers.models import WorkerRecord
from .base import PanelForm

REASON = _l("Reason")
#: The view of each record model (its correction pages): filled when the views are built.
RECORD_VIEWS: dict[type, object] = {}


class RecordReasonForm(PanelForm):
    reason = TextAreaField(REASON, validators=[DataRequired(), Length(max=500)])


def _user_name(user) -> str:
    return (user.full_name or user.email) if user is not None else _("system")


def display(value, choices: dict | None = None) -> str:
    """A stored value as the page shows it: dates in the reader's locale, related rows by name."""
    if value is None or value == "":
        return "—"
    if choices and value in choices:
        return str(choices[value])
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class RecordRowAction(BaseListRowAction):
    """A row action of the list shown only on the rows the user may correct (``may_correct_row``);
    rendered per row (the list page does so for row actions that depend on more than the id)."""

    def __init__(self, icon_class: str, action: str, title):
        super().__init__(title=title)
        self.icon_class, self.action = icon_class, action

    def render(self, context, row_id, row):
        view = context.get("admin_view")
        if row is None or view is None or not view.may_correct_row(row):
            return ""
        link = self._resolve_symbol(context, "row_actions.link")
        return link(self, url_for(f".{self.action}_view", id=row_id))


class RecordActionsMixin:
    """Correct / annul / restore a worker record (see the module docstring). Put it before
    ``ScopedModelView`` in the bases."""

    #: Form fields a correction never shows: the worker (a record stays with its worker) and a file
    #: (a corrected personnel document keeps its stored file).
    record_form_exclude = ("worker", "file")
    record_template = "profreg/record_action.html"

    def __init__(self, model, *args, **kwargs):
        super().__init__(model, *args, **kwargs)
        RECORD_VIEWS[model] = self

    # -------------------------------------------------------------------------------- list
    def get_list_row_actions(self):
        actions = list(super().get_list_row_actions())
        if access.can(current_user, self.resource, access.CORRECT):
            actions.append(RecordRowAction("fa fa-pencil-square-o", "correct", _l("Correct")))
        if access.can(current_user, self.resource, access.ANNUL):
            actions.append(RecordRowAction("fa fa-ban", "annul", _l("Annul")))
        return actions

    def render(self, template, **kwargs):
        if template == self.list_template and kwargs.get("data") is not None:
            # per request (the view object is shared by every request): the rows of this page the
            # user may correct, one query at most
            g.setdefault("profreg_correctable", {})[self.endpoint] = (
                access.correctable_ids(current_user, list(kwargs["data"]))
                if access.can(current_user, self.resource, access.CORRECT) else set())
        return super().render(template, **kwargs)

    def may_correct_row(self, row) -> bool:
        return row.id in g.get("profreg_correctable", {}).get(self.endpoint, ())

    # --------------------------------------------------------------------------- the pages
    def record_columns(self) -> list[tuple[str, object]]:
        """(field, label) of the record's own data, as the view's form has them."""
        labels = self.column_labels or {}
        return [(c, labels.get(c, c)) for c in (self.form_columns or ()) if c not in self.record_form_exclude]

    def record_summary(self, rec) -> list[tuple[object, str]]:
        choices = {k: dict(v) for k, v in (self.form_choices or {}).items()}
        return [(label, display(getattr(rec, name, None), choices.get(name))) for name, label in self.record_columns()]

    def _record(self, action: str):
        rec = self.get_one(request.values.get("id"))  # 404 outside the user's scope
        if not access.can(current_user, self.resource, action):
            abort(403)
        return rec

    def _refused(self, rec, message, form=None, mode="correct"):
        flash(str(message), "error")
        return self._page(rec, form, mode), 403

    def _page(self, rec, form, mode):
        return self.render(self.record_template, record=rec, form=form, mode=mode,
                           summary=self.record_summary(rec), worker=rec.worker,
                           fields=[f for f in form if f.name not in ("csrf_token", "reason")] if form else [])

    def _done(self, rec, message):
        flash(message, "success")
        return redirect(url_for("workers.details_view", id=rec.worker_id))

    def correction_form_class(self):
        base = self._edit_form_class

        class CorrectionForm(base):
            reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=500)])

        for name in self.record_form_exclude:
            setattr(CorrectionForm, name, None)  # WTForms: a field set to None is left out
        return CorrectionForm

    def record_changes(self, form, rec) -> dict:
        """Column → new value of the fields whose submitted value differs from the record's."""
        mapper = inspect(self.model)
        out = {}
        for f in form:
            if f.name in ("csrf_token", "reason") or f.name not in mapper.attrs:
                continue
            prop = mapper.attrs[f.name]
            value = f.data.strip() or None if isinstance(f.data, str) else f.data
            if isinstance(prop, RelationshipProperty):
                for local, remote in prop.local_remote_pairs:
                    key = mapper.get_property_by_column(local).key
                    new = (getattr(value, inspect(type(value)).get_property_by_column(remote).key)
                           if value is not None else None)
                    if new != getattr(rec, key):
                        out[key] = new
            elif isinstance(prop, ColumnProperty) and value != getattr(rec, f.name):
                out[f.name] = value
        return out

    @expose("/correct/", methods=("GET", "POST"))
    def correct_view(self):
        rec = self._record(access.CORRECT)
        form_class = self.correction_form_class()
        form = form_class(request.form if request.method == "POST" else None,
                          obj=rec if request.method == "GET" else None)
        if not rec.in_force:
            return self._refused(rec, _("Only the version in force can be corrected."))
        if not access.may_correct_record(current_user, rec):
            return self._refused(rec, refusal_message(), mode="refused")
        if request.method == "POST" and form.validate():
            try:
                new = records.correct(rec, self.record_changes(form, rec), form.reason.data, current_user)
            except NotAllowed as exc:
                discard()
                return self._refused(db.session.get(self.model, rec.id), exc.message, form)
            except DomainError as exc:
                show_error(exc, form)
                rec = db.session.get(self.model, rec.id)
            except IntegrityError:
                discard()
                flash(_("The record could not be saved: it conflicts with an existing record "
                        "(for example a duplicate number)."), "error")
                rec = db.session.get(self.model, rec.id)
            else:
                return self._done(new, _("The correction was saved as a new version; the previous one is kept "
                                         "in the history."))
        return self._page(rec, form, "correct")

    @expose("/annul/", methods=("GET", "POST"))
    def annul_view(self):
        return self._reason_page(access.ANNUL, "annul")

    @expose("/restore/", methods=("GET", "POST"))
    def restore_view(self):
        return self._reason_page(access.ANNUL, "restore")

    def _reason_page(self, action, mode):
        rec = self._record(action)
        form = RecordReasonForm(request.form if request.method == "POST" else None)
        annulled = rec.annulled_at is not None
        if (mode == "restore") != annulled or rec.superseded_by_id is not None:
            return self._refused(rec, _("The entry is not annulled.") if mode == "restore"
                                 else _("Only the version in force can be annulled."), mode="refused")
        if not access.may_correct_record(current_user, rec):
            return self._refused(rec, refusal_message(), mode="refused")
        if request.method == "POST" and form.validate():
            try:
                (records.restore if mode == "restore" else records.annul)(rec, form.reason.data, current_user)
            except NotAllowed as exc:
                discard()
                return self._refused(db.session.get(self.model, rec.id), exc.message, form, mode)
            except DomainError as exc:
                show_error(exc, form)
                rec = db.session.get(self.model, rec.id)
            else:
                return self._done(rec, _("The entry was restored.") if mode == "restore" else
                                  _("The entry was annulled: it is out of every list and rule, kept in the history, "
                                    "and can be restored."))
        return self._page(rec, form, mode)


def refusal_message():
    return _("You may correct or annul this entry only within %(days)s days of entering it; later the region or "
             "the ministry does.", days=current_app.config.get("CORRECTION_DAYS", 30))


# ------------------------------------------------------------------------------ the worker page
@dataclass
class HistoryEntry:
    kind: str                 # "corrected" or "annulled"
    at: datetime | None
    by: str
    reason: str | None
    changes: list = field(default_factory=list)   # (label, old, new) of a superseded version
    summary: list = field(default_factory=list)   # (label, value) of an annulled entry
    restore_url: str | None = None


class RecordPage:
    """The worker page's record sections for one reader: links on the rows in force, the history."""

    def __init__(self, user, related):
        self.user = user
        self._correctable: dict[type, set] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        for section, rows, older in related:
            model = section.model
            if not issubclass(model, WorkerRecord) or model not in RECORD_VIEWS:
                continue
            view = RECORD_VIEWS[model]
            may = access.can(user, view.resource, access.CORRECT)
            self._correctable[model] = access.correctable_ids(user, rows + older) if may else set()
            if older and access.may_see_record_history(user, model):
                self._history[section.key] = self._entries(view, rows + older, older)

    def links(self, row) -> Markup:
        """"Correct" and "Annul" for a row in force the reader may correct (else nothing)."""
        view = RECORD_VIEWS.get(type(row))
        if view is None or row.id not in self._correctable.get(type(row), ()):
            return Markup("")
        out = [Markup('<a class="btn btn-link btn-sm p-0 mr-2" href="{}">{}</a>').format(
            url_for(f"{view.endpoint}.correct_view", id=row.id), _("Correct"))]
        if access.can(self.user, view.resource, access.ANNUL):
            out.append(Markup('<a class="btn btn-link btn-sm p-0 text-danger" href="{}">{}</a>').format(
                url_for(f"{view.endpoint}.annul_view", id=row.id), _("Annul")))
        return Markup("").join(out)

    def history(self, section) -> list[HistoryEntry]:
        return self._history.get(section.key, [])

    def _entries(self, view, every, older) -> list[HistoryEntry]:
        model = view.model
        by_id = {r.id: r for r in every}
        newer_ids = [r.superseded_by_id for r in older if r.superseded_by_id is not None]
        creators = {}
        if newer_ids:
            rows = db.session.execute(select(AuditLog.record_id, AuditLog.user_id).where(
                AuditLog.table_name == model.__tablename__, AuditLog.action == "create",
                AuditLog.record_id.in_(newer_ids))).all()
            creators = {rid: uid for rid, uid in rows}
        user_ids = {u for u in creators.values() if u} | {r.annulled_by_id for r in older if r.annulled_by_id}
        users = ({u.id: u for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}
                 if user_ids else {})
        choices = {k: dict(v) for k, v in (view.form_choices or {}).items()}
        may_restore = access.can(self.user, view.resource, access.ANNUL)
        out = []
        for old in older:
            if old.superseded_by_id is not None:
                new = by_id.get(old.superseded_by_id) or db.session.get(model, old.superseded_by_id)
                changes = [(label, display(getattr(old, n, None), choices.get(n)),
                            display(getattr(new, n, None), choices.get(n)))
                           for n, label in view.record_columns() if getattr(old, n, None) != getattr(new, n, None)]
                out.append(HistoryEntry("corrected", new.entered_at, _user_name(users.get(creators.get(new.id))),
                                        new.correction_reason, changes=changes))
            else:
                restore = (url_for(f"{view.endpoint}.restore_view", id=old.id)
                           if may_restore and old.id in self._correctable.get(model, ()) else None)
                out.append(HistoryEntry("annulled", old.annulled_at, _user_name(users.get(old.annulled_by_id)),
                                        old.annul_reason, restore_url=restore,
                                        summary=[(k, v) for k, v in view.record_summary(old) if v != "—"]))
        out.sort(key=lambda e: e.at or datetime.min, reverse=True)
        return out


# --------------------------------------------------------------------- audit entries, by label
def _model_of_table(name: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == name:
            return mapper.class_
    return None


#: Columns that are bookkeeping, never shown in a history even where a details page labels them: search
#: and sort keys, the lock version, file hashes and stored names, copied scope columns.
TECHNICAL_COLUMNS = frozenset({"surname_folded", "surname_key", "worker_surname_key", "version", "sha256",
                               "stored_name", "region_id", "entered_by_organization_id", "superseded_by_id"})


def field_labels() -> dict:
    """Column → label, merged from every model view of the panel (their ``column_labels``): how the
    audit list names the fields of any table. Built once per app (the labels are lazy: per language)."""
    app = current_app._get_current_object()
    labels = app.extensions.get("profreg_field_labels")
    if labels is None:
        labels = {}
        for view in app.extensions["profreg_admin"]._views:
            labels.update({k: v for k, v in (getattr(view, "column_labels", None) or {}).items() if "." not in k})
        app.extensions["profreg_field_labels"] = labels
    return labels


def table_labels() -> dict:
    """Table name → the name of its list in the panel (the audit list's "Table" column)."""
    app = current_app._get_current_object()
    names = app.extensions.get("profreg_table_labels")
    if names is None:
        names = {}
        for view in app.extensions["profreg_admin"]._views:
            model = getattr(view, "model", None)
            if model is not None and getattr(model, "__tablename__", None):
                names.setdefault(model.__tablename__, view.name)
        app.extensions["profreg_table_labels"] = names
    return names


#: What an audit entry's action is called on a page (the audit list, the worker card's history).
ACTION_LABELS = {"create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "view": _l("Viewed"),
                 "export": _l("Exported"), "download": _l("Downloaded"), "block": _l("Blocked"),
                 "unblock": _l("Unblocked"), "confirm": _l("Confirmed as current"),
                 "hire_lookup": _l("Searched for a registered worker"),
                 # sign-in events (auth.services), on the account concerned: the administrator reads them
                 "login": _l("Signed in"), "login_failed": _l("Sign-in refused"), "logout": _l("Signed out"),
                 "totp_enrolled": _l("Two-step sign-in set up"), "totp_verified": _l("Sign-in code accepted"),
                 "totp_failed": _l("Sign-in code refused"), "recovery_used": _l("Recovery code used"),
                 "totp_disabled": _l("Two-step sign-in turned off")}


#: Stored codes the register writes itself (the certificate sweep), by their label: a worker's status and
#: the reason of a block, in a change and as an entry's detail.
CODE_LABELS = {"status": {"active": _l("Active"), "blocked": _l("Blocked")},
               "blocked_reason": {"certificate_expired": _l("No valid specialist certificate")}}
DETAIL_LABELS = {"certificate_expired": _l("No valid specialist certificate"),
                 "certificate_renewed": _l("A valid specialist certificate is on file")}


#: The reasons of sign-in events (``auth.services._signin_event``: "<reason> <client address>").
SIGNIN_DETAILS = {"password": _l("with the password"), "totp": _l("with the password and a code"),
                  "recovery": _l("with the password and a recovery code"), "throttled": _l("too many attempts"),
                  "unknown_email": _l("unknown e-mail"), "wrong_password": _l("wrong password"),
                  "disabled": _l("account disabled"), "wrong_code": _l("wrong or reused code"),
                  "cli": _l("from the command line"), "by_user": _l("by the user"),
                  "by_admin": _l("by the administrator")}
SIGNIN_ACTIONS = frozenset({"login", "login_failed", "logout", "totp_enrolled", "totp_verified", "totp_failed",
                            "recovery_used", "totp_disabled"})


def detail_label(detail: str | None, action: str | None = None) -> str:
    """An audit entry's detail as a reader sees it: a reason typed by a user as typed, a code the
    register wrote by its label; a sign-in event's reason in words, then the client address."""
    if not detail:
        return ""
    if action in SIGNIN_ACTIONS:
        words = []
        for part in detail.split():
            if part.startswith("left_") and part[5:].isdigit():
                words.append(str(_l("recovery codes left: %(n)s", n=int(part[5:]))))
            else:
                words.append(str(SIGNIN_DETAILS.get(part, part)))
        return ", ".join(words)
    return str(DETAIL_LABELS.get(detail, detail))


def _table_vocabulary(table_name: str) -> tuple[dict, dict]:
    """(column → label, column → {stored value → label}) for the fields of one table: its own view's
    labels over every view's (``field_labels``), so "number" of a personnel document is not called a
    certificate number, and its form's choices (sex, kind of education: never the stored code)."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("profreg_table_vocabulary", {})
    found = cache.get(table_name)
    if found is None:
        labels, choices = dict(field_labels()), dict(CODE_LABELS)
        for view in app.extensions["profreg_admin"]._views:
            model = getattr(view, "model", None)
            if model is not None and getattr(model, "__tablename__", None) == table_name:
                labels.update({k: v for k, v in (view.column_labels or {}).items() if "." not in k})
                choices.update({k: dict(v) for k, v in (getattr(view, "form_choices", None) or {}).items()})
                break
        found = cache[table_name] = (labels, choices)
    return found


def table_field_labels(table_name: str) -> dict:
    """Column → label for the fields of one table (``_table_vocabulary``)."""
    return _table_vocabulary(table_name)[0]


def describe_changes(entries, labels: dict | None = None) -> dict[int, list[tuple[str, str, str]]]:
    """Audit entry id → (label, old, new) of its changes: each column by its label (a foreign key by
    its relationship's label, its ids by the related rows' names); columns without a label are
    summed up as "Other data" rather than shown by their internal names. Without ``labels``, each
    entry's fields are named by its table's view (``table_field_labels``)."""
    out: dict[int, list] = {}
    names: dict[tuple, str] = {}

    def name_of(target, ident):
        if ident is None:
            return "—"
        key = (target, ident)
        if key not in names:
            row = db.session.get(target, ident)
            names[key] = "—" if row is None else _user_name(row) if target is User else str(row)
        return names[key]

    for entry in entries:
        model = _model_of_table(entry.table_name)
        mapper = inspect(model) if model is not None else None
        own_labels, choices = _table_vocabulary(entry.table_name)
        entry_labels = labels if labels is not None else own_labels
        rows = []
        for key, pair in (entry.changes or {}).items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            target, label = None, (None if key in TECHNICAL_COLUMNS else entry_labels.get(key))
            if mapper is not None and key in mapper.columns:
                fks = list(mapper.columns[key].foreign_keys)
                if fks:
                    target = _model_of_table(fks[0].column.table.name)
                    rel = next((r for r in mapper.relationships
                                if any(c.key == key for c in r.local_columns)), None)
                    label = label or (entry_labels.get(rel.key) if rel is not None else None)
            if label is None:
                rows.append((_("Other data"), "", ""))
                continue
            if target is not None:
                old, new = name_of(target, old), name_of(target, new)
            elif key in choices:
                old, new = (str(choices[key].get(v, v)) if v is not None else None for v in (old, new))
            rows.append((str(label), _plain(old), _plain(new)))
        # one "Other data" line at most
        seen, kept = False, []
        for r in rows:
            if r[0] == _("Other data"):
                if seen:
                    continue
                seen = True
            kept.append(r)
        out[entry.id] = kept
    return out


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return fmt_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] == "T":
        try:
            return fmt_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


__all__ = ["ACTION_LABELS", "detail_label", "RECORD_VIEWS", "table_field_labels", "RecordActionsMixin", "field_labels", "table_labels", "RecordPage", "RecordReasonForm", "RecordRowAction",
           "describe_changes", "display", "refusal_message"]
