"""Cross-domain reactions go through these signals (blinker), not through imports: the domain where
something happens sends, the domains that care connect. A sender never knows its receivers.

* ``reference_changed`` (sender: the reference model class or None): reference data (regions,
  specialties, positions, ...) was added or changed. The admin shell's list filters rebuild their
  options (``admin.listing.invalidate_filter_options``).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

reference_changed = _signals.signal("reference-changed")

__all__ = ["reference_changed"]
