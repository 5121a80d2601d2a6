"""List filters shared by the panel's views (issue 15, item 3).

Every filter here narrows the view's **scoped** query (``ScopedModelView.get_query``), so it can never
show a row outside the reader's scope. Options are reference data only (classifiers, fixed choices),
never rows of organizations or users: the filter cache is shared by every user of a language
(``admin/listing.py``). Options are named in the reader's language and sorted in its alphabet
(``workers.models.sort_key``: the Kazakh alphabet for kk).

Each filter is one indexed condition on the listed table (a foreign key, a date range), so filtering
stays an index probe at national scale; the certificate expiry window is a range on
``ix_certificate_valid_until``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.model import filters as base_filters
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..reference.models import AdminUnit
from ..workers.models import sort_key


def lazy_options(loader):
    """Options read from the database when the filters are built (per language, cached); none at start-up,
    outside an application context."""
    def get():
        try:
            return loader()
        except RuntimeError:  # at start-up, outside an application context
            return []
    return get


def sorted_options(pairs) -> list[tuple[str, str]]:
    """(value, label) pairs in the alphabetical order of the reader's language."""
    return sorted(((str(v), str(label)) for v, label in pairs), key=lambda p: sort_key(p[1]) or "")


def reference_options(model):
    """The active rows of a classifier, by name in the reader's language, in its alphabet's order."""
    def load():
        rows = db.session.execute(select(model).where(model.is_active.is_(True))).scalars()
        return sorted_options((r.id, r.name) for r in rows)
    return lazy_options(load)


def choice_options(choices):
    """Fixed (value, label) choices, labels translated, in the reader's alphabetical order."""
    return lazy_options(lambda: sorted_options(choices))


class ReferenceFilter(BaseSQLAFilter):
    """A foreign key to a classifier equals the chosen row."""

    def __init__(self, column, name, model):
        super().__init__(column, name, options=reference_options(model))

    def clean(self, value):
        return int(value)

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return _l("equals")


def district_options():
    """The districts (level-2 KATO units, rule 4.1) as "district (region)", in the reader's alphabet's
    order: one list for every user (a reader outside a region finds no rows there, the list is scoped)."""
    def load():
        rows = db.session.execute(select(AdminUnit).where(AdminUnit.level == 2)).scalars()
        return sorted_options((r.id, f"{r.name} ({r.parent.name})" if r.parent is not None else r.name) for r in rows)
    return lazy_options(load)


def region_options():
    """The regions (level-1 KATO units), in the reader's alphabet's order."""
    def load():
        rows = db.session.execute(select(AdminUnit).where(AdminUnit.level == 1)).scalars()
        return sorted_options((r.id, r.name) for r in rows)
    return lazy_options(load)


class UnitFilter(BaseSQLAFilter):
    """A foreign key to a KATO unit of one level (a region, a district) equals the chosen unit."""

    def __init__(self, column, name, options):
        super().__init__(column, name, options=options)

    def clean(self, value):
        return int(value)

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return _l("equals")


class ChoiceFilter(BaseSQLAFilter):
    """A coded column equals one of fixed choices (shown by their labels)."""

    def __init__(self, column, name, choices):
        self.values = {str(v) for v, _label in choices}
        super().__init__(column, name, options=choice_options(choices))

    def clean(self, value):
        if value not in self.values:
            raise ValueError(value)
        return value

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return _l("equals")


class DateFromFilter(BaseSQLAFilter, base_filters.BaseDateFilter):
    """A date column on or after the given day (a datetime column: from the start of that day)."""

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) >= _bound(self.column, value))

    def operation(self):
        return _l("from")


class DateToFilter(BaseSQLAFilter, base_filters.BaseDateFilter):
    """A date column on or before the given day (a datetime column: up to the end of that day)."""

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        if _is_datetime(self.column):
            return query.filter(column < datetime.combine(value + timedelta(days=1), datetime.min.time()))
        return query.filter(column <= value)

    def operation(self):
        return _l("to")


def _is_datetime(column) -> bool:
    try:
        return column.type.python_type is datetime
    except (AttributeError, NotImplementedError):
        return False


def _bound(column, day):
    return datetime.combine(day, datetime.min.time()) if _is_datetime(column) else day


def date_range(column, name) -> list:
    """"<name> from" and "<name> to" (both may be set: a range)."""
    return [DateFromFilter(column, name), DateToFilter(column, name)]


class ClauseFilter(BaseSQLAFilter):
    """A filter whose condition a function builds from the value (``clause(value, today)``); fixed
    options or a free value (``data_type``)."""

    def __init__(self, column, name, clause, options=None, data_type=None, op=None, clean=None):
        super().__init__(column, name, options=options, data_type=data_type)
        self.clause, self.op, self._clean = clause, op, clean

    def clean(self, value):
        return self._clean(value) if self._clean is not None else value

    def apply(self, query, value, alias=None):
        cond = self.clause(value, clock.today())
        return query.filter(cond) if cond is not None else query.filter(db.false())

    def operation(self):
        return self.op or _l("equals")


__all__ = ["ChoiceFilter", "ClauseFilter", "DateFromFilter", "DateToFilter", "ReferenceFilter", "UnitFilter",
           "choice_options", "date_range", "district_options", "reference_options", "region_options",
           "sorted_options"]
