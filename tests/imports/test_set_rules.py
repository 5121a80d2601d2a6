"""The set forms the bulk import uses answer as the one-row rules do."""
from __future__ import annotations

from datetime import timedelta

from profreg.certificates.services import admission_refused, clinical_admission_error
from profreg.reference.models import Position, Specialty


def test_admission_refused_agrees_with_clinical_admission_error(db, factory, ref, today):
    org = factory.org()
    with_cert = factory.worker(org, specialty="THERAPY", position="DOCTOR", certificate_until=today + timedelta(days=90))
    expired = factory.worker(org, specialty="NURSING", certificate_until=today - timedelta(days=1))
    cardio = factory.worker(None)
    factory.certificate(cardio, specialty="THERAPY", valid_until=today + timedelta(days=10))  # parent of CARDIO
    none = factory.worker(None)
    doctor, nurse, economist = ref(Position, "DOCTOR"), ref(Position, "NURSE"), ref(Position, "ECONOMIST")
    posts = [("a", with_cert, doctor, ref(Specialty, "THERAPY")), ("b", expired, nurse, ref(Specialty, "NURSING")),
             ("c", cardio, doctor, ref(Specialty, "CARDIO")), ("d", none, doctor, None),
             ("e", none, economist, None), ("f", with_cert, doctor, ref(Specialty, "SURGERY"))]
    refused = admission_refused([(k, w.id, p, s) for k, w, p, s in posts], today)
    expected = {k for k, w, p, s in posts if clinical_admission_error(w, p, s, today)}
    assert refused == expected == {"b", "d", "f"}
