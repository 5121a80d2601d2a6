"""Worker records are immutable once saved (issue 13, item 3; docs/integrity.md): HR never edits a saved
certificate, education document, CPD record or personnel document; a data-entry error is fixed by a
correction (a new version with a reason, the old one superseded and kept in the history) or an
annulment, through the panel's correction pages (admin/record_actions.py), as each role, over HTTP."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg import clock
from profreg.audit.models import AuditLog
from profreg.certificates import services as cert_services
from profreg.certificates.corrections import validity_reserved
from profreg.certificates.models import Certificate
from profreg.documents.models import PersonnelDocument
from profreg.education.models import EducationDocument, EducationInstitution
from profreg.errors import InvalidInput
from profreg.extensions import db
from profreg.reference import models as r
from profreg.training.models import CpdRecord
from profreg.workers import records
from profreg.workers.models import Worker
from tests.conftest import real_pdf

from .conftest import make_user, parse_form, token

PDF = real_pdf()  # uploads are parsed as a whole (issue 18)


class Recs:
    pass


@pytest.fixture
def recs(world, today):
    """Records of wA entered by organization A today, a blocked nurse of A whose only certificate
    expired, a worker shared by A and B, and HR users of A2 and B."""
    f, now = world.factory, clock.utcnow_naive()
    codes = {(m, c): world.factory.ref(m, c) for m, c in (
        (r.Specialty, "NURSING"), (r.TrainingActivityType, "ADV_TRAINING"), (r.EducationLevel, "SECONDARY"),
        (r.PersonnelDocumentType, "HIRE_ORDER"))}
    institution = db.session.query(EducationInstitution).first()

    def ref(model, code):  # looked up before the records exist (no autoflush of half-built rows)
        return codes[(model, code)]

    s = Recs()
    s.world, s.today = world, today
    s.nurse = f.worker(world.orgA, surname="Сейтова")
    s.shared = f.worker(world.orgA, surname="Ахметова")
    f.employment(s.shared, world.orgB, hire=today - timedelta(days=100))
    mine = {"entered_by_organization_id": world.orgA.id, "entered_at": now}
    s.cert = Certificate(worker=world.wA, specialty=ref(r.Specialty, "NURSING"), number="KZ-REC-0001",
                         issuer="НЦНЭ", issue_date=today - timedelta(days=300), valid_until=today + timedelta(days=500),
                         **mine)
    s.cpd = CpdRecord(worker=world.wA, activity_type=ref(r.TrainingActivityType, "ADV_TRAINING"),
                      specialty=ref(r.Specialty, "NURSING"), provider="НЦПО", topic="Сестринский уход 2026",
                      start_date=today - timedelta(days=60), end_date=today - timedelta(days=50), hours=Decimal("36"),
                      **mine)
    s.edu = EducationDocument(worker=world.wA, kind="general", level=ref(r.EducationLevel, "SECONDARY"),
                              institution=institution,
                              specialty=ref(r.Specialty, "NURSING"), number="ЖБ-777001",
                              issue_date=today - timedelta(days=4000), **mine)
    stored = "0123456789abcdef0123456789abcdef.pdf"
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(PDF)
    s.file = folder / stored
    s.doc = PersonnelDocument(worker=world.wA, doc_type=ref(r.PersonnelDocumentType, "HIRE_ORDER"),
                              organization_id=world.orgA.id, number="П-15", doc_date=today - timedelta(days=3),
                              original_name="order.pdf", stored_name=stored, content_type="application/pdf",
                              size=len(PDF), **mine)
    # a clinical nurse of A whose only certificate expired: blocked
    s.expired = Certificate(worker=s.nurse, specialty=ref(r.Specialty, "NURSING"), number="KZ-REC-0002",
                            issuer="НЦНЭ", issue_date=today - timedelta(days=1900), valid_until=today - timedelta(days=10),
                            **mine)
    # a worker with current episodes in A and in B (a concurrent post): both organizations see him
    s.shared_cert = Certificate(worker=s.shared, specialty=ref(r.Specialty, "NURSING"), number="KZ-REC-0003",
                                issuer="НЦНЭ", issue_date=today - timedelta(days=100),
                                valid_until=today + timedelta(days=900), **mine)
    db.session.add_all([s.cert, s.cpd, s.edu, s.doc, s.expired, s.shared_cert])
    db.session.flush()
    cert_services.block_expired(today)
    world.users["hr_b"] = make_user(db, "hr", org=world.orgB)
    world.users["hr_a2"] = make_user(db, "hr", org=world.orgA2)
    db.session.commit()
    assert db.session.get(Worker, s.nurse.id).status == "blocked"
    yield s
    if s.file.exists():
        s.file.unlink()


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _form(client, url) -> list[tuple[str, str]]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return parse_form(_text(page)).data


def _post(client, url, **changes):
    """Submit the correction form of ``url`` as a browser would, with ``changes`` applied."""
    data = [(k, v) for k, v in _form(client, url) if k not in changes]
    data += list(changes.items())
    return client.post(url, data=MultiDict(data))


def _versions(model, **where):
    q = select(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    db.session.expire_all()
    return db.session.execute(q.order_by(model.id)).scalars().all()


def test_the_certificate_rule_is_registered_for_every_app():
    assert records.CORRECTION_CHECKS[Certificate] is validity_reserved


def test_hr_cannot_edit_a_saved_certificate(recs, make_client):
    client = make_client(recs.world.users["hr"])
    r = client.get(f"/admin/certificates/edit/?id={recs.cert.id}")
    assert r.status_code in (302, 403)
    r = client.post(f"/admin/certificates/edit/?id={recs.cert.id}",
                    data={"number": "HACKED", "csrf_token": token(client)})
    assert r.status_code in (302, 403)
    assert client.post("/admin/certificates/ajax/update/", data={"list_form_pk": recs.cert.id,
                                                                 "number": "HACKED"}).status_code in (400, 403, 404)
    assert _versions(Certificate, id=recs.cert.id)[0].number == "KZ-REC-0001"
    # the list offers no edit or delete, only the correction and the annulment
    page = _text(client.get("/admin/certificates/"))
    assert f"/admin/certificates/edit/?id={recs.cert.id}" not in page
    assert f"/admin/certificates/correct/?id={recs.cert.id}" in page
    assert f"/admin/certificates/annul/?id={recs.cert.id}" in page


@pytest.mark.parametrize("role", ["hr", "hr_chief"])
@pytest.mark.parametrize("new_until", ["", "+365"])
def test_extending_or_emptying_an_expired_certificate_is_reserved_to_the_region(recs, make_client, role, new_until):
    url = f"/admin/certificates/correct/?id={recs.expired.id}"
    value = "" if new_until == "" else (recs.today + timedelta(days=365)).isoformat()
    client = make_client(recs.world.users[role])
    r = _post(client, url, valid_until=value, reason="Продлили по ошибке")
    assert r.status_code == 403
    assert "Only the region or the ministry may extend" in _text(r)
    assert [c.superseded_by_id for c in _versions(Certificate, worker_id=recs.nurse.id)] == [None]
    assert db.session.get(Worker, recs.nurse.id).status == "blocked"  # never unblocked by a correction
    # the region coordinator may
    region = make_client(recs.world.users["region"])
    r = _post(region, url, valid_until=value, reason="Срок действия внесён с ошибкой, сверено с НЦНЭ")
    assert r.status_code == 302, _text(r)
    old, new = _versions(Certificate, worker_id=recs.nurse.id)
    assert old.superseded_by_id == new.id and new.in_force
    assert new.valid_until == (None if value == "" else recs.today + timedelta(days=365))
    # the corrected certificate is valid today: the blocking rule (which reads only certificates valid on
    # the day) lifts the block in the same request, as for a renewal
    db.session.expire_all()
    assert db.session.get(Worker, recs.nurse.id).status == "active"


def test_hr_may_shorten_a_validity_and_fix_other_data(recs, make_client):
    client = make_client(recs.world.users["hr"])
    r = _post(client, f"/admin/certificates/correct/?id={recs.cert.id}",
              valid_until=(recs.today + timedelta(days=100)).isoformat(), issuer="НЦНЭ МЗ РК",
              reason="Срок по бланку")
    assert r.status_code == 302, _text(r)
    new = _versions(Certificate, number="KZ-REC-0001")[-1]
    assert (new.valid_until, new.issuer, new.in_force) == (recs.today + timedelta(days=100), "НЦНЭ МЗ РК", True)


def test_hr_corrects_a_number_within_30_days_then_only_the_region(recs, make_client):
    world = recs.world
    client = make_client(world.users["hr"])
    url = f"/admin/certificates/correct/?id={recs.cert.id}"
    page = _text(client.get(url))
    assert 'name="worker"' not in page and "KZ-REC-0001" in page  # the current values, no worker field
    # a reason is required
    r = _post(client, url, number="KZ-REC-0101", reason="")
    assert r.status_code == 200 and len(_versions(Certificate, worker_id=world.wA.id, number="KZ-REC-0101")) == 0
    r = _post(client, url, number="KZ-REC-0101", reason="Опечатка в номере")
    assert r.status_code == 302 and f"/admin/workers/details/?id={world.wA.id}" in r.headers["Location"]
    old = _versions(Certificate, id=recs.cert.id)[0]
    new = db.session.get(Certificate, old.superseded_by_id)
    assert (new.number, new.correction_reason, new.worker_id, new.in_force) == (
        "KZ-REC-0101", "Опечатка в номере", world.wA.id, True)
    assert new.entered_by_organization_id == world.orgA.id
    # both versions on the worker page: the new one in force, the old one in the history with the reason
    page = _text(client.get(f"/admin/workers/details/?id={world.wA.id}&tab=certificates"))
    assert "KZ-REC-0101" in page and "KZ-REC-0001" in page and "Опечатка в номере" in page
    assert "Corrected on" in page
    # the audit trail has the correction with its reason
    entries = db.session.execute(select(AuditLog).where(AuditLog.table_name == "certificate",
                                                        AuditLog.record_id.in_([old.id, new.id]),
                                                        AuditLog.detail == "Опечатка в номере")).scalars().all()
    assert {e.action for e in entries} == {"create", "update"}
    # 31 days later the organization may not correct its entry any more; the region may
    clock.set_today(recs.today + timedelta(days=31))
    url = f"/admin/certificates/correct/?id={new.id}"
    r = client.get(url)
    assert r.status_code == 403 and "only within 30 days" in _text(r)
    r = client.post(url, data={"number": "KZ-REC-0202", "reason": "ещё раз",
                               "csrf_token": token(client)})
    assert r.status_code == 403
    assert f"/admin/certificates/correct/?id={new.id}" not in _text(client.get("/admin/certificates/"))
    region = make_client(world.users["region"])
    r = _post(region, url, number="KZ-REC-0202", reason="Номер сверен с реестром НЦНЭ")
    assert r.status_code == 302, _text(r)
    assert _versions(Certificate, number="KZ-REC-0202")[0].in_force


def test_a_correction_never_moves_a_record_to_another_worker(recs, make_client):
    world = recs.world
    client = make_client(world.users["hr"])
    url = f"/admin/certificates/correct/?id={recs.cert.id}"
    r = _post(client, url, worker=str(world.wA2.id), worker_id=str(world.wA2.id), number="KZ-REC-0301",
              reason="Не тот работник")
    assert r.status_code == 302
    new = _versions(Certificate, number="KZ-REC-0301")[0]
    assert new.worker_id == world.wA.id
    with pytest.raises(InvalidInput):
        records.correct(new, {"worker_id": world.wA2.id}, "перенос", world.users["ministry"])


def test_annul_and_restore_cpd_and_education_with_a_reason(recs, make_client):
    world = recs.world
    client = make_client(world.users["hr"])
    assert "Сестринский уход 2026" in _text(client.get("/admin/cpd/"))
    url = f"/admin/cpd/annul/?id={recs.cpd.id}"
    assert client.post(url, data={"reason": "", "csrf_token": token(client, url)}).status_code == 200
    assert _versions(CpdRecord, id=recs.cpd.id)[0].annulled_at is None
    r = client.post(url, data={"reason": "Внесено не тому работнику", "csrf_token": token(client, url)})
    assert r.status_code == 302
    cpd = _versions(CpdRecord, id=recs.cpd.id)[0]
    assert cpd.annul_reason == "Внесено не тому работнику" and cpd.annulled_by_id == world.users["hr"].id
    assert "Сестринский уход 2026" not in _text(client.get("/admin/cpd/"))  # annulled rows leave lists
    page = _text(client.get(f"/admin/workers/details/?id={world.wA.id}&tab=cpd"))
    assert "Внесено не тому работнику" in page and f"/admin/cpd/restore/?id={cpd.id}" in page
    restore = f"/admin/cpd/restore/?id={cpd.id}"
    r = client.post(restore, data={"reason": "Ошибочно аннулировано", "csrf_token": token(client, restore)})
    assert r.status_code == 302
    assert _versions(CpdRecord, id=recs.cpd.id)[0].in_force
    assert "Сестринский уход 2026" in _text(client.get("/admin/cpd/"))
    # an education document: annulled by HR, restored by the region
    url = f"/admin/education/annul/?id={recs.edu.id}"
    r = client.post(url, data={"reason": "Дубль диплома", "csrf_token": token(client, url)})
    assert r.status_code == 302
    assert "ЖБ-777001" not in _text(client.get("/admin/education/"))
    region = make_client(world.users["region"])
    restore = f"/admin/education/restore/?id={recs.edu.id}"
    r = region.post(restore, data={"reason": "Не дубль", "csrf_token": token(region, restore)})
    assert r.status_code == 302
    assert _versions(EducationDocument, id=recs.edu.id)[0].in_force


def test_a_documents_file_survives_correction_and_annulment(recs, make_client):
    world = recs.world
    client = make_client(world.users["hr"])
    url = f"/admin/documents/correct/?id={recs.doc.id}"
    assert 'type="file"' not in _text(client.get(url))  # a correction keeps the stored file
    r = _post(client, url, number="П-15/1", reason="Номер приказа")
    assert r.status_code == 302, _text(r)
    old, new = _versions(PersonnelDocument, worker_id=world.wA.id, stored_name=recs.doc.stored_name)
    assert old.superseded_by_id == new.id and new.number == "П-15/1"
    assert recs.file.exists()
    assert client.get(f"/admin/documents/download/{new.id}").data == PDF
    annul = f"/admin/documents/annul/?id={new.id}"
    r = client.post(annul, data={"reason": "Не тот приказ", "csrf_token": token(client, annul)})
    assert r.status_code == 302
    assert recs.file.exists()
    # even a maintenance deletion of one version leaves the file the other version refers to
    with records.maintenance():
        db.session.delete(_versions(PersonnelDocument, id=old.id)[0])
        db.session.commit()
    assert recs.file.exists()


def test_another_organization_may_not_correct_and_ids_outside_the_scope_are_not_found(recs, make_client):
    world = recs.world
    hr_b = make_client(world.users["hr_b"])
    for action in ("correct", "annul"):
        r = hr_b.get(f"/admin/certificates/{action}/?id={recs.shared_cert.id}")  # seen, entered by A
        assert r.status_code == 403, action
        r = hr_b.post(f"/admin/certificates/{action}/?id={recs.shared_cert.id}",
                      data={"number": "X-1", "reason": "чужое", "csrf_token": token(hr_b)})
        assert r.status_code == 403, action
    assert _versions(Certificate, id=recs.shared_cert.id)[0].in_force
    for role in ("hr_b", "hr_a2"):  # wA is outside their scope
        c = make_client(world.users[role])
        for action in ("correct", "annul", "restore"):
            assert c.get(f"/admin/certificates/{action}/?id={recs.cert.id}").status_code == 404, (role, action)
            assert c.get(f"/admin/cpd/{action}/?id={recs.cpd.id}").status_code == 404, (role, action)
    hr = make_client(world.users["hr"])
    assert hr.get("/admin/certificates/correct/?id=999999999").status_code == 404
    assert hr.get("/admin/certificates/correct/?id=abc").status_code == 404
    # a POST without the CSRF token is refused
    r = hr.post(f"/admin/cpd/annul/?id={recs.cpd.id}", data={"reason": "без токена"})
    assert r.status_code in (400, 403) or "CSRF" in _text(r)
    assert _versions(CpdRecord, id=recs.cpd.id)[0].in_force


def test_an_association_reads_only(recs, make_client):
    world = recs.world
    client = make_client(world.users["association"])
    page = _text(client.get("/admin/certificates/"))
    assert "KZ-REC-0001" in page and "/correct/" not in page and "/annul/" not in page
    for action in ("correct", "annul", "restore"):
        assert client.get(f"/admin/certificates/{action}/?id={recs.cert.id}").status_code == 403, action
        r = client.post(f"/admin/certificates/{action}/?id={recs.cert.id}",
                        data={"reason": "x", "csrf_token": token(client)})
        assert r.status_code == 403, action


def test_the_worker_page_history_shows_labels_not_column_names(recs, make_client):
    world = recs.world
    client = make_client(world.users["hr"])
    _post(client, f"/admin/certificates/correct/?id={recs.cert.id}", number="KZ-REC-0401", reason="Опечатка")
    page = _text(client.get(f"/admin/workers/details/?id={world.wA.id}&tab=certificates"))
    history = page[page.index("record-history"):]
    assert "Certificate number" in history
    for raw in ("superseded_by_id", "specialty_id", "valid_until", "correction_reason"):
        assert raw not in history, raw
    assert re.search(r"<del>KZ-REC-0001</del>\s*→\s*KZ-REC-0401", history)
