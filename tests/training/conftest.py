"""A built dataset for the training-list rules: one organization A with a worker per rule (and some who
must stay off the list), a second organization B, users per role. Today is 2026-11-25."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from profreg.reference.models import Specialty, TrainingActivityType
from profreg.training.models import CpdRecord


def cpd(db, ref, worker, *, kind="SEMINAR", end, hours, specialty=None, start=None, credits=None, topic="Тақырып"):
    rec = CpdRecord(worker=worker, activity_type=ref(TrainingActivityType, kind),
                    specialty=ref(Specialty, specialty) if specialty else None, provider="ҰҒПО", topic=topic,
                    start_date=start or end, end_date=end, hours=Decimal(hours),
                    credits=Decimal(credits) if credits is not None else None)
    db.session.add(rec)
    db.session.flush()
    return rec


@dataclass
class Dataset:
    org_a: object
    org_b: object
    w: dict
    users: dict


@pytest.fixture
def ds(db, ref, factory, today):
    f = factory
    a, b = f.org(), f.org(region="750000000")
    w = {}

    def worker(key, org=a, dept="Терапия", **kw):
        obj = f.worker(org, surname=kw.pop("surname", key.capitalize()), **kw)
        if obj.employments:
            obj.employments[-1].department = dept
        w[key] = obj
        return obj

    # certificate ends 2027-03-01 (within 6 months); CPD complete; advanced training 2024 -> cert_expiring only
    x = worker("expiring", dept="Хирургия")
    f.certificate(x, valid_until=date(2027, 3, 1), issue=date(2021, 12, 1))
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2024, 4, 10), hours=120, specialty="NURSING")

    # cycle 2023-01-01..2028-01-01, 10 h of 120 (about 94 expected by now) -> cpd_deficit only
    x = worker("deficit")
    f.certificate(x, valid_until=date(2028, 1, 1), issue=date(2023, 1, 1))
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2025, 3, 1), hours=10, specialty="NURSING")
    cpd(db, ref, x, kind="SEMINAR", end=date(2025, 4, 1), hours=200, specialty="SURGERY")  # other specialty
    cpd(db, ref, x, kind="SEMINAR", end=date(2022, 6, 1), hours=200)  # before the cycle

    # last advanced training in 2019; CPD on pace -> no_training only
    x = worker("oldtraining")
    f.certificate(x, valid_until=date(2029, 6, 1), issue=date(2024, 6, 1))
    cpd(db, ref, x, kind="CONFERENCE", end=date(2025, 5, 1), hours=100)
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2019, 5, 20), hours=72, specialty="NURSING")

    # moved from nursing in B to midwifery in A on 2026-06-01, no midwifery course -> new_role (specialty)
    x = worker("newspecialty", position="MIDWIFE", specialty="MIDWIFE", hire=date(2026, 6, 1))
    f.employment(x, b, position="NURSE", specialty="NURSING", hire=date(2015, 1, 5), end=date(2026, 5, 31))
    f.certificate(x, specialty="MIDWIFE", valid_until=date(2031, 5, 1), issue=date(2026, 5, 1))
    cpd(db, ref, x, kind="SEMINAR", end=date(2026, 9, 1), hours=20, specialty="MIDWIFE")
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2023, 3, 1), hours=72, specialty="NURSING")

    # promoted to senior nurse on 2026-08-01, no course since 2022 -> new_role (position)
    x = worker("newposition", position="SENIOR_NURSE", hire=date(2026, 8, 1))
    f.employment(x, a, position="NURSE", hire=date(2018, 2, 1), end=date(2026, 7, 31))
    f.certificate(x, valid_until=date(2028, 1, 1), issue=date(2023, 1, 1))
    cpd(db, ref, x, kind="CONFERENCE", end=date(2025, 1, 1), hours=100)
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2022, 3, 1), hours=36, specialty="NURSING")

    # same promotion, but with a certification course in July 2026 -> not on the list
    x = worker("withcourse", position="SENIOR_NURSE", hire=date(2026, 8, 1))
    f.employment(x, a, position="NURSE", hire=date(2018, 2, 1), end=date(2026, 7, 31))
    f.certificate(x, valid_until=date(2028, 1, 1), issue=date(2023, 1, 1))
    cpd(db, ref, x, kind="CERT_COURSE", end=date(2026, 7, 15), hours=100, specialty="NURSING")

    # all in order -> not on the list
    x = worker("fine")
    f.certificate(x, valid_until=date(2028, 1, 1), issue=date(2023, 1, 1))
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2024, 1, 1), hours=100, specialty="NURSING")

    # expiring, never trained, nothing earned -> three reasons
    x = worker("multi", dept="Хирургия", surname='=HYPERLINK("http://x","y")')
    f.certificate(x, valid_until=date(2027, 1, 15), issue=date(2022, 1, 15))

    # certificate already ended (2026-10-01) but trained recently -> only with include_expired
    x = worker("expired")
    f.certificate(x, valid_until=date(2026, 10, 1), issue=date(2021, 10, 1))
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2025, 1, 1), hours=120, specialty="NURSING")

    # left A on 2026-10-01 with an expiring certificate -> not on A's list
    x = worker("left", end=date(2026, 10, 1))
    f.certificate(x, valid_until=date(2027, 1, 1), issue=date(2022, 1, 1))

    # in B with an expiring certificate -> on B's list only
    x = worker("other", org=b)
    f.certificate(x, valid_until=date(2027, 1, 1), issue=date(2022, 1, 1))
    cpd(db, ref, x, kind="ADV_TRAINING", end=date(2025, 1, 1), hours=120, specialty="NURSING")

    db.session.commit()
    users = {
        "hr_a": f.user("hr", org=a), "chief_a": f.user("hr_chief", org=a), "head_a": f.user("org_head", org=a),
        "head_b": f.user("org_head", org=b), "hr_b": f.user("hr", org=b), "ministry": f.user("ministry"),
        "assoc": f.user("association", specialties=("NURSING",)),
        "assoc_mid": f.user("association", specialties=("MIDWIFE",)),
    }
    return Dataset(a, b, w, users)
