"""What every view over a worker's records shares, and the worker page's registry.

A worker's national record is made of rows that several domains own (education, certificates, CPD,
personnel documents, employment). Each domain declares, in its own ``admin.py``:

* its **section of the worker page** (``worker_section``: a tab with the rows of the worker that the
  reader may see, rendered by the domain's own template), and
* its **inline form** on the worker's create/edit form (``worker_inline``),

so the workers domain never imports the others: ``WorkerView`` reads this registry. Domains register
at import time; ``admin.init_admin`` imports every domain's admin module before building any view.

Views over worker records (certificates, CPD, documents, ...) build their column sets with
``worker_record_attrs``: the worker (IIN masked for associations, blocked workers flagged) first, the
worker field an ajax lookup limited to the user's scope.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app, request, url_for
from flask_admin.model.form import InlineFormAdmin
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..extensions import db
from ..workers import search
from ..workers.models import Worker, WorkerRecord
from . import record_export
from .base import ScopedAjaxLoader, named_rows
from .choices import InlineForm
from .formatting import blocked_badge, blocked_export, iin_formatter

WORKER_COLUMNS = ("worker", "worker.iin", "worker.status")
WORKER_LABELS = {"worker": _l("Worker"), "worker.iin": _l("IIN"), "worker.status": _l("Status")}


class WorkerAjaxLoader(ScopedAjaxLoader):
    """Worker autocomplete: scoped, matching IIN or the case-folded surname (Kazakh letters on SQLite)."""

    def get_list(self, term, offset=0, limit=10):
        q = self.get_query().filter(search.search_clause(term or "")).order_by(Worker.surname_key, Worker.id)
        return q.offset(offset or 0).limit(limit).all()


def prefill(form, names) -> None:
    """A form opened with values in its URL (a GET from a worklist's one-click action, e.g. the
    reconciliation's "open the hire form": ``?iin=…&hire_date=2026-11-20``) starts with them. Dates are ISO
    (``YYYY-MM-DD``); a select takes the id (or the code) of one of its own options, so nothing outside the
    field's choices (and the user's scope) is ever set. A POST ignores the URL."""
    if request.method != "GET":
        return
    for name in names:
        raw = request.args.get(name, "").strip()
        field_ = getattr(form, name, None)
        if not raw or field_ is None:
            continue
        if hasattr(field_, "query_factory") or hasattr(field_, "_get_object_list"):
            for _pk, obj in field_._get_object_list():
                if str(getattr(obj, "id", "")) == raw or str(getattr(obj, "code", "")) == raw:
                    field_.data = obj
                    break
        elif field_.type in ("DateField", "LocalDateField"):
            try:
                field_.data = date.fromisoformat(raw)
            except ValueError:
                continue
        else:
            field_.data = raw[:255]


class WorkerSearchMixin:
    """A list of a worker's rows (records, episodes, audit entries) searched by the worker, as the
    workers list is (``workers.search``): each term an IIN prefix, a surname prefix (case-folded,
    Kazakh-safe on every database) or a certificate number prefix, applied as ``worker_id IN (...)``
    on top of the scoped query, so it never widens the scope."""

    #: turns Flask-Admin's search box on; the terms go through ``_apply_search`` below
    column_searchable_list = ("worker_id",)

    def create_form(self, obj=None):
        """The create form opened from a worker card ("Add", ``add_url``) starts with that worker, read
        through the user's scope (an id outside it leaves the field empty)."""
        form = super().create_form(obj)
        raw = request.args.get("worker", "") if request.method == "GET" else ""
        if raw.isdigit() and hasattr(form, "worker"):
            worker = db.session.execute(access.scoped(select(Worker).where(Worker.id == int(raw)), Worker,
                                                      current_user)).scalar_one_or_none()
            if worker is not None:
                form.worker.data = worker
        return form

    def search_placeholder(self):
        return str(_l("IIN, surname or certificate number"))

    def _apply_search(self, query, count_query, joins, count_joins, search_text):
        for term in search_text.split():
            cond = self.model.worker_id.in_(search.matching_worker_ids(term))
            query = query.filter(cond)
            if count_query is not None:
                count_query = count_query.filter(cond)
        return query, count_query, joins, count_joins


def worker_ajax_ref(name="worker"):
    return WorkerAjaxLoader(name, db.session, Worker, fields=("surname_folded", "iin"), page_size=10,
                            placeholder=_l("IIN or surname"))


def worker_record_attrs(cols, labels=None) -> dict:
    """Class attributes of a view over a worker record with the form columns ``cols`` (``worker``
    among them): list, details and export show the worker, his IIN and status first."""
    shown = WORKER_COLUMNS + tuple(c for c in cols if c != "worker")
    return {"column_list": shown, "column_details_list": shown, "column_export_list": shown,
            "form_columns": tuple(cols), "column_labels": {**WORKER_LABELS, **(labels or {})},
            "column_formatters": {"worker.iin": iin_formatter, "worker.status": blocked_badge},
            "column_formatters_export": {"worker.iin": iin_formatter, "worker.status": blocked_export},
            "form_ajax_refs": {"worker": worker_ajax_ref()}, "dataset_export": _dataset_export}


def _dataset_export(view, path, export_type, statement):
    """The list export rendered by PostgreSQL (``admin.record_export``); None: row by row."""
    return record_export.dataset_export(view, path, export_type, statement)


# ------------------------------------------------------------------------ the worker page's registry
@dataclass(frozen=True)
class WorkerSection:
    """A part of the worker card: ``rows`` of ``model`` for the worker, ``template`` renders them
    (it receives ``rows`` and ``today``); ``position`` orders the sections. Sections with the same
    ``tab`` share one tab of the card (education documents and qualification categories), whose label
    is the ``tab_label`` of its first section (else that section's ``label``)."""

    key: str
    label: object
    model: type
    order_by: str
    template: str
    position: int
    on_edit_page: bool = False
    tab: str = ""
    tab_label: object = None


@dataclass(frozen=True)
class WorkerInline:
    """An inline form of the worker's create/edit form."""

    model: type
    columns: tuple
    labels: dict = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    position: int = 0


_SECTIONS: dict[str, WorkerSection] = {}
_INLINES: dict[type, WorkerInline] = {}


def worker_section(key: str, label, model, order_by: str, template: str, position: int,
                   on_edit_page: bool = False, tab: str | None = None, tab_label=None) -> None:
    """Declare a section of the worker page (see the module docstring and ``WorkerSection``)."""
    _SECTIONS[key] = WorkerSection(key, label, model, order_by, template, position, on_edit_page,
                                   tab or key, tab_label)


def worker_inline(model, columns, labels=None, choices=None, position: int = 0) -> None:
    """Declare an inline form of the worker's create/edit form."""
    _INLINES[model] = WorkerInline(model, tuple(columns), dict(labels or {}), dict(choices or {}), position)


def inline_models() -> tuple:
    """Flask-Admin ``inline_models`` of the worker form, in their declared order."""
    out = []
    for spec in sorted(_INLINES.values(), key=lambda s: s.position):
        inline = InlineFormAdmin(spec.model, form_columns=("id", *spec.columns), column_labels=spec.labels,
                                 form_base_class=InlineForm)  # selects start on "— choose —" (admin/choices.py)
        if spec.choices:
            inline.form_choices = spec.choices
        out.append(inline)
    return tuple(out)


def visible_sections(user, edit_page: bool = False) -> list[WorkerSection]:
    """The worker page's sections ``user`` may read, in their order (no query)."""
    return [section for section in sorted(_SECTIONS.values(), key=lambda s: s.position)
            if (section.on_edit_page or not edit_page) and access.model_visible(user, section.model)]


def related_records(worker, user, edit_page: bool = False, tab: str | None = None
                    ) -> list[tuple[WorkerSection, list, list]]:
    """The worker page's sections with the worker's rows that ``user`` may see (each through
    ``access``); sections the user may not read are left out, and with ``tab`` the sections of other
    tabs of the card. Each section is ``(section, rows, older)``: for worker records ``rows`` are the
    versions in force and ``older`` the superseded and annulled ones (the history,
    ``admin.record_actions.RecordPage``); other rows have no history."""
    out = []
    for section in visible_sections(user, edit_page):
        if tab is not None and section.tab != tab:
            continue
        model = section.model
        q = access.scoped(select(model).where(model.worker_id == worker.id), model, user)
        q = q.options(*named_rows(model)).order_by(getattr(model, section.order_by), model.id)
        rows = db.session.execute(q).scalars().unique().all()
        if issubclass(model, WorkerRecord):
            out.append((section, [r for r in rows if r.in_force], [r for r in rows if not r.in_force]))
        else:
            out.append((section, rows, []))
    return out


@dataclass
class CardTab:
    """A tab of the worker card. The open tab carries its sections (``(section, rows, older)`` of
    ``related_records``) and, per section, the link that adds a row of that kind for the worker (None
    where the reader may not); the others are links that open the card on them (``loaded`` False)."""

    key: str
    label: object
    sections: list
    add_links: dict
    loaded: bool = False

    @property
    def count(self) -> int | None:
        """Rows in force on the tab, where it is open (the others are not read)."""
        return sum(len(rows) for _section, rows, _older in self.sections) if self.loaded else None


def _create_view_of(model):
    """The panel's model view whose list and form are ``model``'s (the one "Add" opens)."""
    for view in current_app.extensions["profreg_admin"]._views:
        if getattr(view, "model", None) is model and hasattr(view, "create_view"):
            return view
    return None


def add_url(model, worker, return_url: str | None = None) -> str | None:
    """The create form of a ``model`` row prefilled with ``worker`` (``WorkerSearchMixin.create_form``),
    for a reader who may create such rows (the view's ``can_create``: ``access``), else None."""
    view = _create_view_of(model)
    if view is None or not view.is_accessible() or not view.can_create:
        return None
    return url_for(f"{view.endpoint}.create_view", worker=worker.id, url=return_url)


def card_tabs(sections, related, worker, card_url) -> list[CardTab]:
    """The record tabs of the worker card, one per tab of the readable ``sections``, in their order;
    the tab whose rows ``related`` holds is the open one, with its "Add" links (their return address
    is the card on that tab, ``card_url(tab_key)``)."""
    tabs: dict[str, CardTab] = {}
    for section in sections:
        if section.tab not in tabs:
            tabs[section.tab] = CardTab(section.tab, section.tab_label or section.label, [], {})
    for item in related:
        section = item[0]
        tab = tabs[section.tab]
        tab.loaded = True
        tab.sections.append(item)
        tab.add_links[section.key] = add_url(section.model, worker, card_url(section.tab))
    return list(tabs.values())


__all__ = ["CardTab", "add_url", "card_tabs", "WORKER_COLUMNS", "WorkerAjaxLoader", "WorkerSearchMixin", "WorkerInline", "WorkerSection", "inline_models",
           "related_records", "visible_sections", "worker_ajax_ref", "worker_inline", "worker_record_attrs", "worker_section"]
