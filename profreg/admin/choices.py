"""Dropdowns of every panel form, in one place (issue 15): no ``__None`` on any page.

Flask-Admin and WTForms render the empty choice of an optional select as ``<option value="__None">``
and take its label from ``blank_text`` ("" by default, which shows as ``__None``), and a required
select has no empty choice at all, so the browser preselects its first option (a hurried user
registers every worker as male, every nurse as chief physician). ``ChoosePlaceholder`` fixes both
for every form that derives from it (``PanelForm``, and through ``InlineForm`` the worker form's
record forms): each single select gets the empty choice with a translated "— choose —" label, and a
required one left on it is refused with a field error.
"""
from __future__ import annotations

from flask_admin.form import BaseForm
from flask_admin.model.fields import AjaxSelectField
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.validators import StopValidation

CHOOSE = _l("— choose —")
#: blank labels that say nothing (Flask-Admin's "", Select2Field's " ", our old "—")
_SILENT = {"", " ", "—", "-", "---"}


class Chosen:
    """A required select must not be left on its "— choose —" placeholder."""

    field_flags = {"required": True}  # Flask-Admin's asterisk

    def __call__(self, form, field):
        if field.data is None:
            raise StopValidation(str(_l("Choose a value from the list.")))


def placeholder_selects(form) -> None:
    """Give each single select of ``form`` (its own fields, not subforms: each form level calls this)
    a translated empty choice; a required select becomes one that starts empty and must be chosen."""
    for field in form._fields.values():
        if not hasattr(field, "allow_blank") or not hasattr(field, "iter_choices"):
            continue  # not a Flask-Admin select (plain WTForms selects carry their own choices)
        if isinstance(field, AjaxSelectField) or getattr(field.widget, "multiple", False):
            continue
        if not field.allow_blank:
            field.allow_blank = True
            field.validators = [Chosen(), *field.validators]  # a new list: the class's is shared
        if field.blank_text is None or str(field.blank_text) in _SILENT:
            field.blank_text = CHOOSE


class ChoosePlaceholder:
    """Form mixin: ``placeholder_selects`` on every instance (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        placeholder_selects(self)


class InlineForm(ChoosePlaceholder, BaseForm):
    """Base of the inline record forms of the worker form (Flask-Admin's own base, plus the above)."""

    def hidden_tag(self):
        """The record's own hidden fields (its id) only. Without this method Flask-Admin's
        ``render_form_fields`` writes the page's ``csrf_token`` again inside every inline record, so
        the worker form posted one token per record besides its own (issue 15, item 7)."""
        return Markup("").join(field() for field in self
                               if getattr(field.widget, "input_type", None) == "hidden")


__all__ = ["CHOOSE", "ChoosePlaceholder", "Chosen", "InlineForm", "placeholder_selects"]
