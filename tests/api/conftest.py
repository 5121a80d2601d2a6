"""The API's tests: the panel's world (tests/panel/conftest.py) and a token per role."""
from __future__ import annotations

import pytest

from profreg.api.services import create_token
from tests.panel.conftest import world  # noqa: F401  (the same organizations, workers and users)


@pytest.fixture
def tokens(world, db):  # noqa: F811
    """role → the raw bearer token of that role's user in the world."""
    out = {}
    for role, user in world.users.items():
        _row, raw = create_token(user, f"{role} test")
        out[role] = raw
    db.session.commit()
    return out


def auth(raw: str, **headers) -> dict:
    return {"Authorization": f"Bearer {raw}", **headers}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Token ids are reused after a rolled-back test (SQLite): each test starts with empty buckets."""
    from profreg.extensions import limiter

    limiter.reset()
    yield
    limiter.reset()
