"""The JSON API's workers, organizations, writes and change feed (issue 17, item 2): the same rows as
the panel, the panel's services for writes, optimistic locking with ETag / If-Match."""
from __future__ import annotations

from datetime import timedelta

from profreg import clock
from profreg.api.services import create_token
from tests.api.conftest import auth


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:800]
    return resp.get_json()


def test_workers_list_scope_filters_and_cursor(client, world, tokens):
    h = auth(tokens["ministry"])
    all_ = _ok(client.get("/api/v1/workers", headers=h))["items"]
    assert {w["iin"] for w in all_} == {world.wA.iin, world.wA2.iin, world.wB.iin}
    page1 = _ok(client.get("/api/v1/workers?limit=2", headers=h))
    page2 = _ok(client.get(f"/api/v1/workers?limit=2&cursor={page1['next_cursor']}", headers=h))
    assert len(page1["items"]) == 2 and len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert {w["iin"] for w in page1["items"] + page2["items"]} == {w["iin"] for w in all_}
    assert [w["surname"] for w in _ok(client.get("/api/v1/workers?surname=ИВАН", headers=h))["items"]] == ["Иванова"]
    assert [w["iin"] for w in _ok(client.get(f"/api/v1/workers?org={world.orgB.bin}", headers=h))["items"]] == [world.wB.iin]
    assert len(_ok(client.get("/api/v1/workers?region=710000000", headers=h))["items"]) == 2
    assert [w["iin"] for w in _ok(client.get(f"/api/v1/workers?iin={world.wA2.iin}", headers=h))["items"]] == [world.wA2.iin]
    assert _ok(client.get("/api/v1/workers?status=blocked", headers=h))["items"] == []
    assert _ok(client.get("/api/v1/workers?updated_since=2999-01-01T00:00:00", headers=h))["items"] == []
    assert client.get("/api/v1/workers?cursor=@@@", headers=h).status_code == 422
    assert client.get("/api/v1/workers?status=gone", headers=h).status_code == 422
    # hr of organization A: its workers only, the same rows as its panel list
    assert {w["iin"] for w in _ok(client.get("/api/v1/workers", headers=auth(tokens["hr"])))["items"]} == {world.wA.iin}
    assert client.get(f"/api/v1/workers/{world.wB.iin}", headers=auth(tokens["hr"])).status_code == 404
    # region R1: organizations A and A2
    assert {w["iin"] for w in _ok(client.get("/api/v1/workers", headers=auth(tokens["region"])))["items"]} == \
        {world.wA.iin, world.wA2.iin}


def test_association_sees_its_specialty_masked_and_only_cpd_evidence(client, world, tokens):
    items = _ok(client.get("/api/v1/workers", headers=auth(tokens["association"])))["items"]
    assert len(items) == 2  # the nursing certificate holders
    assert all(w["iin"].startswith("•") and w["iin"].endswith(world.wA.iin[-4:]) or w["iin"].endswith(world.wB.iin[-4:])
               for w in items)
    assert all(w["birth_date"] is None and w["sex"] is None for w in items)
    detail = _ok(client.get(f"/api/v1/workers/{world.wA.iin}", headers=auth(tokens["association"])))
    assert detail["episodes"] == [] and detail["certificates"] and detail["education"] and detail["cpd"]
    assert world.wA.iin not in str(detail)


def test_worker_detail_has_episodes_education_certificates_cpd(client, world, tokens):
    r = client.get(f"/api/v1/workers/{world.wA.iin}", headers=auth(tokens["hr"]))
    body = _ok(r)
    assert r.headers["ETag"] == f'"{body["etag"]}"'
    assert body["episodes"][0]["organization"] == world.orgA.bin and body["episodes"][0]["position"] == "NURSE"
    assert body["certificates"][0]["specialty"] == "NURSING" and body["education"] and body["cpd"]


def test_two_clients_with_the_same_etag_the_second_gets_412(client, world, tokens, db):
    hr2 = world.factory.user("hr", org=world.orgA)
    _row, raw2 = create_token(hr2, "second HRIS")
    db.session.commit()
    url = f"/api/v1/workers/{world.wA.iin}"
    tag = client.get(url, headers=auth(tokens["hr"])).headers["ETag"]
    assert tag == client.get(url, headers=auth(raw2)).headers["ETag"]
    first = client.patch(url, json={"phone": "+77011111111"}, headers=auth(tokens["hr"], **{"If-Match": tag}))
    body = _ok(first)
    assert first.headers["ETag"] != tag and body["etag"] != tag.strip('"')
    second = client.patch(url, json={"phone": "+77012222222"}, headers=auth(raw2, **{"If-Match": tag}))
    assert second.status_code == 412 and second.mimetype == "application/problem+json"
    db.session.expire_all()
    assert world.wA.phone == "+77011111111"
    # a certificate added a minute later changes the ETag too (the record's last save)
    tag = first.headers["ETag"]
    with clock.frozen_at(clock.now() + timedelta(minutes=1)):
        added = client.post(f"{url}/certificates", headers=auth(tokens["hr"], **{"If-Match": tag}),
                            json={"number": "KZ-API-1", "specialty": "GEN_MED", "issue_date": "2025-01-10",
                                  "valid_until": "2030-01-09"})
    assert _ok(added, 201)["certificates"][-1]["number"] == "KZ-API-1"
    stale = client.patch(url, json={"phone": "+77013333333"}, headers=auth(raw2, **{"If-Match": tag}))
    assert stale.status_code == 412


def test_writes_go_through_the_panels_services(client, world, tokens, today, db):
    h = auth(tokens["hr"])
    # a certificate with a taken number or dates out of order: field errors, nothing written
    tag = client.get(f"/api/v1/workers/{world.wA.iin}", headers=h).headers["ETag"]
    taken = world.wA.certificates[0].number
    r = client.post(f"/api/v1/workers/{world.wA.iin}/certificates", headers={**h, "If-Match": tag},
                    json={"number": taken, "specialty": "NURSING", "issue_date": "2025-01-10",
                          "valid_until": "2024-01-09"})
    fields = {e["field"] for e in r.get_json(force=True)["errors"]}
    assert r.status_code == 422 and fields == {"number", "valid_until"}
    # hire of a registered worker (organization B's nurse) into A: IIN, surname and date of birth
    r = client.post(f"/api/v1/workers/{world.wB.iin}/episodes", headers=h,
                    json={"surname": "Иванова", "birth_date": world.wB.birth_date.isoformat(), "position": "NURSE",
                          "specialty": "NURSING", "hire_date": today.isoformat()})
    body = _ok(r, 201)
    assert body["episode"]["organization"] == world.orgA.bin
    # a wrong surname: refused like the panel (and the attempt is kept in the audit trail)
    r = client.post(f"/api/v1/workers/{world.wA2.iin}/episodes", headers=h,
                    json={"surname": "Другая", "birth_date": world.wA2.birth_date.isoformat(), "position": "NURSE",
                          "hire_date": today.isoformat()})
    assert r.status_code == 422
    # a clinical post without a valid certificate in its specialty: the admission rule refuses it
    r = client.post(f"/api/v1/workers/{world.wA2.iin}/episodes", headers=h,
                    json={"surname": "Әбенова", "birth_date": world.wA2.birth_date.isoformat(), "position": "DOCTOR",
                          "specialty": "SURGERY", "hire_date": today.isoformat()})
    assert r.status_code == 422 and r.get_json(force=True)["errors"][0]["field"] == "position"
    # end the episode (If-Match)
    detail = client.get(f"/api/v1/workers/{world.wB.iin}", headers=h)
    episode = next(e for e in detail.get_json()["episodes"] if e["organization"] == world.orgA.bin)
    r = client.post(f"/api/v1/workers/{world.wB.iin}/episodes/{episode['id']}/end",
                    headers={**h, "If-Match": detail.headers["ETag"]},
                    json={"end_date": (today + timedelta(days=10)).isoformat(), "end_ground": "EMPLOYEE_INITIATIVE",
                          "end_category": "in_sector"})
    ended = _ok(r)
    assert next(e for e in ended["episodes"] if e["id"] == episode["id"])["end_date"]


def test_register_and_hire_a_new_worker(client, world, tokens, today, db):
    from profreg.education.models import EducationInstitution

    inst = db.session.query(EducationInstitution).first()
    payload = {"iin": "900101400018", "surname": "Жаңабаева", "name": "Гүлнар", "sex": "F", "birth_date": "1990-01-01",
               "birth_place": "Алматы", "id_document": {"type": "ID_CARD", "number": "041234567", "issuer": "МВД РК",
                                                         "issued": "2020-01-01"},
               "residence_address": "Астана", "registration_place": "Астана", "registration_date": "2019-01-01",
               "education": [{"level": "SECONDARY", "institution": inst.name, "number": "ТКБ-1"}],
               "position": "CHIEF_DOCTOR", "specialty": None, "hire_date": today.isoformat()}
    from profreg.identity import make_iin

    payload["iin"] = make_iin(__import__("datetime").date(1990, 1, 1), "F", 777)
    r = client.post("/api/v1/workers", json=payload, headers=auth(tokens["hr"]))
    body = _ok(r, 201)
    assert body["worker"]["iin"] == payload["iin"] and body["episode"]["organization"] == world.orgA.bin
    # the same IIN again: the panel's answer
    again = client.post("/api/v1/workers", json=payload, headers=auth(tokens["hr"]))
    assert again.status_code == 422 and again.get_json(force=True)["errors"][0]["field"] == "iin"
    # no education document: rule 8
    bad = client.post("/api/v1/workers", json={**payload, "education": []}, headers=auth(tokens["hr"]))
    assert bad.status_code == 422
    # the ministry does not register workers
    assert client.post("/api/v1/workers", json=payload, headers=auth(tokens["ministry"])).status_code == 403


def test_change_feed_in_order_within_scope(client, world, tokens, db):
    h = auth(tokens["hr"])
    start = _ok(client.get("/api/v1/changes", headers=h))
    assert all(item["iin"] == world.wA.iin for item in start["items"])  # organization A's worker only
    cursor = start["next_cursor"]
    tag = client.get(f"/api/v1/workers/{world.wA.iin}", headers=h).headers["ETag"]
    client.post(f"/api/v1/workers/{world.wA.iin}/certificates", headers={**h, "If-Match": tag},
                json={"number": "KZ-FEED-1", "specialty": "NURSING", "issue_date": "2025-02-01"})
    feed = _ok(client.get(f"/api/v1/changes?since={cursor}", headers=h))
    assert [i["type"] for i in feed["items"]] == ["certificate.added"]
    assert _ok(client.get(f"/api/v1/changes?since={feed['next_cursor']}", headers=h))["items"] == []
    # organization B's HR does not see A's events
    hr_b = world.factory.user("hr", org=world.orgB)
    _row, raw_b = create_token(hr_b, "B")
    db.session.commit()
    seen_by_b = _ok(client.get("/api/v1/changes", headers=auth(raw_b)))["items"]
    assert seen_by_b and {i["iin"] for i in seen_by_b} == {world.wB.iin}


def test_organizations(client, world, tokens):
    items = _ok(client.get("/api/v1/organizations", headers=auth(tokens["ministry"])))["items"]
    assert {o["bin"] for o in items} >= {world.orgA.bin, world.orgB.bin}
    assert [o["bin"] for o in _ok(client.get("/api/v1/organizations", headers=auth(tokens["hr"])))["items"]] == [world.orgA.bin]
    assert _ok(client.get(f"/api/v1/organizations/{world.orgB.bin}", headers=auth(tokens["ministry"])))["region"] == "750000000"
    assert client.get(f"/api/v1/organizations/{world.orgB.bin}", headers=auth(tokens["hr"])).status_code == 404
