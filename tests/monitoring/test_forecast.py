"""Quarterly forecast: a synthetic cohort with known rates reproduces the expected projection."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from profreg.analytics.forecast import (
    birth_range,
    compute_forecast,
    need_by_specialty,
    parse_quarter,
    pension_age,
    pension_date,
)
from profreg.errors import DomainError
from profreg.monitoring.services import Scope

ASTANA = "710000000"


def test_pension_ages():
    assert pension_age("M", 2026) == 63 and pension_age("F", 2027) == 61
    assert [pension_age("F", y) for y in (2028, 2029, 2030, 2031, 2040)] == [61.5, 62, 62.5, 63, 63]
    assert pension_date(date(1964, 2, 15), "M") == date(2027, 2, 15)
    assert pension_date(date(1966, 5, 10), "F") == date(2027, 5, 10)  # 61 in 2027
    assert pension_date(date(1967, 1, 20), "F") == date(2028, 7, 20)  # 61.5 in 2028
    assert pension_date(date(1967, 9, 1), "F") == date(2029, 9, 1)  # 62 in 2029
    assert birth_range("F", date(2028, 7, 1), date(2028, 9, 30)) == (date(1967, 1, 1), date(1967, 3, 31))


def test_bad_quarter():
    with pytest.raises(DomainError):
        parse_quarter("2027Q5")
    with pytest.raises(DomainError):
        parse_quarter("Q1-2027")


@pytest.fixture
def cohort(factory, ref, today, db):
    from profreg.orgs.models import StaffingPosition
    from profreg.reference.models import Position, Specialty

    org = factory.org(ASTANA)
    f = factory
    for i in range(40):  # stable, young
        f.worker(org, birth=date(1990, 1, 1), hire=date(2015, 1, 1),
                 certificate_until=date(2027, 5, 1) if i < 3 else date(2030, 1, 1))
    for _ in range(8):  # exits in the window (not retirement)
        f.worker(org, birth=date(1985, 1, 1), hire=date(2015, 1, 1), end=date(2026, 6, 30), end_reason="OWN_WISH")
    f.worker(org, birth=date(1961, 1, 1), hire=date(2015, 1, 1), end=date(2026, 1, 31), end_reason="RETIREMENT")
    for _ in range(4):  # entries in the window
        f.worker(org, birth=date(2000, 1, 1), hire=date(2026, 3, 1))
    for _ in range(2):  # men reaching 63 on 15 Feb 2027 (2027Q1)
        f.worker(org, sex="M", birth=date(1964, 2, 15), hire=date(2015, 1, 1))
    f.worker(org, birth=date(1966, 5, 10), hire=date(2015, 1, 1))  # woman, 61 on 10 May 2027 (2027Q2)
    f.worker(org, birth=date(1967, 1, 20), hire=date(2015, 1, 1))  # woman, 61.5 on 20 Jul 2028 (2028Q3)
    db.session.add(StaffingPosition(organization=org, position=ref(Position, "NURSE"),
                                    specialty=ref(Specialty, "NURSING"), approved_fte=Decimal("50.00")))
    db.session.add(StaffingPosition(organization=org, position=ref(Position, "DOCTOR"),
                                    specialty=ref(Specialty, "SURGERY"), approved_fte=Decimal("1.00")))
    db.session.commit()
    return org


def expected_projection(s0, entries, exits, mean, retire0):
    n, x = entries / 4, exits / 4 / mean
    s, out = s0, [s0]
    for q in range(8):
        s = s + n - x * s - retire0[q] * (1 - x) ** q
        out.append(s)
    return out


def test_synthetic_cohort_reproduces_the_projection(cohort):
    fc = compute_forecast("2027Q1", Scope())
    assert fc["base_date"] == "2026-12-31" and fc["observation"] == ["2025-11-26", "2026-11-25"]
    assert fc["quarters"][0] == "2027Q1" and fc["quarters"][-1] == "2028Q4"
    [cell] = fc["cells"]
    assert cell["region"] == ASTANA and cell["specialty"] == "NURSING"
    assert cell["stock0"] == 48  # 40 + 4 entries + 4 reaching pension age
    assert cell["entries_year"] == 4 and cell["exits_year"] == 8  # the retirement is not an exit
    assert cell["mean_stock"] == 50.5  # (53 before the window + 48 at its end) / 2
    assert cell["entries_per_quarter"] == 1.0 and cell["exit_rate"] == round(8 / 4 / 50.5, 4)
    assert cell["reaching_pension_age"] == [2, 1, 0, 0, 0, 0, 1, 0]
    expected = expected_projection(48, 4, 8, 50.5, [2, 1, 0, 0, 0, 0, 1, 0])
    assert cell["stock"] == [round(v, 1) for v in expected]
    x = 8 / 4 / 50.5
    assert cell["stock"][1] == round(48 + 1 - x * 48 - 2, 1)
    assert cell["retirements"][1] == round(1 * (1 - x), 1)
    # qualification-confirmation calendar: three certificates end on 1 May 2027 (2027Q2)
    assert fc["certificates"]["totals"] == [0, 3, 0, 0, 0, 0, 0, 0]
    # vacancies: 50 approved nurses − 48 occupied; 1 surgeon approved, none occupied
    vac = {r["specialty"]: r for r in fc["vacancies"]["by_specialty"]}
    assert vac["NURSING"]["approved"] == 50 and vac["NURSING"]["occupied"] == 48 and vac["NURSING"]["vacant"] == 2
    assert vac["SURGERY"]["vacant"] == 1 and fc["vacancies"]["totals"]["vacant"] == 3
    need = {r["specialty"]: r for r in need_by_specialty(fc)}
    assert need["NURSING"]["need"] == round(2 + 48 - round(expected[-1], 1), 1)
    assert need["SURGERY"]["need"] == 1


def test_forecast_scoped_to_another_region_is_empty(cohort, factory):
    other = factory.region("750000000")
    fc = compute_forecast("2027Q1", Scope("region", other.id))
    assert fc["cells"] == [] and fc["vacancies"]["totals"]["vacant"] == 0
