"""Each rule puts exactly the expected workers on the list, with the right reason; the CPD ledger."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from profreg.errors import DomainError
from profreg.reference.models import Position
from profreg.training.services import Filters, Rules, build_candidates, worker_ledger

ALL_OFF = dict(cert_expiring=False, cpd_deficit=False, no_training=False, new_role=False)


def picked(ds, rules, filters=None, org=None):
    cands = build_candidates((org or ds.org_a).id, rules, filters)
    names = {v.id: k for k, v in ds.w.items()}
    return {names[c.worker_id]: sorted(r["code"] for r in c.reasons) for c in cands}


def test_ledger_counts_the_cycle_only(ds, today):
    (row,) = worker_ledger(ds.w["deficit"].id)
    assert row.cycle_start == date(2023, 1, 1) and row.cycle_end == date(2028, 1, 1)
    assert row.hours == Decimal("10") and row.hours_required == 120
    assert row.hours_deficit == Decimal("110") and row.progress == 8 and row.has_deficit
    assert Decimal("93") < row.expected_hours < Decimal("94")
    (row,) = worker_ledger(ds.w["expiring"].id)
    assert row.hours == 120 and row.hours_deficit == 0 and row.progress == 100 and not row.has_deficit


def test_all_rules_together(ds):
    assert picked(ds, Rules()) == {
        "expiring": ["cert_expiring"],
        "deficit": ["cpd_deficit"],
        "oldtraining": ["no_training"],
        "newspecialty": ["new_role"],
        "newposition": ["new_role"],
        "multi": ["cert_expiring", "cpd_deficit", "no_training"],
    }


def test_certificate_rule_and_its_parameter(ds):
    assert picked(ds, Rules(**{**ALL_OFF, "cert_expiring": True})) == {
        "expiring": ["cert_expiring"], "multi": ["cert_expiring"]}
    assert picked(ds, Rules(**{**ALL_OFF, "cert_expiring": True, "cert_months": 3})) == {"multi": ["cert_expiring"]}
    got = picked(ds, Rules(**{**ALL_OFF, "cert_expiring": True, "include_expired": True}))
    assert got == {"expiring": ["cert_expiring"], "multi": ["cert_expiring"], "expired": ["cert_expired"]}


def test_cpd_rule_pro_rata_and_full(ds):
    assert picked(ds, Rules(**{**ALL_OFF, "cpd_deficit": True})) == {
        "deficit": ["cpd_deficit"], "multi": ["cpd_deficit"]}
    full = picked(ds, Rules(**{**ALL_OFF, "cpd_deficit": True, "cpd_pro_rata": False}))
    assert full == {k: ["cpd_deficit"] for k in ("deficit", "multi", "oldtraining", "newspecialty",
                                                 "newposition", "withcourse", "fine")}
    reason = build_candidates(ds.org_a.id, Rules(**{**ALL_OFF, "cpd_deficit": True}))
    r = next(c for c in reason if c.worker_id == ds.w["deficit"].id).reasons[0]
    assert r["hours"] == 10 and r["hours_required"] == 120


def test_no_training_rule_and_years(ds):
    assert picked(ds, Rules(**{**ALL_OFF, "no_training": True})) == {
        "oldtraining": ["no_training"], "multi": ["no_training"]}
    assert picked(ds, Rules(**{**ALL_OFF, "no_training": True, "no_training_years": 10})) == {
        "multi": ["no_training"]}


def test_new_role_rule(ds):
    cands = build_candidates(ds.org_a.id, Rules(**{**ALL_OFF, "new_role": True}))
    got = {c.worker_id: c.reasons[0]["kind"] for c in cands}
    assert got == {ds.w["newspecialty"].id: "specialty", ds.w["newposition"].id: "position"}
    assert picked(ds, Rules(**{**ALL_OFF, "new_role": True, "new_role_months": 4})) == {
        "newposition": ["new_role"]}


def test_filters_by_department_and_position(ds, ref):
    assert set(picked(ds, Rules(), Filters(department="Хирургия"))) == {"expiring", "multi"}
    pos = ref(Position, "SENIOR_NURSE")
    assert set(picked(ds, Rules(), Filters(position_id=pos.id))) == {"newposition"}


def test_other_organization(ds):
    assert picked(ds, Rules(), org=ds.org_b) == {"other": ["cert_expiring"]}


@pytest.mark.parametrize("bad", [dict(cert_months=0), dict(no_training_years=99), dict(new_role_months="x"), ALL_OFF])
def test_bad_parameters_are_refused(ds, bad):
    with pytest.raises(DomainError):
        build_candidates(ds.org_a.id, Rules(**bad))


def test_a_renewal_on_file_takes_the_worker_off_the_certificate_rule(ds, factory, db):
    # the latest certificate on file decides, as for the sweep's warning; the CPD cycle stays the running one
    factory.certificate(ds.w["expiring"], issue=date(2027, 3, 2), valid_until=date(2032, 3, 1))
    db.session.commit()
    assert picked(ds, Rules(**{**ALL_OFF, "cert_expiring": True})) == {"multi": ["cert_expiring"]}
    (row,) = worker_ledger(ds.w["expiring"].id)
    assert (row.cycle_start, row.cycle_end) == (date(2021, 12, 1), date(2027, 3, 1))
