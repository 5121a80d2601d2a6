"""The bad-input suite's tally: what it tried and what it found, printed at the end of the pytest run
(``conftest.pytest_terminal_summary``) and by each test (visible with ``-s``)."""
from __future__ import annotations

from collections import Counter

#: requests sent per surface (panel create / panel edit / api), hostile values they carried, answers by
#: status, server errors (5xx) and partial writes (a refused request that changed a row).
TALLY: dict = {"inputs": Counter(), "values": 0, "statuses": Counter(), "server_errors": 0, "partial_writes": 0,
               "accepted": 0, "seconds": 0.0}


def summary() -> str:
    inputs = sum(TALLY["inputs"].values())
    per = ", ".join(f"{k} {v:,}" for k, v in sorted(TALLY["inputs"].items()))
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(TALLY["statuses"].items()))
    return (f"bad-input suite: {inputs:,} inputs tried ({per}), {TALLY['values']:,} hostile values, "
            f"{TALLY['accepted']:,} accepted; {TALLY['server_errors']} server errors, "
            f"{TALLY['partial_writes']} partial writes; statuses {statuses}; {TALLY['seconds']:.0f} s")
