"""The bad-input suite (issue 18, item 10): the panel's world and a token per role, and the tally's
summary at the end of the run."""
from __future__ import annotations

from tests.api.conftest import tokens  # noqa: F401  (a bearer token per role of the world)
from tests.panel.conftest import make_client, world  # noqa: F401  (the panel's organizations, workers, users)

from .tally import TALLY, summary


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if sum(TALLY["inputs"].values()):
        terminalreporter.write_sep("-", "bad-input suite")
        terminalreporter.write_line(summary())
