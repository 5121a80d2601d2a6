"""The error vocabulary of the register: every rule broken by the input is a ``DomainError``.

Services raise these; they never commit, roll back, flash or answer HTTP themselves. The unit of work
(``profreg/uow.py``) turns them into what the caller needs: in the panel a translated flash or an
error under the form field (``DomainError``) or 403 (``NotAllowed``); in the CLI a one-line error.

* ``DomainError(message, field=None)``: the input breaks a rule. ``message`` is translated (a lazy
  string is fine) and safe to show; ``field`` names the form field it belongs to (None: the whole
  form). ``errors`` maps field → message (one entry, or several for ``InvalidInput``).
* ``InvalidInput(errors)``: several fields at once (``{"iin": ..., "birth_date": ...}``).
* ``NotAllowed``: the actor may not do this (role, scope): 403 in the panel.
* ``OutOfScope``: a written row would land outside the actor's area of responsibility.

``keeps_writes``: a refusal whose writes must survive it (the failed-login counter of
``auth.services.LoginRefused``; the audit entry of a search for a registered worker,
``workers.services.HireRefused``, from which the failed searches an hour are counted); the unit of
work commits instead of rolling back for these. They are the documented exceptions to "an error
writes nothing".
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class Refusal(Exception):
    """What ``DomainError`` and ``NotAllowed`` share: a translated message, an optional field."""

    #: True only where a write must survive the refusal (see the module docstring).
    keeps_writes = False

    def __init__(self, message=None, field: str | None = None):
        message = message if message is not None else self.default_message()
        super().__init__(str(message))
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict:
        """Field (None: the whole form) → translated message."""
        return {self.field: self.message}

    def default_message(self):
        return _l("The change breaks a rule of the register and was not saved.")


class DomainError(Refusal):
    """A rule of the register was broken; nothing the unit of work did is kept."""


class InvalidInput(DomainError):
    """Bad input in one or several fields: ``errors`` maps a field name to a translated message."""

    def __init__(self, errors: dict):
        errors = dict(errors)
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self._errors = errors
        self.args = ("; ".join(f"{k}: {v}" for k, v in errors.items()),)

    @property
    def errors(self) -> dict:
        return self._errors


class NotAllowed(Refusal):
    """The actor's role or scope does not allow this (403 in the panel). Not a ``DomainError``: a view
    that shows domain errors on its form never swallows a refusal of access."""

    def default_message(self):
        return _l("You are not allowed to do this.")


class OutOfScope(DomainError):
    """A row as it would be saved lies outside the actor's area of responsibility."""

    def default_message(self):
        return _l("The record would fall outside your area of responsibility and was not saved.")


__all__ = ["DomainError", "InvalidInput", "NotAllowed", "OutOfScope", "Refusal"]
