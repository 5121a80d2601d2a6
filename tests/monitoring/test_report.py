"""The monthly monitoring report on a hand-built dataset: every figure asserted exactly."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from profreg.errors import DomainError
from profreg.monitoring import services as S
from profreg.workdays.models import WorkingDayOverride
from profreg.workdays.services import WorkingCalendar, entered_late, entry_deadline

ALMATY_CITY, ASTANA = "750000000", "710000000"
PERIOD = "2026-10"


def utc(y, m, d, h=5):
    """Naive UTC timestamp (05:00 UTC = 10:00 in Almaty)."""
    return datetime(y, m, d, h, 0)


def test_calendar_three_working_days_across_republic_day():
    cal = WorkingCalendar()
    # Republic Day 2026-10-25 is a Sunday, observed on Monday 26: Friday 23 + 3 working days = Thursday 29
    assert entry_deadline(date(2026, 10, 23), cal) == date(2026, 10, 29)
    assert entry_deadline(date(2026, 10, 14), cal) == date(2026, 10, 19)  # Wed → Mon (weekend skipped)
    assert not entered_late(date(2026, 10, 23), utc(2026, 10, 29, 18), cal)  # 23:00 Almaty on the deadline
    assert entered_late(date(2026, 10, 23), utc(2026, 10, 29, 19), cal)  # 00:00 Almaty on the 30th
    # Nauryz 2026: Friday 20 March + 3 working days = Monday 30 March
    assert entry_deadline(date(2026, 3, 20), cal) == date(2026, 3, 30)


def test_override_table_wins_over_the_package(db, ref):
    db.session.add(WorkingDayOverride(day=date(2026, 12, 15), is_working=False, note="transferred day off"))
    db.session.add(WorkingDayOverride(day=date(2026, 12, 19), is_working=True, note="working Saturday"))
    db.session.flush()
    cal = WorkingCalendar.load()
    assert not cal.is_working_day(date(2026, 12, 15)) and cal.is_working_day(date(2026, 12, 19))
    # Mon 14 Dec: 15 off (override), 16 Independence Day, 17 Thu, 18 Fri, 19 Sat worked → deadline 19
    assert entry_deadline(date(2026, 12, 14), cal) == date(2026, 12, 19)
    assert entry_deadline(date(2026, 12, 14)) == date(2026, 12, 19)  # loads the overrides itself
    assert entered_late(date(2026, 12, 14), utc(2026, 12, 21), cal)
    assert not entered_late(date(2026, 12, 14), utc(2026, 12, 19), cal)


@pytest.fixture
def country(factory, ref, today):
    """Two regions, three organizations, workers for every case of the report."""
    from profreg.reference.models import AdminUnit, OrganizationType

    ala, ast = factory.region(ALMATY_CITY), factory.region(ASTANA)
    ala.population, ast.population = 500_000, 300_000
    hosp, poly = ref(OrganizationType, "HOSPITAL"), ref(OrganizationType, "POLYCLINIC")
    a1 = factory.org(ALMATY_CITY, type=hosp)
    a2 = factory.org(ALMATY_CITY, type=poly)
    b1 = factory.org(ASTANA, type=hosp)
    f = factory
    w = {}
    # stock before the month, unchanged: a nurse (F, 39) and a physician (M, 60) in A1
    w["nurse"] = f.worker(a1, birth=date(1987, 4, 12), hire=date(2020, 1, 10), certificate_until=date(2030, 1, 1))
    w["doc"] = f.worker(a1, sex="M", birth=date(1966, 5, 1), position="DOCTOR", specialty="SURGERY",
                        hire=date(2015, 3, 2), certificate_until=date(2026, 12, 20))  # expiring within 2 months
    f.employment(w["doc"], b1, position="DOCTOR", specialty="SURGERY", hire=date(2024, 2, 1), fte="0.50")
    # hired Fri 23 Oct (working day before the Republic Day holiday), entered on the following working days
    w["h_ontime"] = f.worker(a2, birth=date(1999, 1, 1), hire=date(2026, 10, 23), entered_at=utc(2026, 10, 29),
                             certificate_until=date(2031, 1, 1))
    w["h_late"] = f.worker(a2, birth=date(1999, 2, 1), hire=date(2026, 10, 23), entered_at=utc(2026, 10, 30),
                           certificate_until=date(2031, 1, 1))
    # hired 1 Oct, entered the same day (on time), in Astana; certificate expired in October → blocked
    w["h_b1"] = f.worker(b1, birth=date(1990, 6, 1), hire=date(2026, 10, 1), entered_at=utc(2026, 10, 1),
                         certificate_until=date(2026, 10, 15))
    # hired in September but entered in October (late); the economist is not clinical
    w["h_sep"] = f.worker(b1, sex="M", birth=date(1980, 6, 1), position="ECONOMIST", specialty=None,
                          hire=date(2026, 9, 10), entered_at=utc(2026, 10, 2))
    # transfer within Almaty: A1 → A2 (ends 14 Oct, starts 15 Oct, entered 16 Oct: on time)
    w["tr_in"] = f.worker(a1, birth=date(1985, 1, 1), hire=date(2018, 1, 1), end=date(2026, 10, 14),
                          end_reason="TRANSFER", certificate_until=date(2029, 1, 1))
    f.employment(w["tr_in"], a2, hire=date(2026, 10, 15), entered_at=utc(2026, 10, 16))
    # transfer across regions: A1 → B1 (ends 20 Oct, starts 21 Oct, entered 21 Oct)
    w["tr_x"] = f.worker(a1, birth=date(1975, 1, 1), hire=date(2010, 1, 1), end=date(2026, 10, 20),
                         end_reason="TRANSFER", certificate_until=date(2029, 1, 1))
    f.employment(w["tr_x"], b1, hire=date(2026, 10, 21), entered_at=utc(2026, 10, 21))
    # transfer with no registered destination
    w["tr_lost"] = f.worker(b1, birth=date(1975, 2, 1), hire=date(2011, 1, 1), end=date(2026, 10, 9),
                            end_reason="TRANSFER", certificate_until=date(2029, 1, 1))
    # exits from the sector, one per reason (all in A1 except emigration in B1)
    exits = {"OWN_WISH": a1, "LEAVE_SECTOR": a1, "EMIGRATION": b1, "RETIREMENT": a1, "DEATH": a1,
             "DISMISSAL": a1, "CONTRACT_END": a2}
    for i, (reason, org) in enumerate(exits.items()):
        w[reason] = f.worker(org, birth=date(1960 + i, 3, 1), hire=date(2012, 1, 1), end=date(2026, 10, 5 + i),
                             end_reason=reason, certificate_until=date(2029, 1, 1))
    # left in September (not this month) and ends on 31 October (the last day: not in the stock at month end)
    f.worker(a1, birth=date(1970, 1, 1), hire=date(2012, 1, 1), end=date(2026, 9, 30), end_reason="OWN_WISH")
    w["last_day"] = f.worker(a1, birth=date(1971, 1, 1), hire=date(2012, 1, 1), end=date(2026, 10, 31),
                             end_reason="OWN_WISH", certificate_until=date(2029, 1, 1))
    # hired in November: not in the October stock
    f.worker(a1, birth=date(1995, 1, 1), hire=date(2026, 11, 2), entered_at=utc(2026, 11, 2))
    db_ = f.db
    db_.session.commit()
    return {"a1": a1, "a2": a2, "b1": b1, "ala": ala, "ast": ast, "w": w, "AdminUnit": AdminUnit}


def by_code(rows, key="code"):
    return {r[key]: r for r in rows}


def test_every_figure_of_the_monthly_report(country, today):
    r = S.compute_report(PERIOD, S.Scope())
    ala, ast = country["ala"], country["ast"]

    reg = r["registration"]
    # entered in October: 23 Oct on time, 23 Oct late, 1 Oct, September hire (late), 15 Oct and 21 Oct transfers
    assert reg["totals"] == {"entered": 6, "on_time": 4, "late": 2}
    rr = by_code(reg["by_region"])
    assert (rr[ALMATY_CITY]["entered"], rr[ALMATY_CITY]["on_time"], rr[ALMATY_CITY]["late"]) == (3, 2, 1)
    assert (rr[ASTANA]["entered"], rr[ASTANA]["on_time"], rr[ASTANA]["late"]) == (3, 2, 1)

    rk = r["recordkeeping"]
    # stock at 31 Oct: nurse, doc (A1 + 0.5 in B1), h_ontime, h_late, h_b1, h_sep, tr_in (A2), tr_x (B1)
    assert rk["totals"]["headcount"] == 8
    assert rk["totals"]["fte"] == 8.5
    assert rk["totals"]["density"] == 0.1
    reg_rows = by_code(rk["by_region"])
    # doc's primary episode is in Almaty (main job): Almaty nurse, doc, h_ontime, h_late, tr_in = 5
    assert reg_rows[ALMATY_CITY]["headcount"] == 5 and reg_rows[ALMATY_CITY]["fte"] == 5.0
    assert reg_rows[ASTANA]["headcount"] == 3 and reg_rows[ASTANA]["fte"] == 3.5
    assert reg_rows[ALMATY_CITY]["density"] == 0.1 and reg_rows[ASTANA]["density"] == 0.1
    types = by_code(rk["by_org_type"])
    # A1 + B1 (doc counted once, by his main job in A1; his 0.5 FTE in B1 still counts as FTE)
    assert types["HOSPITAL"]["headcount"] == 5 and types["HOSPITAL"]["fte"] == 5.5
    assert types["POLYCLINIC"]["headcount"] == 3  # A2: h_ontime, h_late, tr_in
    specs = by_code(rk["by_specialty"])
    assert specs["NURSING"]["headcount"] == 6 and specs["SURGERY"]["headcount"] == 1
    assert specs["SURGERY"]["fte"] == 1.5 and specs[""]["headcount"] == 1  # the economist
    groups = by_code(rk["by_position_group"])
    assert groups["nurse"]["headcount"] == 6 and groups["doctor"]["headcount"] == 1
    assert groups["other"]["headcount"] == 1
    sexes = by_code(rk["by_sex"])
    assert sexes["F"]["headcount"] == 6 and sexes["M"]["headcount"] == 2
    ages = by_code(rk["by_age_group"])
    # ages at 31 Oct 2026: h_ontime 27, h_late 27 → <30; h_b1 36, nurse 39 → 30-39; h_sep 46, tr_in 41 → 40-49;
    # tr_x 51 → 50-59; doc 60 → 60+
    assert {k: v["headcount"] for k, v in ages.items()} == {"<30": 2, "30-39": 2, "40-49": 2, "50-59": 1, "60+": 1}

    mig = r["migration"]["totals"]
    assert mig == {"within_region_out": 1, "within_region_in": 1, "between_regions_out": 1,
                   "between_regions_in": 1, "abroad": 1, "transfer_unmatched": 1}
    assert [(f["from"], f["to"], f["count"]) for f in r["migration"]["flows"]] == [(ALMATY_CITY, ASTANA, 1)]

    out = r["outflow"]
    # eight exits, one per old reason (two "own wish"), migrated to the category and the Labour Code ground
    # (issue 20.6); the 31 October exit counts too (it ends in the month)
    assert out["totals"] == {"total": 8, "in_sector": 4, "leaves_sector": 1, "abroad": 1, "retirement": 1,
                             "death": 1, "not_stated": 0}
    grounds = {x["code"]: x["count"] for x in out["by_ground"]}
    assert grounds == {"EMPLOYEE_INITIATIVE": 4, "RETIREMENT_AGE": 1, "DEATH": 1, "EMPLOYER_INITIATIVE": 1,
                       "TERM_EXPIRY": 1}
    assert {x["code"]: x["article"] for x in out["by_ground"]}["RETIREMENT_AGE"] == "52.1.24"

    cert = r["certificates"]
    # expiring: doc (20 Dec 2026); expired in October: h_b1 (15 Oct); blocked: h_b1 (clinical, none valid)
    assert cert["totals"] == {"expiring": 1, "expired": 1, "blocked": 1}
    cr = by_code(cert["by_region"])
    assert cr[ALMATY_CITY]["expiring"] == 1 and cr[ASTANA]["expiring"] == 0  # doc: primary job in Almaty
    assert cr[ASTANA]["blocked"] == 1 and cr[ALMATY_CITY]["blocked"] == 0
    assert ala.id and ast.id


def test_region_scope_sees_moves_in_and_out(country, today):
    ast = country["ast"]
    r = S.compute_report(PERIOD, S.Scope("region", ast.id))
    assert r["registration"]["totals"] == {"entered": 3, "on_time": 2, "late": 1}
    assert r["recordkeeping"]["totals"]["headcount"] == 4  # h_b1, h_sep, tr_x, doc's part-time episode
    mig = r["migration"]["totals"]
    assert mig["between_regions_in"] == 1 and mig["between_regions_out"] == 0
    assert mig["within_region_out"] == 0 and mig["transfer_unmatched"] == 1 and mig["abroad"] == 1
    assert r["outflow"]["totals"]["total"] == 1 and r["outflow"]["totals"]["abroad"] == 1


def test_bad_period_is_a_clear_error(db):
    with pytest.raises(DomainError):
        S.parse_period("2026-13")
    with pytest.raises(DomainError):
        S.parse_period("October")
    assert S.due_date("2026-12") == date(2027, 1, 11)  # the 10th is a Sunday: the next working day


def test_tables_and_exports(country, today, tmp_path):
    from openpyxl import load_workbook

    from profreg.monitoring.tables import report_tables, tables_to_csv, tables_to_xlsx

    tables = report_tables(S.compute_report(PERIOD, S.Scope()))
    assert [t.key for t in tables] == ["registration", "recordkeeping", "migration", "outflow", "certificates"]
    tables_to_xlsx(tmp_path / "r.xlsx", tables)
    wb = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert len(wb.sheetnames) == 5
    n = tables_to_csv(tmp_path / "r.csv", tables)
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert n >= 1 and ("Registration" in text or "Регистрация" in text)
