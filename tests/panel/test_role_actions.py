"""The role matrix's actions that replace deleting national data (docs/integrity.md): end, annul,
correct, confirm — each endpoint answers every role as the table in docs/roles.md says (not as
``access.MATRIX`` says: the rights come from the documented table, like the role-matrix test)."""
from __future__ import annotations

from datetime import date

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
                                                  "end_ground": "1", "end_category": "in_sector",
                                                  "csrf_token": token(client)})
    assert r.status_code == 404


# ------------------------------------------------------- confirm, transfer end, corrections after dismissal
def _refused(code: int) -> bool:
    """Refused by the right (403) or, where the page looks the record up in the user's scope first, not
    found (404): either way nothing is shown or done."""
    return code in (403, 404)


@pytest.mark.parametrize("role", ROLES)
def test_confirm_follows_the_documented_matrix(world, make_client, role):
    client = make_client(world.users[role])
    r = client.post("/admin/workers/confirm/", data={"id": str(world.wA.id), "csrf_token": token(client)})
    world.db.session.expire_all()
    confirmed = world.db.session.get(type(world.wA), world.wA.id).confirmed_at is not None
    if _granted(role, "worker", "confirm"):
        assert r.status_code == 302 and confirmed, (role, r.status_code)
    else:
        assert _refused(r.status_code) and not confirmed, (role, r.status_code)


@pytest.fixture
def transfer(world, today):
    """wA of organization A (region R1) hired by organization B: an open transfer, overdue."""
    from datetime import timedelta

    from profreg.reference.models import Position, Specialty
    from profreg.workers.models import Transfer
    from profreg.workers.services import hire

    ref = world.factory.ref
    hire(world.wA, organization=world.orgB, position=ref(Position, "NURSE"), specialty=ref(Specialty, "NURSING"),
         hire_date=today - timedelta(days=20), today=today)
    world.db.session.commit()
    return world.db.session.query(Transfer).filter_by(worker_id=world.wA.id).one()


@pytest.mark.parametrize("role", ROLES)
def test_transfer_end_follows_the_documented_matrix(world, make_client, transfer, role):
    """The old organization's HR and its region end the episode of a transfer; no one else."""
    client = make_client(world.users[role])
    r = client.get(f"/admin/transfers/end/?id={transfer.id}")
    if _granted(role, "transfer", "end"):
        assert r.status_code == 200, (role, r.status_code)
    else:
        assert _refused(r.status_code), (role, r.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_correction_after_dismissal_follows_the_documented_matrix(world, make_client, today, role):
    from datetime import timedelta

    episode, = world.wA.employments
    episode.end_date = today - timedelta(days=30)
    world.db.session.commit()
    client = make_client(world.users[role])
    worker_page = client.get(f"/admin/departed/worker/?id={world.wA.id}")
    episode_page = client.get(f"/admin/departed/episode/?id={episode.id}")
    if _granted(role, "worker", "correct"):
        assert worker_page.status_code == 200, (role, worker_page.status_code)
    else:
        assert _refused(worker_page.status_code), (role, worker_page.status_code)
    if _granted(role, "employment", "correct"):
        assert episode_page.status_code == 200, (role, episode_page.status_code)
    else:
        assert _refused(episode_page.status_code), (role, episode_page.status_code)


@pytest.fixture
def fresh_records(world):
    """A certificate and a personnel document of wA that organization A entered today (inside its
    correction window), so the documented rights, not the window, decide."""
    from profreg import clock
    from profreg.certificates.models import Certificate
    from profreg.documents.models import PersonnelDocument
    from profreg.reference import models as r

    spec, kind = world.factory.ref(r.Specialty, "NURSING"), world.factory.ref(r.PersonnelDocumentType, "HIRE_ORDER")
    mine = {"entered_by_organization_id": world.orgA.id, "entered_at": clock.utcnow_naive()}
    cert = Certificate(worker=world.wA, specialty=spec, number="KZ-ROLE-0001", issuer="НЦНЭ",
                       issue_date=date(2025, 1, 10), valid_until=date(2030, 1, 9), **mine)
    doc = PersonnelDocument(worker=world.wA, doc_type=kind, organization_id=world.orgA.id, number="П-ROLE",
                            doc_date=date(2026, 1, 10), **mine)
    world.db.session.add_all([cert, doc])
    world.db.session.commit()
    return {"worker_record": ("certificates", cert.id), "personnel_document": ("documents", doc.id)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", ["worker_record", "personnel_document"])
def test_correct_and_annul_of_records_follow_the_documented_matrix(world, make_client, fresh_records, role,
                                                                   resource):
    """Co and An of worker records (docs/roles.md): the correction and annulment pages open (200) for
    the roles granted them and answer 403 to the others, on a record in every role's scope."""
    endpoint, rec_id = fresh_records[resource]
    client = make_client(world.users[role])
    for action, page in (("correct", "correct"), ("annul", "annul")):
        r = client.get(f"/admin/{endpoint}/{page}/?id={rec_id}")
        expected = 200 if _granted(role, resource, action) else 403
        assert r.status_code == expected, (role, resource, action, r.status_code)
