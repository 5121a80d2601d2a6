"""Input hygiene, written once: what no form of the register may store.

* text with control characters (NUL and the other C0 controls but tab, line feed and carriage
  return; DEL; the C1 controls): a spreadsheet cell cannot hold them (XML 1.0 forbids them) and one
  such name once broke the workers export for every role;
* non-finite numbers (``inf``, ``nan``, or ``1e400``, which is infinity as a float): stored, they
  break every report and export that reads them.

``InputHygiene`` is the form mixin that applies both rules to every field of a form, inline forms
included (Flask-Admin's ``InlineModelFormList`` entries, ``FormField``, ``FieldList``), as a field
error next to the field. ``PanelForm`` (every panel form) and the training-list forms use it.
Exports neutralise what is already stored with ``profreg.exports.safe`` / ``xml_text``.
"""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from . import clock

CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = _l("This value contains control characters (for example a NUL byte pasted with it). "
                     "Retype it without them.")
NON_FINITE_MESSAGE = _l("Enter a finite number (not infinity, NaN or a number this large).")
#: Bidirectional controls and zero-width characters: invisible, they make a name look like another
#: (or reverse its display); stripped from every text a form takes (passwords excepted).
INVISIBLE_CHARS = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
NEGATIVE_MESSAGE = _l("Enter a number that is not negative.")
TOO_LARGE_MESSAGE = _l("This number is too large.")
DATE_RANGE_MESSAGE = _l("Enter a date between 1900 and %(year)s.")
MAX_INTEGER = 2 ** 31 - 1  # the database's integer columns
YEARS_AHEAD = 50  # no date of the register lies further in the future


def text_error(value) -> str | None:
    """The error of a text value (None when it is acceptable)."""
    if isinstance(value, str) and CONTROL_CHARS.search(value):
        return str(CONTROL_MESSAGE)
    return None


def strip_control(value: str) -> str:
    """``value`` without the control characters of ``CONTROL_CHARS``: what an import keeps of a cell
    (a spreadsheet cannot show them, and a form would refuse them)."""
    return CONTROL_CHARS.sub("", value)


def number_error(value) -> str | None:
    """The error of a number (None when it is acceptable): infinity, NaN, or beyond a float's range."""
    if isinstance(value, bool) or not isinstance(value, (float, Decimal)):
        return None
    try:
        finite = math.isfinite(float(value))
    except (OverflowError, ValueError):
        finite = False
    return None if finite else str(NON_FINITE_MESSAGE)


def plausibility_error(value) -> str | None:
    """The error of a number or a date no field of the register can hold (None when acceptable):
    negative numbers, integers beyond the database's range, dates before 1900 or more than 50 years
    ahead (issue 18: a birth year 1850, dates in 2999, negative CPD credits were accepted)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            if value < 0:
                return str(NEGATIVE_MESSAGE)
            if isinstance(value, int) and value > MAX_INTEGER:
                return str(TOO_LARGE_MESSAGE)
        except (ValueError, ArithmeticError):  # NaN: number_error's
            return None
    if isinstance(value, date):
        last = clock.today().year + YEARS_AHEAD
        if not 1900 <= value.year <= last:
            return str(DATE_RANGE_MESSAGE % {"year": last})
    return None


def _raw_strings(field) -> list[str]:
    return [v for v in (getattr(field, "raw_data", None) or []) if isinstance(v, str)]


def field_errors(field) -> list[str]:
    """Hygiene errors of one plain field (from its submitted text and its coerced value)."""
    out = []
    for message in (text_error(field.data), *(text_error(v) for v in _raw_strings(field)), number_error(field.data),
                    plausibility_error(field.data)):
        if message and message not in out:
            out.append(message)
    if not out and isinstance(field.data, (float, Decimal)):
        # a float/decimal field that accepted "inf", "nan" or "1e400" as typed
        for raw in _raw_strings(field):
            try:
                if not math.isfinite(float(raw)):
                    out.append(str(NON_FINITE_MESSAGE))
                    break
            except ValueError:
                pass
    return out


def _walk(fields) -> bool:
    ok = True
    for field in fields:
        if field.type == "CSRFTokenField":
            continue
        entries = getattr(field, "entries", None)
        subform = getattr(field, "form", None)
        if entries is not None:  # FieldList / Flask-Admin's inline list: one form per entry
            ok = _walk(entries) and ok
        elif subform is not None and hasattr(subform, "_fields"):  # FormField / an inline entry
            ok = _walk(subform._fields.values()) and ok
        else:
            if isinstance(field.data, str) and field.type != "PasswordField" and INVISIBLE_CHARS.search(field.data):
                field.data = INVISIBLE_CHARS.sub("", field.data)
            errors = field_errors(field)
            if errors:
                if not isinstance(field.errors, list):
                    field.errors = list(field.errors)
                field.errors.extend(e for e in errors if e not in field.errors)
                ok = False
    return ok


class InputHygiene:
    """Form mixin: after the form's own validation, refuse control characters, non-finite, negative or
    out-of-range numbers and implausible dates in every field, as field errors (the form does not
    validate, so nothing is written); bidirectional controls and zero-width characters are stripped."""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators=extra_validators)
        return _walk(self._fields.values()) and ok


__all__ = ["CONTROL_CHARS", "InputHygiene", "field_errors", "number_error", "strip_control", "text_error"]
