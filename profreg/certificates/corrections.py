"""The certificates domain's rule for corrections of a certificate (docs/certificates.md,
docs/integrity.md): only the region coordinator and the ministry extend a certificate's validity or
remove its end date. An organization fixes the other data (number, issuer, date of issue, specialty) or
shortens the validity within its correction window; a renewal is a new certificate.

Registered in ``workers.records.CORRECTION_CHECKS`` when this module is imported: the certificates
domain's ``web.py`` (run for every application: panel, CLI, tests) and ``admin.py`` import it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import access
from ..workers.records import correction_check
from .models import Certificate

VALIDITY_RESERVED = _l("Only the region or the ministry may extend a certificate's validity or remove its "
                       "end date: a correction never lifts a block by itself. A renewed certificate is "
                       "entered as a new certificate.")


def extends_validity(old_until, new_until) -> bool:
    """Does changing ``valid_until`` from ``old_until`` to ``new_until`` lengthen the validity? Emptying
    it (no end date) does; setting a date on an open-ended certificate shortens it."""
    if new_until == old_until:
        return False
    if new_until is None:
        return True
    return old_until is not None and new_until > old_until


@correction_check(Certificate)
def validity_reserved(old: Certificate, changes: dict, user):
    """The message refusing the correction, or None when it is allowed."""
    if "valid_until" in changes and extends_validity(old.valid_until, changes["valid_until"]) \
            and not access.may_extend_validity(user):
        return VALIDITY_RESERVED
    return None


__all__ = ["VALIDITY_RESERVED", "extends_validity", "validity_reserved"]
