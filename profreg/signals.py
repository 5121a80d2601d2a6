"""Cross-domain reactions go through these signals (blinker), not through imports: the domain where
something happens sends, the domains that care connect. A sender never knows its receivers.

* ``reference_changed`` (sender: the reference model class or None): reference data (regions,
  specialties, positions, ...) was added or changed. The admin shell's list filters rebuild their
  options (``admin.listing.invalidate_filter_options``).
* ``admission_changed`` (sender: the session; ``worker_ids``, ``withdrawn``): certificates or employment
  episodes of ``worker_ids`` were added or changed in the unit of work that is about to commit, by any
  path (panel, inline form, CLI, import, API); a certificate of each worker in ``withdrawn`` left force
  (corrected or annulled). Sent before the commit, so what receivers write commits with it. The
  blocking rule (rule 14.5, per post) lifts and puts blocks at once
  (``certificates.services.sync_on_save``); a change feed (FHIR sync) can listen here too.
* ``figure_refreshed`` (sender: the memo's name; ``waited``, ``seconds``): a shared figure was refreshed
  in the background (``memo``), after ``waited`` seconds for a refresh slot, in ``seconds``. The
  metrics count them (``ops.metrics``): a wait that grows says the slots are too few.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

reference_changed = _signals.signal("reference-changed")
admission_changed = _signals.signal("admission-changed")
figure_refreshed = _signals.signal("figure-refreshed")

__all__ = ["admission_changed", "figure_refreshed", "reference_changed"]
