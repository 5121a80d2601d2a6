"""FHIR R4 (issue 17, item 3 and acceptance): every resource and Bundle the API returns parses with
``fhir.resources.R4B``; scope as for the JSON API; bulk export through the queue."""
from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from profreg.api.fhir_resources import BIN_SYSTEM, IIN_SYSTEM
from tests.api.conftest import auth

MODELS = {"Practitioner": Practitioner, "PractitionerRole": PractitionerRole, "Organization": Organization,
          "Location": Location, "Bundle": Bundle, "OperationOutcome": OperationOutcome,
          "CapabilityStatement": CapabilityStatement}


def parsed(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json(force=True)
    model = MODELS[body["resourceType"]].model_validate(body)
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry", []):
            MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    return body, model


def test_metadata_is_public_and_a_capability_statement(client):
    body, _ = parsed(client.get("/fhir/metadata"))
    assert body["fhirVersion"].startswith("4.0")
    assert {r["type"] for r in body["rest"][0]["resource"]} == {"Practitioner", "PractitionerRole", "Organization",
                                                                "Location"}


def test_identifier_search_ministry_finds_one_other_org_finds_none_no_token_401(client, world, tokens, db):
    hr_b = world.factory.user("hr", org=world.orgB)
    from profreg.api.services import create_token

    _row, raw_b = create_token(hr_b, "hr B")
    db.session.commit()
    for query in (world.wA.iin, f"{IIN_SYSTEM}|{world.wA.iin}"):
        body, bundle = parsed(client.get(f"/fhir/Practitioner?identifier={query}", headers=auth(tokens["ministry"])))
        assert bundle.type == "searchset" and len(body["entry"]) == 1
        p = body["entry"][0]["resource"]
        assert p["identifier"][0] == {"use": "official", "system": IIN_SYSTEM, "value": world.wA.iin}
        assert p["gender"] == "female" and p["birthDate"] == world.wA.birth_date.isoformat()
        assert any(q["identifier"][0]["system"].endswith("/certificate") and q["period"].get("end")
                   for q in p["qualification"])
        assert any(q["identifier"][0]["system"].endswith("/diploma") for q in p["qualification"])
        # the codes and issuers are the register's: the certificate's specialty, the diploma's level and school
        cert = next(q for q in p["qualification"] if q["identifier"][0]["system"].endswith("/certificate"))
        assert cert["code"]["coding"][0]["code"] == "NURSING" and cert["code"]["text"]
        diploma = next(q for q in p["qualification"] if q["identifier"][0]["value"] == f"ED{world.wA.id}")
        assert diploma["code"]["coding"][0]["code"] == "SECONDARY"
        assert diploma["issuer"]["display"] and diploma["period"] == {"start": "2008-06-01"}
        assert p["name"][0]["text"].startswith("Қасымова ") and p["meta"]["lastUpdated"].endswith("Z")
    body, _ = parsed(client.get(f"/fhir/Practitioner?identifier=urn:other|{world.wA.iin}", headers=auth(tokens["ministry"])))
    assert body.get("entry", []) == []
    body, _ = parsed(client.get(f"/fhir/Practitioner?identifier={world.wA.iin}", headers=auth(raw_b)))
    assert body.get("entry", []) == []
    parsed(client.get(f"/fhir/Practitioner?identifier={world.wA.iin}"), 401)
    # integration: nationwide; association: no FHIR
    body, _ = parsed(client.get(f"/fhir/Practitioner?identifier={world.wB.iin}", headers=auth(tokens["integration"])))
    assert len(body["entry"]) == 1
    parsed(client.get("/fhir/Practitioner", headers=auth(tokens["association"])), 403)


def test_search_parameters_paging_and_reads(client, world, tokens):
    h = auth(tokens["ministry"])
    body, _ = parsed(client.get("/fhir/Practitioner?_count=2", headers=h))
    assert len(body["entry"]) == 2
    nxt = next(link["url"] for link in body["link"] if link["relation"] == "next")
    body2, _ = parsed(client.get(nxt.replace("http://localhost", ""), headers=h))
    seen = {e["resource"]["id"] for e in body["entry"]} | {e["resource"]["id"] for e in body2["entry"]}
    assert len(seen) == 3 and not any(link["relation"] == "next" for link in body2["link"])
    body, _ = parsed(client.get("/fhir/Practitioner?name=әбен", headers=h))
    assert [e["resource"]["name"][0]["family"] for e in body["entry"]] == ["Әбенова"]
    body, _ = parsed(client.get(f"/fhir/Practitioner?organization=Organization/{world.orgB.id}", headers=h))
    assert [e["resource"]["id"] for e in body["entry"]] == [str(world.wB.id)]
    body, _ = parsed(client.get("/fhir/Practitioner?specialty=GEN_MED", headers=h))
    assert [e["resource"]["id"] for e in body["entry"]] == [str(world.wA2.id)]
    body, _ = parsed(client.get("/fhir/Practitioner?_lastUpdated=ge2000-01-01", headers=h))
    assert len(body["entry"]) == 3
    body, _ = parsed(client.get("/fhir/Practitioner?_lastUpdated=lt2000-01-01", headers=h))
    assert body.get("entry", []) == []
    parsed(client.get(f"/fhir/Practitioner/{world.wA.id}", headers=h))
    body, _ = parsed(client.get(f"/fhir/PractitionerRole?practitioner=Practitioner/{world.wA.id}", headers=h))
    role = body["entry"][0]["resource"]
    assert role["organization"]["reference"] == f"Organization/{world.orgA.id}" and role["active"] is True
    assert role["code"][0]["coding"][0]["code"] == "NURSE" and role["specialty"][0]["coding"][0]["code"] == "NURSING"
    parsed(client.get(f"/fhir/PractitionerRole/{role['id']}", headers=h))
    body, _ = parsed(client.get(f"/fhir/Organization?identifier={BIN_SYSTEM}|{world.orgB.bin}", headers=h))
    assert [e["resource"]["id"] for e in body["entry"]] == [str(world.orgB.id)]
    parsed(client.get(f"/fhir/Organization/{world.orgA.id}", headers=h))
    body, _ = parsed(client.get("/fhir/Location?identifier=710000000", headers=h))
    loc = body["entry"][0]["resource"]
    assert loc["physicalType"]["coding"][0]["code"] == "jdn"
    parsed(client.get(f"/fhir/Location/{loc['id']}", headers=h))
    parsed(client.get("/fhir/Practitioner/999999999", headers=h), 404)
    # the organization roles: their organization only
    body, _ = parsed(client.get("/fhir/Organization", headers=auth(tokens["hr"])))
    assert [e["resource"]["id"] for e in body["entry"]] == [str(world.orgA.id)]


def _ndjson_check(client, h, manifest, expected_practitioners):
    counts = {}
    for out in manifest["output"]:
        r = client.get(out["url"].replace("http://localhost", ""), headers=h)
        assert r.status_code == 200 and r.mimetype == "application/fhir+ndjson"
        lines = [ln for ln in r.get_data(as_text=True).splitlines() if ln]
        for line in lines:
            MODELS[out["type"]].model_validate(json.loads(line))
        counts[out["type"]] = len(lines)
        assert out["count"] == len(lines)
    assert counts["Practitioner"] == expected_practitioners
    return counts


@pytest.mark.commits  # on PostgreSQL the Practitioners are rendered on connections of their own
def test_bulk_export_inline(client, world, tokens):
    h = auth(tokens["ministry"], Prefer="respond-async")
    r = client.get("/fhir/$export", headers=h)
    assert r.status_code == 202, r.get_data(as_text=True)
    status = client.get(r.headers["Content-Location"].replace("http://localhost", ""), headers=h)
    assert status.status_code == 200
    manifest = status.get_json()
    assert manifest["requiresAccessToken"] is True
    counts = _ndjson_check(client, h, manifest, 3)
    assert counts["PractitionerRole"] == 3 and counts["Organization"] == 3 and counts["Location"] >= 20
    # another user cannot read the files
    other = client.get(manifest["output"][0]["url"].replace("http://localhost", ""), headers=auth(tokens["region"]))
    assert other.status_code == 404
    r = client.get("/fhir/$export?_type=Patient", headers=h)
    assert r.status_code == 400


@pytest.mark.commits
def test_bulk_export_of_the_demo_country_through_the_queue(app, client, tmp_path):
    """A real Redis queue and a real ``rq worker --burst`` (its own app from the environment)."""
    import os
    import subprocess
    import sys
    import uuid

    from redis import Redis

    from profreg.api.services import create_token
    from profreg.auth.models import User
    from profreg.demo.generator import create_demo_users, generate
    from profreg.extensions import db

    url = "redis://127.0.0.1:6379/5"
    try:
        Redis.from_url(url).ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    generate(workers=60, seed=3)
    create_demo_users()
    db.session.commit()
    ministry = db.session.execute(db.select(User).where(User.email == "ministry@profreg.kz")).scalar_one()
    _row, raw = create_token(ministry, "bulk")
    db.session.commit()
    name = f"profreg-test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=url, RQ_QUEUE=name, EXPORT_FOLDER=str(tmp_path))
    try:
        h = auth(raw)
        r = client.get("/fhir/$export?_type=Practitioner,Organization", headers=h)
        assert r.status_code == 202
        poll = r.headers["Content-Location"].replace("http://localhost", "")
        assert client.get(poll, headers=h).status_code == 202  # queued, nobody ran it yet
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": url,
               "RQ_QUEUE": name, "EXPORT_FOLDER": str(tmp_path), "PROFREG_CONFIG": "default"}
        done = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", url, name],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        status = client.get(poll, headers=h)
        assert status.status_code == 200, status.get_data(as_text=True)
        workers = db.session.execute(db.select(db.func.count()).select_from(db.text("worker"))).scalar()
        _ndjson_check(client, h, status.get_json(), workers)
    finally:
        app.config.update(REDIS_URL=None, RQ_QUEUE="profreg")
        r = Redis.from_url(url)
        for key in r.scan_iter(f"*{name}*"):
            r.delete(key)
        r.srem("rq:queues", f"rq:queue:{name}")


@pytest.mark.commits  # the export reads on connections of its own: the rows must be committed
@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_database_rendered_practitioners_are_the_python_ones(app, world, db, lang):
    """The bulk export's Practitioners (PostgreSQL renders them, ``practitioner_json_select``) equal the
    ones the search pages build (``practitioners``) for the same workers: empty and missing parts,
    characters JSON escapes, classifier names in the export's language."""
    import io
    from datetime import date, datetime

    from flask_babel import force_locale

    from profreg.api import fhir_export
    from profreg.api import fhir_resources as R
    from profreg.certificates.models import Certificate
    from profreg.education.models import EducationDocument, EducationInstitution
    from profreg.reference import models as r
    from profreg.workers.models import Worker

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the database renders the Practitioners on PostgreSQL only")
    f = world.factory
    kz, gen_med, nursing = f.ref(r.Country, "KZ"), f.ref(r.Specialty, "GEN_MED"), f.ref(r.Specialty, "NURSING")
    residency, secondary = f.ref(r.EducationLevel, "RESIDENCY"), f.ref(r.EducationLevel, "SECONDARY")
    odd = f.worker(world.orgA, surname='Ким "Тэ" \\ О\'Нил', name="", patronymic="Ли\tна\nя", sex="M")
    odd.confirmed_at = datetime(2099, 1, 2, 3, 4, 5, 678901)  # later than updated_at: the lastUpdated
    bare = f.worker(None, surname="Жоқ", name="", patronymic=None)  # no education, no given name
    db.session.add_all([  # one without an end or an issuer, one whose issuer JSON escapes
        Certificate(worker=bare, specialty=gen_med, number="KZ-T-NOEND", issuer="",
                    issue_date=date(2020, 5, 6), valid_until=None),
        Certificate(worker=odd, specialty=nursing, number='KZ "1"',
                    issuer="Орталық \\ «НЦНЭ»", issue_date=date(2025, 1, 1), valid_until=date(2030, 1, 1))])
    school = EducationInstitution(name="", country=kz, city="Астана")
    db.session.add(school)
    db.session.flush()
    other_school = world.wA.education_documents[0].institution
    db.session.add_all([
        EducationDocument(worker=odd, kind="postgraduate", level=residency, institution=school,
                          series=None, number='№ 1 "A"', issue_date=None),
        EducationDocument(worker=odd, kind="general", level=secondary,
                          institution=other_school, series="ЖБ", number="0001",
                          issue_date=date(2005, 6, 30)),
    ])
    annulled = f.worker(world.orgB, surname="Жойылған")
    annulled.annulled_at = datetime(2026, 1, 1)
    db.session.commit()
    integration = world.users["integration"]
    ids = [w.id for w in (world.wA, world.wA2, world.wB, odd, bare)]
    with force_locale(lang):
        out = io.BytesIO()
        n = fhir_export._practitioners_by_copy(integration, out, lambda _n: None)
        rendered = [json.loads(line) for line in out.getvalue().decode().splitlines()]
        rows = db.session.execute(R.practitioner_select().where(Worker.in_register).order_by(Worker.id)).all()
        built = R.practitioners(rows)
    assert n == len(rendered) == len(built) == 5 and [int(p["id"]) for p in rendered] == ids
    assert rendered == built
    for p in rendered:
        Practitioner.model_validate(p)
    by_id = {int(p["id"]): p for p in rendered}
    assert by_id[odd.id]["meta"]["lastUpdated"] == "2099-01-02T03:04:05Z"
    assert by_id[odd.id]["name"][0]["given"] == ["Ли\tна\nя"] and by_id[odd.id]["gender"] == "male"
    assert "qualification" in by_id[bare.id] and "given" not in by_id[bare.id]["name"][0]
