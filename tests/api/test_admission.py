"""GET /api/v1/admission agrees with the panel's blocked status and the sweep (issue 17, acceptance):
valid, expired, another specialty, no certificate, a future date."""
from __future__ import annotations

from datetime import timedelta

import pytest

from profreg.certificates import services as certs
from profreg.workers.models import Employment
from tests.api.conftest import auth


@pytest.fixture
def cases(world, today):
    f, db = world.factory, world.db
    out = {
        "valid": f.worker(world.orgA, surname="Валидова", certificate_until=today + timedelta(days=300)),
        "expired": f.worker(world.orgA, surname="Истекова", certificate_until=today - timedelta(days=1)),
        "other": f.worker(world.orgA, surname="Другова"),
        "none": f.worker(world.orgA, surname="Безсертова"),
        "future": f.worker(world.orgA, surname="Будущева"),
    }
    f.certificate(out["other"], specialty="GEN_MED", valid_until=today + timedelta(days=300))
    # a certificate issued only next month: not valid today, valid on a day after its issue
    f.certificate(out["future"], specialty="NURSING", issue=today + timedelta(days=30),
                  valid_until=today + timedelta(days=1000))
    db.session.commit()
    return out


def _admission(client, raw, worker, specialty="NURSING", on=None):
    url = f"/api/v1/admission?iin={worker.iin}&specialty={specialty}" + (f"&on={on.isoformat()}" if on else "")
    r = client.get(url, headers=auth(raw))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_admission_agrees_with_the_sweep_and_the_blocked_status(client, world, tokens, cases, today, db):
    certs.sweep(today)
    db.session.commit()
    db.session.expire_all()
    expected = {"valid": True, "expired": False, "other": False, "none": False, "future": False}
    for name, worker in cases.items():
        answer = _admission(client, tokens["integration"], worker)
        episode = db.session.query(Employment).filter_by(worker_id=worker.id).one()
        assert answer["admitted"] is expected[name], name
        # one rule: not admitted to the post's specialty ⇔ the sweep blocked the post and the worker
        assert (episode.blocked_at is not None) is (not answer["admitted"]), name
        assert answer["blocked"] is (worker.status == "blocked") is (not expected[name]), name
        assert (answer["reason"] is None) is expected[name], name
    assert _admission(client, tokens["integration"], cases["valid"])["certificate"]["valid_until"] == \
        (today + timedelta(days=300)).isoformat()
    expired = _admission(client, tokens["integration"], cases["expired"])
    assert expired["certificate"]["valid_until"] == (today - timedelta(days=1)).isoformat()
    assert _admission(client, tokens["integration"], cases["none"])["certificate"] is None
    # another specialty: admitted there, not in nursing
    assert _admission(client, tokens["integration"], cases["other"], "GEN_MED")["admitted"] is True
    # a future date: the certificate issued next month admits then, not today
    later = today + timedelta(days=60)
    assert _admission(client, tokens["integration"], cases["future"], on=later)["admitted"] is True
    assert _admission(client, tokens["integration"], cases["valid"], on=today + timedelta(days=301))["admitted"] is False
    # the panel's admission rule says the same for a new clinical post
    from profreg.reference.models import Position, Specialty

    nurse, nursing = world.factory.ref(Position, "NURSE"), world.factory.ref(Specialty, "NURSING")
    for name, worker in cases.items():
        refused = certs.clinical_admission_error(worker, nurse, nursing, today) is not None
        assert refused is (not expected[name]), name


def test_admission_scope_and_errors(client, world, tokens, cases):
    # hr of organization A: its workers; organization B's worker is not found
    assert _admission(client, tokens["hr"], cases["valid"])["admitted"] is True
    r = client.get(f"/api/v1/admission?iin={world.wB.iin}&specialty=NURSING", headers=auth(tokens["hr"]))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    # integration: nationwide
    assert _admission(client, tokens["integration"], world.wB)["admitted"] is True
    # an association has no admission check
    r = client.get(f"/api/v1/admission?iin={world.wB.iin}", headers=auth(tokens["association"]))
    assert r.status_code == 403
    # an unknown specialty and a bad date: field errors, in the language asked for
    r = client.get(f"/api/v1/admission?iin={world.wB.iin}&specialty=NOPE", headers=auth(tokens["integration"]))
    assert r.status_code == 422 and r.get_json(force=True)["errors"][0]["field"] == "specialty"
    r = client.get(f"/api/v1/admission?iin={world.wB.iin}&on=31.12.2026",
                   headers=auth(tokens["integration"], **{"Accept-Language": "ru"}))
    body = r.get_json(force=True)
    assert r.status_code == 422 and body["errors"][0]["field"] == "on"
    assert "дата" in body["errors"][0]["message"].lower()
    r = client.get(f"/api/v1/admission?iin={world.wB.iin}&on=31.12.2026",
                   headers=auth(tokens["integration"], **{"Accept-Language": "kk"}))
    assert "күн" in r.get_json(force=True)["errors"][0]["message"].lower()
