"""Cross-domain reactions go through these signals (blinker), not through imports: the domain where
something happens sends, the domains that care connect. A sender never knows its receivers.

* ``reference_changed`` (sender: the reference model class or None): reference data (regions,
  specialties, positions, ...) was added or changed. The admin shell's list filters rebuild their
  options (``admin.listing.invalidate_filter_options``).
* ``certificates_saved`` (sender: the session; ``worker_ids``): certificates of these workers were
  added or changed in the unit of work that is about to commit, by any path (panel, inline form,
  CLI, import, API). Sent before the commit, so what receivers write commits with it. The blocking
  rule lifts the block of a worker who now holds a valid certificate
  (``certificates.services.unblock_on_save``); a future change feed (FHIR sync) listens here too.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

reference_changed = _signals.signal("reference-changed")
certificates_saved = _signals.signal("certificates-saved")

__all__ = ["certificates_saved", "reference_changed"]
