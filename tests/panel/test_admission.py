"""Admission to clinical practice per specialty, and blocking per post (rule 14.5; issue 13, item 2).

A worker may hold a clinical post in specialty S on day D only with a certificate for S (or its parent
specialty) valid on D; a clinical post naming no specialty needs a certificate valid in some specialty.
The sweep blocks the **posts** without one, the worker's status is blocked while any current post is,
and the reason names the post, the specialty and the certificate that expired.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from profreg.certificates import services as certs
from profreg.certificates.models import Certificate
from profreg.errors import DomainError, InvalidInput
from profreg.notifications.models import Notice
from profreg.reference.models import LabourCodeGround, Position, Specialty
from profreg.workers import records
from profreg.workers.models import Employment, Worker
from profreg.workers.services import check_new_employment, end_employment
from tests.panel.conftest import token


def _reload(db, obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def surgeon(world, today):
    """A surgeon of organization A whose surgery certificate ended yesterday; his nursing certificate is
    valid for years (the case of the issue)."""
    f, db = world.factory, world.db
    w = f.worker(world.orgA, surname="Хирургов", sex="M", position="DOCTOR", specialty="SURGERY")
    w.surgery_cert = f.certificate(w, specialty="SURGERY", valid_until=today - timedelta(days=1),
                                   number="KZ-SURG-1")
    w.nursing_cert = f.certificate(w, specialty="NURSING", valid_until=today + timedelta(days=900))
    db.session.commit()
    return w


def test_surgeon_is_blocked_for_surgery_despite_a_valid_nursing_certificate(world, surgeon, today):
    db = world.db
    counts = certs.sweep(today)
    db.session.commit()
    assert counts.blocked == 1 and counts.episodes_blocked == 1
    w = _reload(db, surgeon)
    assert w.status == "blocked" and w.blocked_reason == certs.BLOCK_REASON
    episode, = w.employments
    assert episode.blocked_at is not None and episode.blocked_certificate_id == surgeon.surgery_cert.id
    # the reason names the post, the specialty and the certificate, in the reader's language
    with clock_locale(world.db.session, "ru"):
        reason, = certs.block_reasons(w, today)
    assert "KZ-SURG-1" in reason and "Хирургия" in reason and "истёк" in reason
    with clock_locale(world.db.session, "en"):
        reason, = certs.block_reasons(w, today)
    assert "Surgery" in reason and "expired on" in reason
    # the notice to HR and to the worker names the surgery certificate
    notice = db.session.execute(select(Notice).where(Notice.worker_id == w.id,
                                                     Notice.kind == "worker_blocked")).scalar_one()
    assert notice.certificate_id == surgeon.surgery_cert.id


def test_rule_applies_per_post_nurse_post_of_the_same_worker_stays_open(world, surgeon, today):
    db, f = world.db, world.factory
    nurse_post = f.employment(surgeon, world.orgA2, position="NURSE", specialty="NURSING", hire=today)
    db.session.commit()
    certs.sweep(today)
    db.session.commit()
    assert _reload(db, nurse_post).blocked_at is None
    surgery_post = next(e for e in _reload(db, surgeon).employments if e.id != nurse_post.id)
    assert surgery_post.blocked_at is not None


def test_a_parent_specialty_certificate_admits_to_the_specialization(world, today):
    db, f = world.db, world.factory
    w = f.worker(world.orgA, surname="Терапевтова", position="DOCTOR", specialty="CARDIO")
    f.certificate(w, specialty="THERAPY", valid_until=today + timedelta(days=100))
    db.session.commit()
    certs.sweep(today)
    db.session.commit()
    assert _reload(db, w).status == "active"
    assert db.session.execute(certs.episodes_to_block(today).where(Employment.worker_id == w.id)).first() is None


def test_a_new_valid_certificate_for_the_specialty_unblocks_on_save(world, surgeon, today, make_client):
    db, ref = world.db, world.factory.ref
    certs.sweep(today)
    db.session.commit()
    assert _reload(db, surgeon).status == "blocked"
    # HR adds the renewal through the panel: blocked → active in the same request
    hr = make_client(world.users["hr"])
    resp = hr.post("/admin/certificates/new/", data={
        "csrf_token": token(hr), "worker": str(surgeon.id), "number": "KZ-SURG-2",
        "specialty": str(ref(Specialty, "SURGERY").id), "issuer": "НЦНЭ", "issue_date": today.isoformat(),
        "valid_until": (today + timedelta(days=5 * 365)).isoformat()})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    w = _reload(db, surgeon)
    assert w.status == "active" and w.employments[0].blocked_at is None


def test_another_specialty_certificate_does_not_unblock(world, surgeon, today):
    db, f = world.db, world.factory
    certs.sweep(today)
    db.session.commit()
    f.certificate(surgeon, specialty="PEDIATRICS", valid_until=today + timedelta(days=700))
    db.session.commit()
    assert _reload(db, surgeon).status == "blocked"


def test_emptying_or_extending_valid_until_in_place_is_refused_and_unblocks_nothing(world, surgeon, today):
    db = world.db
    certs.sweep(today)
    db.session.commit()
    for value in (None, today + timedelta(days=365)):
        cert = db.session.get(Certificate, surgeon.surgery_cert.id)
        cert.valid_until = value
        with pytest.raises(DomainError):
            db.session.flush()
        db.session.rollback()
    assert _reload(db, surgeon).status == "blocked"
    certs.sweep(today)
    db.session.commit()
    assert _reload(db, surgeon).status == "blocked"


def test_annulling_the_only_valid_certificate_blocks_at_once(world, today):
    """A nurse's only valid certificate, entered by mistake, is annulled: she is blocked in the same unit
    of work, not at the next sweep."""
    db, f = world.db, world.factory
    nurse = f.worker(world.orgA, surname="Мейірбикеева", certificate_until=today + timedelta(days=300))
    db.session.commit()
    cert, = nurse.certificates
    records.annul(cert, "Entered for the wrong person", world.users["ministry"])
    db.session.commit()
    w = _reload(db, nurse)
    assert w.status == "blocked" and w.employments[0].blocked_at is not None


def test_ending_the_blocked_post_lifts_the_workers_block(world, surgeon, today):
    db = world.db
    certs.sweep(today)
    db.session.commit()
    ground = db.session.execute(select(LabourCodeGround).where(LabourCodeGround.code == "EMPLOYEE_INITIATIVE")) \
        .scalar_one()
    end_employment(_reload(db, surgeon), world.users["hr_chief"], today - timedelta(days=1), ground, "leaves_sector")
    db.session.commit()
    assert _reload(db, surgeon).status == "active"


def test_a_worker_blocked_before_posts_were_blocked_is_judged_by_his_posts(world, today):
    """Workers blocked by the old whole-worker rule: the sweep marks their posts and keeps them blocked
    while a post lacks its certificate, without a block/unblock pair."""
    db, f = world.db, world.factory
    old = f.worker(world.orgA, surname="Ескіова", certificate_until=today - timedelta(days=40))
    db.session.commit()
    old.status, old.blocked_reason = "blocked", certs.BLOCK_REASON
    db.session.commit()
    counts = certs.sweep(today)
    db.session.commit()
    assert counts.unblocked == 0
    w = _reload(db, old)
    assert w.status == "blocked" and w.employments[0].blocked_at is not None
    assert not db.session.execute(select(Notice).where(Notice.worker_id == w.id)).all()


# --------------------------------------------------------------------- admission on every path
def test_no_certificate_no_clinical_post_service(world, today):
    db, f, ref = world.db, world.factory, world.factory.ref
    w = f.worker(world.orgA, surname="Сертификатсыз", position="ECONOMIST", specialty=None)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        check_new_employment(w, ref(Position, "NURSE"))  # no specialty named: some certificate needed
    assert "needs a specialist certificate" in str(exc.value.errors["position"])
    with pytest.raises(InvalidInput):
        check_new_employment(w, ref(Position, "NURSE"), ref(Specialty, "NURSING"))
    check_new_employment(w, ref(Position, "CHIEF_DOCTOR"))  # non-clinical: no certificate needed


def test_the_certificate_must_be_valid_on_the_first_day_of_the_post(world, today):
    db, f, ref = world.db, world.factory, world.factory.ref
    w = f.worker(world.orgA, surname="Болашақова", certificate_until=today + timedelta(days=10))
    db.session.commit()
    check_new_employment(w, ref(Position, "NURSE"), ref(Specialty, "NURSING"), today, today + timedelta(days=5))
    with pytest.raises(InvalidInput):
        check_new_employment(w, ref(Position, "NURSE"), ref(Specialty, "NURSING"), today,
                             today + timedelta(days=30))


def test_no_certificate_no_clinical_post_panel_and_cli(world, today, app, make_client):
    db, f, ref = world.db, world.factory, world.factory.ref
    w = f.worker(world.orgA, surname="Сертификатсызова", position="ECONOMIST", specialty=None)
    db.session.commit()
    hr = make_client(world.users["hr_chief"])
    resp = hr.post("/admin/employment/new/", data={
        "csrf_token": token(hr), "worker": str(w.id), "position": str(ref(Position, "DOCTOR").id),
        "fte": "0.5", "hire_date": today.isoformat()})
    assert resp.status_code == 200 and "needs a specialist certificate valid on" in resp.get_data(as_text=True)
    # changing an existing non-clinical post into a clinical one is the same rule
    post = w.employments[0]
    resp = hr.post(f"/admin/employment/edit/?id={post.id}", data={
        "csrf_token": token(hr), "worker": str(w.id), "organization": str(world.orgA.id),
        "position": str(ref(Position, "NURSE").id), "specialty": str(ref(Specialty, "NURSING").id),
        "fte": "1", "hire_date": post.hire_date.isoformat()})
    assert resp.status_code == 200 and "No specialist certificate valid on" in resp.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["profreg", "workers", "hire", "--iin", w.iin, "--org",
                                                world.orgB.bin, "--position", "NURSE", "--date", today.isoformat()])
    assert result.exit_code == 1 and "needs a specialist certificate valid on" in result.output
    db.session.expire_all()
    assert [e.position.code for e in db.session.get(Worker, w.id).employments] == ["ECONOMIST"]


def test_worker_page_shows_the_reason_in_the_readers_language(world, surgeon, today, make_client):
    certs.sweep(today)
    world.db.session.commit()
    world.users["hr"].locale = "kk"
    world.db.session.commit()
    hr = make_client(world.users["hr"])
    page = hr.get(f"/admin/workers/details/?id={surgeon.id}").get_data(as_text=True)
    assert "KZ-SURG-1" in page and "мерзімі" in page and "certificate_expired" not in page  # the card's status line
    employment = hr.get(f"/admin/workers/details/?id={surgeon.id}&tab=employments").get_data(as_text=True)
    assert "бұғатталған лауазым" in employment  # the blocked post is flagged on the employment tab


class clock_locale:
    """Render in ``lang`` inside a test request context."""

    def __init__(self, _session, lang):
        self.lang = lang

    def __enter__(self):
        from flask import current_app
        from flask_babel import force_locale

        self._ctx = current_app.test_request_context()
        self._ctx.push()
        self._force = force_locale(self.lang)
        self._force.__enter__()

    def __exit__(self, *exc):
        self._force.__exit__(*exc)
        self._ctx.pop()
