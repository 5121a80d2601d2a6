"""The register's temporal vocabulary (docs/architecture.md "Vocabulary"): each predicate answers alike in
Python (on an instance) and in SQL (on the class and on an ``aliased`` class) on the edge days; and the
dashboard, the monthly report, the sweep and the worker list agree on one dataset."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from profreg import clock
from profreg.certificates.models import Certificate, warning_date
from profreg.uow import unit_of_work
from profreg.workdays.services import (
    WorkingCalendar,
    days,
    entered_late,
    entry_deadline,
    late_entry_clause,
)
from profreg.workers.models import Employment, Worker

DAY = date(2026, 7, 1)


def sql_ids(db, entity, clause_of):
    """Ids selected by ``clause_of(entity)`` on the class and on an aliased class (both must agree)."""
    alias = aliased(entity)
    on_class = set(db.session.execute(select(entity.id).where(clause_of(entity))).scalars())
    on_alias = set(db.session.execute(select(alias.id).where(clause_of(alias))).scalars())
    assert on_class == on_alias
    return on_class


def py_ids(rows, test):
    return {r.id for r in rows if test(r)}


# --------------------------------------------------------------------------------------------- episodes
@pytest.fixture
def episodes(db, factory):
    org = factory.org()
    w = factory.worker()
    e = {
        "open": factory.employment(w, org, hire=date(2020, 1, 1)),
        "ended_before": factory.employment(w, org, hire=date(2020, 1, 1), end=DAY - timedelta(days=1)),
        "ends_on_day": factory.employment(w, org, hire=date(2020, 1, 1), end=DAY),
        "ends_after": factory.employment(w, org, hire=date(2020, 1, 1), end=DAY + timedelta(days=1)),
        "hired_on_day": factory.employment(w, org, hire=DAY),
        "hired_later": factory.employment(w, org, hire=DAY + timedelta(days=5)),
        "one_day": factory.employment(w, org, hire=DAY, end=DAY),
    }
    db.session.commit()
    return e


def names(episodes, ids):
    return {k for k, v in episodes.items() if v.id in ids}


def test_employment_current_on(db, episodes):
    rows = list(episodes.values())
    sql = sql_ids(db, Employment, lambda m: m.current_on(DAY))
    assert sql == py_ids(rows, lambda e: e.current_on(DAY))
    # not ended before the day; an episode starting later is current (the organization has entered it)
    assert names(episodes, sql) == {"open", "ends_on_day", "ends_after", "hired_on_day", "hired_later", "one_day"}


def test_employment_running_on(db, episodes):
    rows = list(episodes.values())
    sql = sql_ids(db, Employment, lambda m: m.running_on(DAY))
    assert sql == py_ids(rows, lambda e: e.running_on(DAY))
    assert names(episodes, sql) == {"open", "ends_on_day", "ends_after", "hired_on_day", "one_day"}


def test_employment_held_at_end_of(db, episodes):
    rows = list(episodes.values())
    sql = sql_ids(db, Employment, lambda m: m.held_at_end_of(DAY))
    assert sql == py_ids(rows, lambda e: e.held_at_end_of(DAY))
    # an episode whose last day is DAY has left the stock at the end of DAY
    assert names(episodes, sql) == {"open", "ends_after", "hired_on_day"}


# ------------------------------------------------------------------------------------------ certificates
@pytest.fixture
def certs(db, factory):
    org = factory.org()
    w = factory.worker(org)
    c = {
        "issued_on_day": factory.certificate(w, specialty="NURSING", issue=DAY, valid_until=DAY + timedelta(days=900)),
        "issued_later": factory.certificate(w, specialty="SURGERY", issue=DAY + timedelta(days=1),
                                            valid_until=DAY + timedelta(days=900)),
        "ends_on_day": factory.certificate(w, specialty="THERAPY", issue=date(2021, 1, 1), valid_until=DAY),
        "ended_before": factory.certificate(w, specialty="PEDIATRICS", issue=date(2021, 1, 1),
                                            valid_until=DAY - timedelta(days=1)),
        "open_ended": factory.certificate(w, specialty="MIDWIFE", issue=date(2010, 1, 1), valid_until=None),
    }
    db.session.commit()
    return c


def test_certificate_valid_on_expired_on_issued_by_open_ended(db, certs):
    rows = list(certs.values())
    valid = sql_ids(db, Certificate, lambda m: m.valid_on(DAY))
    assert valid == py_ids(rows, lambda c: c.valid_on(DAY))
    assert names(certs, valid) == {"issued_on_day", "ends_on_day", "open_ended"}
    expired = sql_ids(db, Certificate, lambda m: m.expired_on(DAY))
    assert expired == py_ids(rows, lambda c: c.expired_on(DAY)) and names(certs, expired) == {"ended_before"}
    issued = sql_ids(db, Certificate, lambda m: m.issued_by(DAY))
    assert issued == py_ids(rows, lambda c: c.issued_by(DAY)) and "issued_later" not in names(certs, issued)
    open_ended = sql_ids(db, Certificate, lambda m: m.open_ended)
    assert open_ended == py_ids(rows, lambda c: c.open_ended) and names(certs, open_ended) == {"open_ended"}


@pytest.fixture
def history(db, factory):
    """One worker's NURSING certificates, every kind of tie, plus a THERAPY pair and a SURGERY renewal."""
    org = factory.org()
    w = factory.worker(org)
    c = {
        "old": factory.certificate(w, issue=date(2016, 1, 1), valid_until=date(2021, 1, 1)),
        "current": factory.certificate(w, issue=date(2021, 1, 2), valid_until=date(2026, 8, 31)),
        # a renewal on file that starts after DAY: the latest (ends last)
        "renewal": factory.certificate(w, issue=date(2026, 9, 1), valid_until=date(2031, 8, 31)),
        # same end as the current one, issued earlier: loses the tie
        "same_end_earlier": factory.certificate(w, issue=date(2021, 1, 1), valid_until=date(2026, 8, 31)),
        # THERAPY: same end and issue date: the higher id wins
        "tie_a": factory.certificate(w, specialty="THERAPY", issue=date(2022, 1, 1), valid_until=date(2026, 7, 15)),
        "tie_b": factory.certificate(w, specialty="THERAPY", issue=date(2022, 1, 1), valid_until=date(2026, 7, 15)),
        # SURGERY: an open-ended certificate counts as ending last
        "dated": factory.certificate(w, specialty="SURGERY", issue=date(2024, 1, 1), valid_until=date(2029, 1, 1)),
        "open": factory.certificate(w, specialty="SURGERY", issue=date(2015, 1, 1), valid_until=None),
    }
    db.session.commit()
    db.session.expire_all()
    return c


def latest_ids(db, where=None, **kw):
    sub = Certificate.latest_per_specialty(**kw)
    q = select(sub.c.certificate_id, sub.c.worker_id, sub.c.specialty_id)
    if where is not None:  # the vocabulary on the latest rows
        q = q.where(where(aliased(Certificate, sub)))
    rows = db.session.execute(q).all()
    assert len(rows) == len({(r.worker_id, r.specialty_id) for r in rows})  # one row per worker and specialty
    return {r.certificate_id for r in rows}


def test_latest_certificate_one_definition(db, history):
    rows = [db.session.get(Certificate, c.id) for c in history.values()]
    sql = sql_ids(db, Certificate, lambda m: m.is_latest())
    assert sql == py_ids(rows, lambda c: c.is_latest()) == latest_ids(db)
    assert names(history, sql) == {"renewal", "tie_b", "open"}
    # as known on DAY (issued by DAY): the renewal is not on file yet
    known = sql_ids(db, Certificate, lambda m: m.is_latest(DAY))
    assert known == py_ids(rows, lambda c: c.is_latest(DAY)) == latest_ids(db, known_on=DAY)
    assert names(history, known) == {"current", "tie_b", "open"}
    # restrictions narrow the workers and specialties, filters on the latest rows never change what is latest
    surgery = history["open"].specialty_id
    assert latest_ids(db, specialty_ids=[surgery]) == {history["open"].id}
    assert latest_ids(db, lambda c: c.valid_on(DAY), known_on=DAY) == {history["current"].id, history["tie_b"].id,
                                                                       history["open"].id}
    assert latest_ids(db, lambda c: c.valid_on(DAY)) == {history["tie_b"].id, history["open"].id}
    assert latest_ids(db, worker_ids=[history["old"].worker_id + 1000]) == set()
    # the ORDER BY form gives the same first row
    first = db.session.execute(select(Certificate.id).where(Certificate.specialty_id == surgery)
                               .order_by(*Certificate.latest_first()).limit(1)).scalar()
    assert first == history["open"].id


def test_warning_date_follows_the_config(app):
    assert warning_date(DAY) == date(2026, 9, 1)
    assert warning_date(date(2026, 12, 31)) == date(2027, 2, 28)
    app.config["CERT_WARNING_MONTHS"] = 3
    try:
        assert warning_date(DAY) == date(2026, 10, 1)
    finally:
        app.config["CERT_WARNING_MONTHS"] = 2


def test_expiring_on(db, factory, history):
    rows = [db.session.get(Certificate, c.id) for c in history.values()]
    org = factory.org()
    w = factory.worker(org)
    edge = {
        "last_inside": factory.certificate(w, specialty="NURSING", valid_until=warning_date(DAY) - timedelta(days=1)),
        "first_outside": factory.certificate(w, specialty="THERAPY", valid_until=warning_date(DAY)),
        "ends_today": factory.certificate(w, specialty="SURGERY", valid_until=DAY),
        "ended": factory.certificate(w, specialty="PEDIATRICS", valid_until=DAY - timedelta(days=1)),
    }
    db.session.commit()
    rows += [db.session.get(Certificate, c.id) for c in edge.values()]
    sql = sql_ids(db, Certificate, lambda m: m.expiring_on(DAY))
    assert sql == py_ids(rows, lambda c: c.expiring_on(DAY))
    # "current" ends in 61 days but the renewal is on file; tie_b ends in 14 days and is the latest
    assert {c.id for c in rows if c.id in sql} == {history["tie_b"].id, edge["last_inside"].id,
                                                   edge["ends_today"].id}
    # as known on DAY the renewal does not count yet: "current" (61 days, inside 2 months) is expiring
    known = sql_ids(db, Certificate, lambda m: m.expiring_on(DAY, DAY))
    assert known == py_ids(rows, lambda c: c.expiring_on(DAY, DAY))
    assert history["current"].id in known and history["renewal"].id not in known
    # a month-end report: expiring at the end of February = on 1 March; the window ends on 1 May
    feb = factory.certificate(factory.worker(org), valid_until=date(2027, 4, 30))
    db.session.commit()
    assert feb.expiring_on(date(2027, 3, 1), date(2027, 2, 28))
    assert db.session.execute(select(Certificate.id).where(
        Certificate.id == feb.id, Certificate.expiring_on(date(2027, 3, 1), date(2027, 2, 28)))).scalar() == feb.id


def test_worker_certificate_status_sql_agrees_with_python(db, factory, today):
    from profreg.certificates.services import worker_status
    from profreg.workers.search import certificate_status_clause

    org = factory.org()
    f = factory
    w = {
        "valid": f.worker(org, certificate_until=today + timedelta(days=400)),
        "expiring": f.worker(org, certificate_until=today + timedelta(days=30)),
        "renewed": f.worker(org, certificate_until=today + timedelta(days=30)),
        "expired": f.worker(org, certificate_until=today - timedelta(days=1)),
        "mixed": f.worker(org, certificate_until=today + timedelta(days=30)),
        "none": f.worker(org),
    }
    f.certificate(w["renewed"], issue=today + timedelta(days=31), valid_until=today + timedelta(days=1900))
    f.certificate(w["mixed"], specialty="THERAPY", valid_until=today + timedelta(days=900))
    db.session.commit()
    python = {k: worker_status(v, today) or "none" for k, v in w.items()}
    assert python == {"valid": "valid", "expiring": "expiring", "renewed": "valid", "expired": "expired",
                      "mixed": "valid", "none": "none"}
    for status in ("valid", "expiring", "expired", "none"):
        got = set(db.session.execute(select(Worker.id).where(certificate_status_clause(status, today))).scalars())
        assert got == {v.id for k, v in w.items() if python[k] == status}, status


def test_the_stored_certificate_status_is_the_computed_one_and_kept_current(db, factory, today):
    """The list filter reads ``Worker.cert_status`` where it is today's: the sweep's step stores every
    worker's, each certificate written through the ORM refreshes its worker's in the same flush, a new
    worker gets "none", and a status of another day is not trusted (computed instead)."""
    from profreg.certificates.services import (
        STEPS,
        refresh_certificate_statuses,
        statuses_step,
        worker_status,
    )
    from profreg.workers.search import certificate_status_clause

    org = factory.org()
    f = factory
    w = {"valid": f.worker(org, certificate_until=today + timedelta(days=400)),
         "expiring": f.worker(org, certificate_until=today + timedelta(days=30)),
         "expired": f.worker(org, certificate_until=today - timedelta(days=1)),
         "none": f.worker(org)}
    db.session.commit()

    def stored(worker):
        return db.session.execute(select(Worker.cert_status, Worker.cert_status_on)
                                  .where(Worker.id == worker.id)).one()

    def found(status):
        return set(db.session.execute(select(Worker.id).where(Worker.id.in_([v.id for v in w.values()]),
                                                              certificate_status_clause(status, today))).scalars())

    # written through the ORM: each worker's status stored as it was flushed (certificates of the factory)
    assert {k: stored(v) for k, v in w.items()} == {k: (k, today) for k in w}
    # the sweep's step stores everyone's, the same; the filter then finds each by its stored status
    assert ("statuses", statuses_step) in STEPS
    statuses_step(today)
    assert {k: stored(v)[0] for k, v in w.items()} == {k: worker_status(v, today) or "none" for k, v in w.items()}
    for status in ("valid", "expiring", "expired", "none"):
        assert found(status) == {w[status].id}, status
    # a renewal saved for the expiring worker: stored at once, the filter moves him
    f.certificate(w["expiring"], issue=today + timedelta(days=31), valid_until=today + timedelta(days=1900))
    db.session.flush()
    assert stored(w["expiring"]) == ("valid", today)
    assert found("valid") == {w["valid"].id, w["expiring"].id} and found("expiring") == set()
    # the filter trusts the stored value of today (read through the index) ...
    table = Worker.__table__
    db.session.execute(table.update().where(table.c.id == w["none"].id).values(cert_status="expired"))
    assert w["none"].id in found("expired")
    # ... and not one of another day: computed from the certificates again
    db.session.execute(table.update().where(table.c.id == w["none"].id)
                       .values(cert_status_on=today - timedelta(days=1)))
    assert w["none"].id not in found("expired") and found("none") == {w["none"].id}
    assert refresh_certificate_statuses(today, [w["none"].id]) == 1 and stored(w["none"]) == ("none", today)


# --------------------------------------------------------------------------------------------- entries
def test_entry_deadline_and_late_clause_agree(db, factory):
    cal = WorkingCalendar()
    assert entry_deadline(date(2026, 6, 12), cal) == date(2026, 6, 17)  # Friday → Wednesday
    assert entry_deadline(date(2026, 7, 3), cal) == date(2026, 7, 9)  # Friday → Thursday (Capital Day, 6 July)
    org = factory.org()
    cases = {  # hire date, entered at (naive UTC; Almaty is UTC+5)
        "friday_wednesday": (date(2026, 6, 12), datetime(2026, 6, 17, 18, 59)),  # 23:59 Almaty on the deadline
        "friday_thursday": (date(2026, 6, 12), datetime(2026, 6, 17, 19, 0)),  # 00:00 Almaty the next day
        "same_day": (date(2026, 6, 1), datetime(2026, 6, 1, 5, 0)),
        "before_hire": (date(2026, 6, 20), datetime(2026, 6, 1, 5, 0)),
        "week_late": (date(2026, 6, 1), datetime(2026, 6, 10, 5, 0)),
    }
    eps = {k: factory.worker(org, hire=h, entered_at=t).employments[0] for k, (h, t) in cases.items()}
    db.session.commit()
    py = {k for k, e in eps.items() if entered_late(e.hire_date, e.entered_at, cal)}
    assert py == {"friday_thursday", "week_late"}
    hire_dates = [h for h, _t in cases.values()]
    sql = sql_ids(db, Employment, lambda m: late_entry_clause(hire_dates, m, cal))
    assert {k for k, e in eps.items() if e.id in sql} == py
    # a SELECT of hire dates and a range of days give the same answer
    sql2 = set(db.session.execute(select(Employment.id).where(
        late_entry_clause(select(Employment.hire_date).distinct(), calendar=cal))).scalars())
    sql3 = set(db.session.execute(select(Employment.id).where(
        late_entry_clause(days(date(2026, 6, 1), date(2026, 6, 30)), calendar=cal))).scalars())
    assert sql == sql2 == sql3


# ----------------------------------------------------------------------- dashboard = report = sweep
@pytest.fixture
def july(db, factory):
    """Standing on Wednesday 1 July 2026 (the window of 2 months ends on 1 September), one organization:

    * ``friday``: hired Friday 12 June, entered Wednesday 17 June — on time (3 working days; 5 calendar days)
    * ``late``: hired Monday 1 June, entered Wednesday 10 June — late (deadline Thursday 4 June)
    * ``d61``: certificate ends 31 August: 61 days away, inside 2 months (outside "60 days")
    * ``d19``: certificate ends 20 July
    * ``d62``: certificate ends 1 September: outside the window
    * ``renewed``: certificate ends 15 August, renewed in June: no warning
    * ``lapsed``: nurse whose certificate ended 30 June: blocked on 1 July
    """
    clock.set_today(DAY)
    org = factory.org()
    f = factory

    def old_hand(surname, until, **kw):
        return f.worker(org, surname=surname, hire=date(2020, 1, 10), entered_at=datetime(2020, 1, 10, 5, 0),
                        certificate_until=until, **kw)

    w = {
        "friday": f.worker(org, surname="Жұмаева", hire=date(2026, 6, 12), entered_at=datetime(2026, 6, 17, 5, 0),
                           certificate_until=date(2030, 1, 1)),
        "late": f.worker(org, surname="Кешікова", hire=date(2026, 6, 1), entered_at=datetime(2026, 6, 10, 5, 0),
                         certificate_until=date(2030, 1, 1)),
        "d61": old_hand("Алпысова", date(2026, 8, 31)),
        "d19": old_hand("Бекова", date(2026, 7, 20)),
        "d62": old_hand("Вахитова", date(2026, 9, 1)),
        "renewed": old_hand("Габитова", date(2026, 8, 15)),
        "lapsed": old_hand("Даулетова", date(2026, 6, 30)),
    }
    f.certificate(w["renewed"], issue=date(2026, 6, 20), valid_until=date(2031, 6, 19))
    users = {"hr_chief": f.user("hr_chief", org=org), "ministry": f.user("ministry")}
    db.session.commit()
    return {"org": org, "w": w, "users": users}


def tiles(user) -> dict:
    from profreg.admin.dashboard import dashboard_cards

    return {str(c["label"]): c["value"] for c in dashboard_cards(user)}


def test_dashboard_agrees_with_the_report_and_the_sweep(db, july):
    from profreg.certificates import services as certs
    from profreg.monitoring import services as monitoring
    from profreg.notifications.models import Notice
    from profreg.workers.search import certificate_status_clause

    w = july["w"]
    report = monitoring.compute_report("2026-06", monitoring.Scope())
    before = tiles(july["users"]["hr_chief"])

    # late entries: the Friday hire entered on Wednesday is on time everywhere
    assert report["registration"]["totals"] == {"entered": 2, "on_time": 1, "late": 1}
    assert before["Hires this year"] == 2
    assert before["Hires entered late this year (after 3 working days)"] == 1

    # expiring: 61 days away is inside the 2-month window; a renewal on file means no warning
    expiring_workers = {w["d61"].id, w["d19"].id}
    assert before["Certificates expiring within 2 months"] == 2
    assert report["certificates"]["totals"]["expiring"] == 2
    assert set(db.session.execute(select(Certificate.worker_id).where(Certificate.expiring_on(DAY))).scalars()) \
        == expiring_workers
    assert set(db.session.execute(select(Worker.id).where(certificate_status_clause("expiring", DAY))).scalars()) \
        == expiring_workers

    # expired in June and blocked on 1 July: the nurse whose certificate ended on 30 June
    assert report["certificates"]["totals"]["expired"] == 1 and report["certificates"]["totals"]["blocked"] == 1
    counts = certs.sweep(DAY, each_step=unit_of_work)  # the job's units: one commit per step
    assert counts.warned == 2 and counts.blocked == 1
    notified = set(db.session.execute(select(Certificate.worker_id).where(
        Certificate.id.in_(select(Notice.certificate_id).where(Notice.kind == "cert_expiring")))).scalars())
    assert notified == expiring_workers
    after = tiles(july["users"]["hr_chief"])
    assert after["Blocked workers"] == 1 and db.session.get(Worker, w["lapsed"].id).status == "blocked"
    assert after["Certificates expiring within 2 months"] == 2
    assert tiles(july["users"]["ministry"])["Certificates expiring within 2 months"] == 2


def test_the_search_term_finds_the_same_workers_by_the_surname_key_range_or_the_union(db, factory):
    """``search_clause`` answers a surname term by the sort-key range when no IIN or certificate number
    starts with it: both forms find exactly the workers a prefix match of the case-folded surname, the
    IIN or a certificate number finds."""
    from profreg.workers.search import matching_worker_ids, search_clause, surname_prefix_clause

    org = factory.org()
    surnames = ["Әбенова", "Абенова", "абай", "Ғалымов", "Гали", "Іскаков", "Ыбыраев", "Яковлев", "Ян-Ли",
                "Ян Ли", "O'Neil", "Öztürk", "Ozturk", "Жұмаев", "Жумаев", "Ёлкина", "Ермек", "Ахметов",
                "Ахметова", "Ахмед", "Aхмет"]  # (the last starts with a Latin A)
    ws = {s: factory.worker(org, surname=s) for s in surnames}
    factory.certificate(ws["Яковлев"], number="АХ-0001", valid_until=date(2030, 1, 1))  # a number that starts like a surname
    db.session.commit()
    terms = ["ә", "а", "аб", "Абе", "ғ", "г", "і", "ы", "я", "ян-", "ян ", "o'", "ö", "жұ", "жу", "ё", "е",
             "ахмет", "ах", "AХ", "x", "12", "87", "ЯКОВЛЕВА"]
    for term in terms:
        folded = term.strip().casefold()
        by_surname = {w.id for s, w in ws.items() if s.casefold().startswith(folded)}
        expected = by_surname | {w.id for w in ws.values() if term.isdigit() and w.iin.startswith(term)}
        by_number = set(db.session.execute(select(Certificate.worker_id).where(
            Certificate.number.like(f"{term.strip().upper()}%"))).scalars())
        got = set(db.session.execute(select(Worker.id).where(Worker.id.in_([w.id for w in ws.values()]),
                                                              search_clause(term))).scalars())
        assert got == expected | by_number, term
        union = set(db.session.execute(select(Worker.id).where(Worker.id.in_([w.id for w in ws.values()]),
                                                                Worker.id.in_(matching_worker_ids(term)))).scalars())
        assert union == got, term
        ranged = set(db.session.execute(select(Worker.id).where(Worker.id.in_([w.id for w in ws.values()]),
                                                                 surname_prefix_clause(term))).scalars())
        assert ranged == by_surname, term


def test_an_incomplete_record_is_the_same_in_sql_and_in_python(db, factory):
    """``analytics.currency.incomplete_clause`` (the ranking, the dashboard, the reminders) counts a missing,
    empty or blank entry field as the worker page's ``_missing`` does, and nothing else."""
    from profreg.analytics.currency import _missing, incomplete_clause
    from profreg.education.models import EducationDocument, EducationInstitution
    from profreg.reference.models import Country, EducationLevel, IdentityDocumentType

    org = factory.org()
    inst = EducationInstitution(name="Медицинский колледж", country=factory.ref(Country, "KZ"), city="Астана")
    db.session.add(inst)
    db.session.flush()
    values = {"none": None, "empty": "", "blank": "   ", "lead": " Алматы", "trail": "Алматы ", "plain": "Алматы"}
    ws = {}
    for k, v in values.items():
        ws[k] = w = factory.worker(org, id_doc_type=factory.ref(IdentityDocumentType, "ID_CARD"),
                                   id_doc_number="045612378", id_doc_issuer="МВД РК", id_doc_issued=date(2020, 1, 1),
                                   residence_address="Астана", registration_place=v, registration_date=date(2020, 1, 2))
        db.session.add(EducationDocument(worker=w, kind="general", level=factory.ref(EducationLevel, "SECONDARY"),
                                         institution=inst, number="ТКБ-1", issue_date=date(2011, 6, 30)))
    db.session.commit()
    has_edu = set(db.session.execute(select(EducationDocument.worker_id).where(EducationDocument.in_force)).scalars())
    sql = set(db.session.execute(select(Worker.id).where(Worker.id.in_([w.id for w in ws.values()]),
                                                          incomplete_clause())).scalars())
    python = {w.id for w in ws.values() if _missing(w, w.id in has_edu)}
    assert sql == python == {ws[k].id for k in ("none", "empty", "blank")}
