"""The rules of a frozen submission, one source of truth for the monthly report (rule 6), the quarterly
forecast (rule 7) and the answers to the authorized body's requests (``models.FrozenSubmission``).

* ``store_draft``: figures computed now are stored as a draft (regenerated while a draft);
* ``freeze``: the draft is submitted: SHA-256 of its canonical JSON, who and when (the first submission
  is kept: on time or late is decided by it);
* ``refreeze``: a submitted document is replaced by new figures, with a reason; the previous
  submission (checksum, when, who, reason, receipt) goes to ``history``; the receipt is cleared;
* ``receive``: the authorized body acknowledges receipt (who, when) of a submitted document;
* ``frozen_snapshot``: the stored figures, verified against the checksum once submitted;
* ``state``: due / late / submitted on time / submitted late / received, against a due date that
  ``workdays.services.due_day`` gave.
Flush, never commit.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date

from flask_babel import gettext as _

from .. import clock
from ..clock import local_date
from ..errors import DomainError
from ..extensions import db
from .models import STATUS_DRAFT, STATUS_SUBMITTED

#: Calendar states of a document (``state``).
NOT_STARTED, DRAFT, ON_TIME, LATE = "not_started", "draft", "submitted_on_time", "submitted_late"


def canonical_json(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum_of(snapshot_text: str) -> str:
    return hashlib.sha256(snapshot_text.encode("utf-8")).hexdigest()


def frozen_snapshot(row) -> dict:
    """The stored figures; a submitted snapshot is verified against its checksum."""
    if row.status == STATUS_SUBMITTED and checksum_of(row.snapshot) != row.checksum:
        raise DomainError(_("The submitted report does not match its checksum."))
    return json.loads(row.snapshot)


def store_draft(row, data: dict, user):
    """Store ``data`` as the draft of ``row`` (a new row is added to the session)."""
    if row.status == STATUS_SUBMITTED:
        raise DomainError(_("This report has been submitted; resubmit it with a reason to change it."))
    if row.id is None:
        row.history = row.history or "[]"
        db.session.add(row)
    row.status, row.snapshot, row.checksum = STATUS_DRAFT, canonical_json(data), None
    row.generated_at, row.generated_by_id = clock.utcnow_naive(), user.id
    db.session.flush()
    return row


def freeze(row, user):
    """Submit the draft: checksum, who and when."""
    if row.status == STATUS_SUBMITTED:
        raise DomainError(_("This report has already been submitted; resubmission needs a reason."))
    now = clock.utcnow_naive()
    row.status, row.checksum = STATUS_SUBMITTED, checksum_of(row.snapshot)
    row.submitted_at, row.submitted_by_id = now, user.id
    row.first_submitted_at = row.first_submitted_at or now
    row.received_at = row.received_by_id = None
    db.session.flush()
    return row


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(_("Resubmission needs a reason (at least 5 characters)."))
    return reason


def refreeze(row, data: dict, user, reason: str):
    """Replace a submitted document with ``data``; needs a reason; keeps the previous submission in
    ``history`` (with its receipt, if the authorized body had acknowledged it)."""
    reason = clean_reason(reason)
    if row is None or row.status != STATUS_SUBMITTED:
        raise DomainError(_("Only a submitted report can be resubmitted."))
    history = json.loads(row.history or "[]")
    history.append({"checksum": row.checksum, "submitted_at": row.submitted_at.isoformat(timespec="seconds"),
                    "submitted_by_id": row.submitted_by_id, "reason": row.resubmission_reason,
                    "received_at": row.received_at.isoformat(timespec="seconds") if row.received_at else None,
                    "received_by_id": row.received_by_id})
    now = clock.utcnow_naive()
    row.snapshot = canonical_json(data)
    row.checksum = checksum_of(row.snapshot)
    row.generated_at, row.generated_by_id = now, user.id
    row.submitted_at, row.submitted_by_id = now, user.id
    row.resubmission_reason = reason
    row.received_at = row.received_by_id = None  # the new version is acknowledged anew
    row.history = json.dumps(history, ensure_ascii=False)
    db.session.flush()
    return row


def receive(row, user):
    """The authorized body acknowledges receipt of the submitted version (who, when)."""
    if row is None or row.status != STATUS_SUBMITTED:
        raise DomainError(_("Only a submitted document can be received."))
    if row.received_at is not None:
        raise DomainError(_("Receipt of this document has already been acknowledged."))
    frozen_snapshot(row)  # a tampered snapshot is not acknowledged
    row.received_at, row.received_by_id = clock.utcnow_naive(), user.id
    db.session.flush()
    return row


def state(row, due: date, today: date | None = None) -> dict:
    """Status against ``due``: not started, draft, submitted on time, submitted late (+ overdue when
    not submitted after the due date; + received with who and when)."""
    today = today or clock.today()
    if row is None or row.status != STATUS_SUBMITTED:
        code = NOT_STARTED if row is None else DRAFT
        return {"status": code, "overdue": today > due, "due": due, "submitted_on": None, "received": False,
                "received_at": None}
    first = local_date(row.first_submitted_at or row.submitted_at)
    return {"status": ON_TIME if first <= due else LATE, "overdue": False, "due": due, "submitted_on": first,
            "received": row.received_at is not None, "received_at": row.received_at}


def status_label(code: str) -> str:
    """A submission status in the reader's language."""
    return {NOT_STARTED: _("Not started"), DRAFT: _("Draft"), ON_TIME: _("Submitted on time"),
            LATE: _("Submitted late")}.get(code, code)
