"""The list's life cycle in the service layer (what views and CLI share) and the CPD assessment."""
from __future__ import annotations

from datetime import date

import pytest

from profreg.errors import DomainError, NotAllowed
from profreg.reference.models import AdminUnit, Specialty, TrainingActivityType
from profreg.training.services import (
    AssessmentFilters,
    Completion,
    Rules,
    add_worker,
    approve,
    assessment_page,
    complete_item,
    create_draft,
    delete_draft,
    get_list,
    parse_period,
    remove_worker,
)


@pytest.fixture
def draft(ds, db):
    lst = create_draft(ds.org_a.id, "2027q1", Rules(), None, ds.users["hr_a"])
    db.session.commit()
    return lst


def _done(ref):
    return Completion(ref(TrainingActivityType, "ADV_TRAINING").id, "ҚазМУ", "Курс", date(2026, 11, 1),
                      date(2026, 11, 10), 36)


def test_period_format():
    assert parse_period(" 2027q1 ") == "2027Q1" and parse_period("2027") == "2027"
    for bad in ("2027Q5", "27Q1", "", "2027-01", "1999"):
        with pytest.raises(DomainError):
            parse_period(bad)


def test_draft_is_one_per_period_and_holds_reasons(ds, db, draft):
    assert draft.period == "2027Q1" and draft.rules["rules"]["cert_months"] == 6
    multi = next(i for i in draft.items if i.worker_id == ds.w["multi"].id)
    assert sorted(r["code"] for r in multi.reasons) == ["cert_expiring", "cpd_deficit", "no_training"]
    with pytest.raises(DomainError):
        create_draft(ds.org_a.id, "2027Q1", Rules(), None, ds.users["chief_a"])


def test_who_may_do_what(ds, db, draft, ref):
    for key in ("head_a", "ministry", "assoc", "hr_b"):
        with pytest.raises(NotAllowed):
            create_draft(ds.org_a.id, "2027Q2", Rules(), None, ds.users[key])
        with pytest.raises(NotAllowed):
            add_worker(draft, ds.w["fine"].id, "x", ds.users[key])
    for key in ("hr_a", "chief_a", "head_b", "ministry", "assoc"):
        with pytest.raises(NotAllowed):
            approve(draft, ds.users[key])
    assert get_list(ds.users["head_b"], draft.id) is None and get_list(ds.users["assoc"], draft.id) is None
    assert get_list(ds.users["ministry"], draft.id) is draft and get_list(ds.users["head_a"], draft.id) is draft


def test_edit_rules(ds, db, draft, ref):
    hr = ds.users["hr_a"]
    with pytest.raises(DomainError):
        add_worker(draft, ds.w["fine"].id, "  ", hr)
    with pytest.raises(DomainError):
        add_worker(draft, ds.w["other"].id, "x", hr)  # not an employee of A
    with pytest.raises(DomainError):
        add_worker(draft, ds.w["multi"].id, "x", hr)  # already on the list
    item = add_worker(draft, ds.w["fine"].id, "Жаңа жабдық", hr)
    assert item.added_manually and item.reasons[-1] == {"code": "manual", "note": "Жаңа жабдық"}
    with pytest.raises(DomainError):
        remove_worker(draft, item.id, "", hr)
    remove_worker(draft, item.id, "Қате", hr)
    assert item.removed and item.removal_reason == "Қате"
    again = add_worker(draft, ds.w["fine"].id, "Бәрібір керек", hr)  # back on the list
    assert again is item and not item.removed
    with pytest.raises(DomainError):
        complete_item(draft, item.id, _done(ref), hr)  # only approved lists


def test_approval_freezes(ds, db, draft, ref):
    hr, head = ds.users["hr_a"], ds.users["head_a"]
    approve(draft, head)
    db.session.commit()
    assert draft.is_frozen and draft.approved_by_id == head.id
    item = draft.items[0]
    for attempt in (lambda: add_worker(draft, ds.w["fine"].id, "x", hr),
                    lambda: remove_worker(draft, item.id, "x", hr),
                    lambda: approve(draft, head),
                    lambda: delete_draft(draft, ds.users["chief_a"])):
        with pytest.raises(DomainError):
            attempt()
    rec = complete_item(draft, item.id, _done(ref), hr)
    assert rec.worker_id == item.worker_id and item.cpd_record_id == rec.id
    with pytest.raises(DomainError):
        complete_item(draft, item.id, _done(ref), hr)  # once
    with pytest.raises(NotAllowed):
        complete_item(draft, draft.items[1].id, _done(ref), head)  # the head approves, hr records
    bad = _done(ref)
    bad.end_date = date(2027, 1, 1)
    with pytest.raises(DomainError):
        complete_item(draft, draft.items[1].id, bad, hr)  # in the future


def test_empty_list_cannot_be_approved(ds, db):
    lst = create_draft(ds.org_a.id, "2028", Rules(cert_expiring=True, cert_months=1, cpd_deficit=False,
                                                   no_training=False, new_role=False), None, ds.users["hr_a"])
    assert lst.items == []
    with pytest.raises(DomainError):
        approve(lst, ds.users["head_a"])


def test_completion_closes_the_deficit(ds, db, draft, ref):
    from profreg.training.services import worker_ledger

    approve(draft, ds.users["head_a"])
    item = next(i for i in draft.items if i.worker_id == ds.w["deficit"].id)
    data = _done(ref)
    data.hours = 110
    complete_item(draft, item.id, data, ds.users["hr_a"])
    (row,) = worker_ledger(ds.w["deficit"].id)
    assert row.hours == 120 and not row.has_deficit


def test_assessment_scope_filters_and_mask(ds, db, ref):
    nursing, midwife = ref(Specialty, "NURSING"), ref(Specialty, "MIDWIFE")
    assoc = ds.users["assoc"]
    rows, total = assessment_page(assoc, AssessmentFilters())
    ids = {r["worker_id"] for r in rows}
    assert total == len(rows) == 10 and ds.w["newspecialty"].id not in ids  # midwifery is not theirs
    assert all(r["specialty_id"] == nursing.id and r["iin"].startswith("••••") for r in rows)
    rows, total = assessment_page(assoc, AssessmentFilters(specialty_id=midwife.id))
    assert total == 0 and rows == []
    rows, total = assessment_page(assoc, AssessmentFilters(deficit=True))
    deficit = {r["worker_id"] for r in rows}
    assert ds.w["deficit"].id in deficit and ds.w["multi"].id in deficit and ds.w["expiring"].id not in deficit
    rows2, total2 = assessment_page(assoc, AssessmentFilters(deficit=False))
    assert total + total2 == 10 and not deficit & {r["worker_id"] for r in rows2}
    region_b = ref(AdminUnit, "750000000")
    rows, total = assessment_page(assoc, AssessmentFilters(region_id=region_b.id))
    assert {r["worker_id"] for r in rows} == {ds.w["other"].id}
    page2, total = assessment_page(assoc, AssessmentFilters(), page=2, per_page=4)
    assert total == 10 and len(page2) == 4
    assert assessment_page(ds.users["hr_a"], AssessmentFilters()) == ([], 0)  # not an assessor
    rows, total = assessment_page(ds.users["ministry"], AssessmentFilters())
    assert total == 11  # every specialty
