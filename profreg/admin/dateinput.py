"""The date input of every panel form (issue 15, item 1): typed as ``dd.mm.yyyy`` in every language
(also ``d.m.yyyy`` as Excel writes it, and ISO), with a hint of the format and a Monday-first calendar
in the page's language.

* Server side, one field: ``LocalDateField`` parses with ``profreg.dates.parse_date`` and refuses
  anything else with a translated message under the field. Every model view's scaffolded form and
  inline record form gets it through ``DateConverter`` (the ``Date`` columns); the hand-written forms
  declare it.
* Browser side, one static script (``static/profreg/dates.js``, no inline script: the panel runs under
  a Content-Security-Policy) puts a flatpickr calendar (vendored, ``static/vendor/flatpickr``) on every
  date input, the list filters' too. Its month and weekday names come from Babel
  (``calendar_locale``, a JSON data block in the layout), not from flatpickr's own locale files,
  whose Kazakh one writes Latin "i" for "і".

Why not ``<input type=date>``: the browser draws it in the browser's language and format, not the
page's (a Kazakh page in an English Chromium shows mm/dd/yyyy and an English, Sunday-first calendar).
"""
from __future__ import annotations

from babel import Locale
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.widgets import TextInput

from ..dates import parse_date, show_date

#: the hint inside an empty date input, in the reader's letters
PLACEHOLDER = _l("dd.mm.yyyy")
BAD_DATE = _l("Enter the date as dd.mm.yyyy, for example 31.12.2026.")


class LocalDateInput(TextInput):
    """A text input the calendar script recognises (``data-role="datepicker"``, as Flask-Admin's own,
    so its form script hands it to ours) with the format's hint."""

    def __call__(self, field, **kwargs):
        kwargs.pop("type", None)  # never the browser's own date input
        kwargs.setdefault("data-role", "datepicker")
        kwargs["data-date-format"] = "DD.MM.YYYY"
        kwargs.setdefault("placeholder", str(PLACEHOLDER))
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("maxlength", "10")
        kwargs.setdefault("size", "10")
        return super().__call__(field, **kwargs)


class LocalDateField(DateField):
    """A date typed as ``dd.mm.yyyy`` (or ``d.m.yyyy``, or ISO) and shown back as ``dd.mm.yyyy``."""

    widget = LocalDateInput()

    def __init__(self, label=None, validators=None, format="%d.%m.%Y", **kwargs):  # noqa: A002
        super().__init__(label, validators, format=format, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return show_date(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        try:
            self.data = parse_date(text)
        except ValueError:
            self.data = None
            raise ValueError(str(BAD_DATE)) from None


class DateConverter(AdminModelConverter):
    """Flask-Admin's form converter with ``LocalDateField`` for every ``Date`` column (model forms
    and the inline record forms, which reuse the view's converter)."""

    @converts("Date")
    def convert_date(self, field_args, **extra):
        field_args.pop("widget", None)
        return LocalDateField(**field_args)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def calendar_locale(lang: str | None = None) -> dict:
    """flatpickr's locale object from Babel's data for ``lang`` (the current locale by default):
    month and weekday names in the page's language, the week from Monday (Kazakhstan's calendar) in
    every language."""
    loc = Locale.parse(lang or str(get_locale() or "ru"))
    months = loc.months["stand-alone"]
    days = loc.days["stand-alone"]
    sunday_first = [6, 0, 1, 2, 3, 4, 5]  # Babel counts from Monday, flatpickr from Sunday
    return {
        "weekdays": {"shorthand": [_cap(days["abbreviated"][i]) for i in sunday_first],
                     "longhand": [_cap(days["wide"][i]) for i in sunday_first]},
        "months": {"shorthand": [_cap(months["abbreviated"][i]) for i in range(1, 13)],
                   "longhand": [_cap(months["wide"][i]) for i in range(1, 13)]},
        "firstDayOfWeek": 1,
        "rangeSeparator": " — ",
        "weekAbbreviation": "",
        "time_24hr": True,
        "placeholder": str(PLACEHOLDER),
    }


__all__ = ["BAD_DATE", "PLACEHOLDER", "DateConverter", "LocalDateField", "LocalDateInput", "calendar_locale"]
