"""The role matrix's actions that replace deleting national data (docs/integrity.md): end, annul,
correct, confirm — each endpoint answers every role as the table in docs/roles.md says (not as
``access.MATRIX`` says: the rights come from the documented table, like the role-matrix test)."""
from __future__ import annotations

import pytest

from tests.panel.conftest import ROLES, token
from tests.panel.roles_doc import DOCUMENTED


def _granted(role, resource, action) -> bool:
    return action in DOCUMENTED[role].get(resource, frozenset())


@pytest.mark.parametrize("role", ROLES)
def test_end_employment_follows_the_documented_matrix(world, make_client, role):
    client = make_client(world.users[role])
    r = client.get(f"/admin/workers/end/?id={world.wA.id}")
    if _granted(role, "employment", "end"):
        assert r.status_code == 200, role
    else:
        # refused by the right (403) or, for roles that do not see workers at all, by the view (403)
        assert r.status_code == 403, (role, r.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_annul_follows_the_documented_matrix(world, make_client, role):
    client = make_client(world.users[role])
    r = client.get(f"/admin/workers/annul/?id={world.wA.id}")
    assert r.status_code == (200 if _granted(role, "worker", "annul") else 403), (role, r.status_code)
    annulled = client.get("/admin/workers/annulled/")
    assert annulled.status_code == (200 if _granted(role, "worker", "annul") else 403), role


def test_end_employment_outside_the_scope_is_not_found(world, make_client):
    """hr of organization A cannot reach a worker of B through the end page (get_one: 404)."""
    client = make_client(world.users["hr"])
    assert client.get(f"/admin/workers/end/?id={world.wB.id}").status_code == 404
    r = client.post("/admin/workers/end/", data={"ids": str(world.wB.id), "end_date": "2026-11-25",
                                                  "end_reason": "1", "csrf_token": token(client)})
    assert r.status_code == 404
