"""The hardened base views every admin view derives from: security only. Who sees what comes from
``profreg/access.py``; the list page's performance machinery is ``profreg/admin/listing.py``; commits
and error display are the unit of work's (``profreg/uow.py``).

Covers the FLASK-ADMIN.md pitfalls: scoped get_query / get_count_query / get_one (404 when out of
scope), per-request can_* from the role matrix, CSRF through FlaskForm, neutral integrity errors,
scoped relationship dropdowns and ajax loaders, no inline editing, no fast mass delete.
"""
from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from functools import cache

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.form import rules
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import MANYTOONE, joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden, HTTPException

from .. import access, clock
from ..audit.services import log_export, log_read
from ..education.models import EducationInstitution
from ..errors import DomainError, NotAllowed, OutOfScope
from ..exports import safe, xml_text
from ..extensions import db
from ..hygiene import InputHygiene
from ..orgs.models import Organization
from ..redirects import safe_next
from ..reference.models import ReferenceMixin
from ..uow import PanelSession, discard, show_error
from ..workers.models import sort_key
from .choices import ChoosePlaceholder
from .dashboard import apply_tile
from .dateinput import DateConverter
from .exporting import list_export
from .formatting import request_memo, type_formatters, type_formatters_detail
from .listing import EstimatedCountQuery, ListingMixin

log = logging.getLogger(__name__)
PANEL_SESSION = PanelSession()


class PanelForm(InputHygiene, ChoosePlaceholder, FlaskForm):
    """FlaskForm (CSRF through Flask-WTF's CSRFProtect) that also remembers the edited object, as
    Flask-Admin's own BaseForm does: its ``Unique`` validator compares against ``form._obj``, and
    without it every edit of a row with a unique column (IIN, BIN, e-mail) fails "Already exists".
    ``InputHygiene``: no field, inline forms included, takes control characters or non-finite numbers.
    ``ChoosePlaceholder``: selects start on a translated "— choose —", never on ``__None`` or on their
    first option (``admin/choices.py``)."""

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        self._obj = obj
        self._later_errors: dict = {}
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)

    def validate(self, extra_validators=None):
        """Also the errors a validator of one field found about another (``later_error``): shown
        under that other field, added once every field was validated (a field's own validation
        starts by clearing its errors)."""
        self._later_errors = {}
        valid = super().validate(extra_validators=extra_validators)
        for name, messages in self._later_errors.items():
            field = self[name]
            field.errors = [*field.errors, *(m for m in messages if m not in field.errors)]
        return valid and not self._later_errors


def page_arg() -> int:
    """The page a paged panel page was asked for (``?page=``): 1 when absent or not a number."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def later_error(form, name: str, message) -> None:
    """Show ``message`` under ``form``'s field ``name`` (from a validator of another field)."""
    if name not in form._fields:
        return
    later = getattr(form, "_later_errors", None)
    if later is None:  # a form that is not a PanelForm: at once (may be cleared if the field comes later)
        field = form[name]
        field.errors = [*field.errors, str(message)]
        return
    later.setdefault(name, []).append(str(message))


class HiddenTag(rules.BaseRule):
    """Form rule keeping the hidden fields (CSRF token, lock version) in a form built from
    ``form_create_rules`` / ``form_edit_rules``: Flask-Admin drops every field no rule names, and a view
    that does not list this rule loses them. It renders nothing itself: Flask-Admin's
    ``lib.render_form_fields`` already writes ``form.hidden_tag()`` before the rules, so rendering it
    here too put ``csrf_token`` and ``lock_version`` in the page twice."""

    @property
    def visible_fields(self):
        return ["csrf_token", "lock_version"]

    def __call__(self, form, form_opts=None, field_args=None):
        return Markup("")


_INTEGER = re.compile(r"\s*[-+]?\d+\s*")
#: Largest value of the register's primary keys (INTEGER columns: PostgreSQL's int4). A larger id
#: names no row; sent to PostgreSQL it was "integer out of range", a server error.
KEY_MAX = 2 ** 31 - 1
#: Largest page number a list accepts: its offset (page × page size) must fit a 64-bit integer.
MAX_PAGE = 10 ** 12


def _refuse_out_of_range_numbers() -> None:
    """Ids, page numbers and filter values that no 64-bit column can hold gave a server error on the
    database (PostgreSQL: "bigint out of range"); they are refused first: 404 for an ``id``, 400
    otherwise (a page that is not a number, or beyond ``MAX_PAGE``, too)."""
    for key, value in request.args.items(multi=True):
        if _INTEGER.fullmatch(value):
            digits = value.strip().lstrip("+-").lstrip("0")
            number = int(value) if len(digits) <= 19 else 2 ** 63  # never parse a 10,000-digit number
            if abs(number) >= 2 ** 63 or (key == "page" and not 0 <= number <= MAX_PAGE):
                abort(404 if key == "id" else 400)
            if key == "id" and not 0 < number <= KEY_MAX:
                abort(404)
        elif key == "page" and value.strip():
            abort(400)


def _deny():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    abort(403)


class ProtectedMixin:
    """Signed-in users only; anonymous → login, signed-in without the right → 403."""

    #: MATRIX resource whose list/details right opens the view; None means any signed-in user.
    #: Model views take their model's resource; actions inside a view check theirs with
    #: ``access.require`` / ``access.requires``.
    resource: str | None = None

    def is_accessible(self):
        # asked for every menu item on every page: once per view and request
        return request_memo(("accessible", id(self)),
                            lambda: self._accessible(request_memo("user", current_user._get_current_object)))

    def _accessible(self, user) -> bool:
        if not user.is_authenticated or not user.active:
            return False
        if self.resource is not None:
            return access.can(user, self.resource, access.LIST) or access.can(user, self.resource, access.DETAILS)
        return True

    def inaccessible_callback(self, name, **kwargs):
        return _deny()

    def _handle_view(self, name, **kwargs):
        """Flask-Admin follows its ``url=`` parameter (the return path of create, edit, details,
        delete and actions) after its own, weaker check (``http:evil.example`` passed it). The
        project's one rule (``redirects.safe_next``) decides first: a GET with a hostile ``url=`` is
        sent to the same page without it; a POST carrying one is refused (400), before anything is
        written."""
        _refuse_out_of_range_numbers()
        target = request.values.get("url")
        if target is not None and safe_next(target) is None:
            if request.method != "GET":
                abort(400)
            args = request.args.to_dict(flat=False)
            args.pop("url", None)
            return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))
        return super()._handle_view(name, **kwargs)


class ProtectedIndexView(ProtectedMixin, AdminIndexView):
    pass


class ProtectedBaseView(ProtectedMixin, BaseView):
    pass


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Ajax lookups (autocomplete) limited to the user's scope, for lookups and submitted ids alike."""

    def get_query(self):
        return access.options_scoped(super().get_query(), self.model, current_user)

    def get_one(self, pk):
        try:
            pk = int(pk) if len(str(pk)) <= 20 else None  # never parse a 10,000-digit number
        except (TypeError, ValueError):
            return None
        if pk is None or not 0 < pk <= KEY_MAX:  # no key holds it: no such row (not a 500)
            return None
        return self.get_query().filter(getattr(self.model, self.pk) == pk).one_or_none()


@cache
def named_rows(model) -> tuple:
    """Loader options: the rows a page of ``model`` shows by name (classifiers, organizations, schools)
    joined into the row's own query instead of a query per name (the worker card read eight of them
    one by one)."""
    named = []
    for rel in sa_inspect(model).relationships:
        target = rel.mapper.class_
        if rel.direction is MANYTOONE and (issubclass(target, ReferenceMixin)
                                           or target in (Organization, EducationInstitution)):
            named.append(joinedload(getattr(model, rel.key)))
    return tuple(named)


class ScopedModelView(ProtectedMixin, ListingMixin, ModelView):
    """Base for every model view: everything goes through ``access``."""

    form_base_class = PanelForm
    can_view_details = True  # static (cached at start-up); guarded by get_one
    column_display_pk = False
    page_size = 50
    can_set_page_size = True
    export_types = ["csv", "xlsx"]
    column_editable_list: list = []
    fast_mass_delete = False
    details_modal = False
    # Dates and numbers in the user's locale (Babel); exports keep ISO values.
    column_type_formatters = type_formatters
    column_type_formatters_detail = type_formatters_detail
    # Every Date column of every form (inline record forms too) is typed dd.mm.yyyy (admin/dateinput.py).
    model_form_converter = DateConverter

    def __init__(self, model, *args, **kwargs):
        self.resource = access.resource_of(model)  # the model's own: rows and rights never disagree
        # Flask-Admin's create/update/delete commit and roll back by themselves: through
        # ``PanelSession`` that is a flush and a discard, and the request commits once (profreg/uow.py).
        super().__init__(model, PANEL_SESSION, *args, **kwargs)

    def _accessible(self, user) -> bool:
        return super()._accessible(user) and access.model_visible(user, self.model)

    @expose("/details/")
    def details_view(self):
        response = super().details_view()
        obj_id = request.args.get("id")
        if obj_id and self.resource in access.WORKER_DATA and not hasattr(response, "status_code"):
            shown = g.pop("profreg_details_model", None)  # the row the page was rendered from
            log_read("view", shown if shown is not None else self.get_one(obj_id), current_user)  # committed with the request
        return response

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            g.profreg_details_model = kwargs["model"]  # the page's row: its "view" audit entry needs no re-read
        return super().render(template, **kwargs)

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """Every list's Export menu through one pipeline (``admin/exporting.py``): the project's
        writers, the list's scope, search, filters and sort, no silent cap (a big list is exported in
        the background). Audited, and written inside the request's unit of work (nothing is read
        after the session closed)."""
        if not self.can_export or export_type not in self.export_types:
            return _deny()
        response = list_export(self, export_type)  # the rows are read first: the entry is not in its own file
        log_export(self.model, current_user, export_type, request.query_string.decode()[:200])
        return response

    def get_export_value(self, model, name):
        """Every list export (csv, and xlsx through tablib) through the project's one neutraliser:
        a text cell starting with ``= + - @`` is inert text (``profreg.exports.safe``), control
        characters a spreadsheet cannot hold are dropped (``xml_text``)."""
        value = super().get_export_value(model, name)
        if value is None or isinstance(value, (bool, int, float, Decimal, date)):
            return value
        return safe(xml_text(str(value)))

    def get_count_query(self):
        if "profreg_count" in g:  # the count is already known (get_list): no count query at all
            return None
        query = self._listed(access.scoped(super().get_count_query(), self.model, current_user))
        query.__class__ = EstimatedCountQuery  # a big searched/filtered list: the planner's estimate (listing.py)
        return query

    def _listed(self, query):
        """Everyday lists leave out superseded and annulled entries (``in_lists`` of the model); the
        details page of one of them still opens (``get_one``) and the worker page shows the history."""
        in_lists = getattr(self.model, "in_lists", None)
        query = query.filter(in_lists()) if in_lists is not None else query
        return apply_tile(self.model, query, current_user)  # a dashboard tile's rows (``?tile=``)

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

    #: Relationship naming the owning organization. For the organization roles it is removed from
    #: the create/edit forms and set from the actor (DESIGN rule 1), never taken from a POST.
    actor_organization_field: str | None = None

    def _org_from_actor(self) -> bool:
        return bool(self.actor_organization_field) and current_user.role in access.ORG_ROLES

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if self._org_from_actor() and hasattr(form, self.actor_organization_field):
            delattr(form, self.actor_organization_field)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if self._org_from_actor() and hasattr(form, self.actor_organization_field):
            delattr(form, self.actor_organization_field)
        return form

    def set_actor_organization(self, model, is_created):
        if is_created and self._org_from_actor():
            with db.session.no_autoflush:  # the new row is pending without its organization yet
                setattr(model, self.actor_organization_field, current_user.organization)

    # scoping of every read path
    def get_query(self):
        return self._listed(access.scoped(super().get_query(), self.model, current_user))

    def get_one(self, id):
        try:
            pk = int(id)
        except (TypeError, ValueError):
            abort(404)
        q = access.scoped(super().get_query(), self.model, current_user).options(*named_rows(self.model))
        obj = q.filter(self.model.id == pk).one_or_none()
        if obj is None:
            abort(404)
        if request.endpoint == f"{self.endpoint}.edit_view" and not access.write_in_scope(obj, current_user):
            abort(403)  # seen, not owned: another organization's episode of a shared worker is read-only
        return obj

    def _relationship_query_factory(self, remote_model):
        query = lambda: access.options_scoped(db.session.query(remote_model), remote_model, current_user)  # noqa: E731
        if access.resource_of(remote_model) == "reference":
            # classifiers (a few dozen rows): in the alphabetical order of the reader's language, the Kazakh
            # alphabet's for kk (``sort_key``), not in the database's or the code's order
            return lambda: sorted(query(), key=lambda row: sort_key(str(row)) or "")
        return query

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

    # Our catalogs word these (Flask-Admin's shipped ru confirmation is garbled and cannot be overridden).
    @action("delete", _l("Delete"), _l("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        # Ids arrive as strings: PostgreSQL refuses "integer IN (varchar)"; drop anything non-numeric.
        clean = [int(i) for i in ids if str(i).isdigit()]
        return super().action_delete(clean)

    def is_action_allowed(self, name):
        if name == "delete" and not self.can_delete:
            return False
        return super().is_action_allowed(name)

    def get_export_name(self, export_type="csv"):
        return f"{self.endpoint}_{clock.now():%Y%m%d_%H%M%S}.{export_type}"

    def _check_write(self, model, action):
        if not access.can(current_user, self.resource, action):
            abort(403)

    def on_model_change(self, form, model, is_created):
        """Subclasses run their service calls first and call this last: the row, as it will be
        committed, must lie inside the actor's scope (an ``hr`` user cannot create or move a row
        into another organization). Raising here rolls the whole change back."""
        g.profreg_form = form  # a check constraint the flush trips is shown under its field
        self._check_write(model, access.CREATE if is_created else access.EDIT)
        self.set_actor_organization(model, is_created)
        super().on_model_change(form, model, is_created)
        db.session.flush()
        if not access.write_in_scope(model, current_user):
            raise OutOfScope()

    def on_model_delete(self, model):
        self._check_write(model, access.DELETE)
        if not access.write_in_scope(model, current_user):  # the row's owner, not only the role
            raise NotAllowed()

    def handle_view_exception(self, exc):
        if isinstance(exc, HTTPException):  # a 403/404 from a check stays a 403/404
            raise exc
        if isinstance(exc, NotAllowed):
            raise Forbidden()
        if isinstance(exc, DomainError):
            show_error(exc)
            return True
        if isinstance(exc, (StaleDataError, IntegrityError)):
            # The failed flush left the session unusable: roll the unit back before anything else reads
            # the database (a translated message asks the signed-in user's language: a lazy load), or the
            # refusal itself became a server error (found by the bad-input suite).
            violated = _check_violated(exc) if isinstance(exc, IntegrityError) else None
            discard()
        if isinstance(exc, StaleDataError):
            flash(_("This record was changed by someone else while you were editing it. "
                    "Your changes were not saved; reload the record and apply them again."), "error")
            return True
        if isinstance(exc, IntegrityError) and violated is not None:
            field, message = violated
            form = g.get("profreg_form")
            target = getattr(form, field, None) if form is not None else None
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, str(message)]  # under the field, in the user's language
            else:
                flash(str(message), "error")  # an inline record's field: above the form
            return True
        if isinstance(exc, IntegrityError):
            if current_app.config.get("FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR"):
                raise exc
            log.warning("integrity error: %s", exc)
            flash(_("The record could not be saved: it conflicts with an existing record "
                    "(for example a duplicate number)."), "error")
            return True
        return super().handle_view_exception(exc)


#: Check constraints of the schema (``ck_<table>_<name>``) a form can trip, as the field and the message a
#: user gets instead of "conflicts with an existing record" (issue 18: four were shown as conflicts).
CHECK_MESSAGES = {
    "ck_certificate_dates": ("valid_until", _l("The end of validity cannot be before the date of issue.")),
    "ck_qualification_category_dates": ("valid_until",
                                        _l("The end of validity cannot be before the date of issue.")),
    "ck_cpd_record_dates": ("end_date", _l("The end date cannot be before the start date.")),
    "ck_cpd_record_hours": ("hours", _l("Enter a number that is not negative.")),
    "ck_staffing_position_fte_nonneg": ("approved_fte", _l("Enter a number that is not negative.")),
    "ck_organization_bin_len": ("bin", _l("A BIN has 12 digits.")),
}


def _check_violated(exc: IntegrityError):
    """(field, message) of the check constraint ``exc`` reports, None for any other integrity error."""
    text = str(getattr(exc, "orig", exc))
    for name, answer in CHECK_MESSAGES.items():
        if name in text:
            return answer
    return None


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
