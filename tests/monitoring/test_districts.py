"""Districts (issue 20, item 5; rule 4.1): the shipped KATO level-2 classifier and the level-3 cities of
district significance under it, and the monthly report of a region broken down by district, whose lines
add up to the region's figures (organizations without a district on the "district not set" line)."""
from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from profreg.monitoring import services as S
from profreg.monitoring.tables import report_tables
from profreg.reference.models import AdminUnit
from profreg.reference.services import SEEDS

ALMATY_CITY, ASTANA = "750000000", "710000000"
ALMALY, AUEZOV, ASTANA_ALMATY = "751110000", "751310000", "711110000"
PERIOD = "2026-10"


def utc(y, m, d, h=5):
    return datetime(y, m, d, h, 0)


# ------------------------------------------------------------------------------------- the classifier
def test_the_kato_districts_are_shipped_for_all_twenty_regions(db, ref):
    regions = db.session.execute(select(AdminUnit).where(AdminUnit.level == 1)).scalars().all()
    assert len(regions) == 20
    districts = db.session.execute(select(AdminUnit).where(AdminUnit.level == 2)).scalars().all()
    assert len(districts) == 223
    by_region = {r.id: 0 for r in regions}
    for d in districts:
        assert d.parent_id in by_region, d.code  # every district hangs under a region
        by_region[d.parent_id] += 1
        assert len(d.code) == 9 and d.code.isdigit()
        # KATO: a region's district is ABCD00000, a district of a city of republican significance ABCD10000
        assert d.code.endswith("10000" if d.parent.code in ("710000000", "750000000", "790000000") else "00000")
        assert d.code[:2] == d.parent.code[:2]  # KATO: the region's two digits lead the district's code
        assert d.name_kk and d.name_ru and d.name_en and d.name_kk != d.name_ru
    assert all(n > 0 for n in by_region.values()), by_region
    # the 2022 regions have their districts and cities
    assert ref(AdminUnit, "101000000").name_ru == "город Семей" and ref(AdminUnit, "101000000").parent.code == "100000000"
    assert ref(AdminUnit, "331000000").name_kk == "Талдықорған қаласы"
    assert ref(AdminUnit, "621000000").parent.code == "620000000"  # Zhezkazgan in Ulytau
    assert ref(AdminUnit, ALMALY).name_en == "Almaly District" and ref(AdminUnit, ALMALY).is_city is False
    # cities of regional significance are flagged
    assert ref(AdminUnit, "111000000").is_city is True and ref(AdminUnit, "111000000").level == 2
    # the city districts carry the classifier's codes (sources A and B of the seed file's header)
    assert ref(AdminUnit, ASTANA_ALMATY).name_ru == "район Алматы" and ref(AdminUnit, ASTANA_ALMATY).parent.code == ASTANA
    assert ref(AdminUnit, "711510000").name_en == "Nura District"
    assert ref(AdminUnit, "791910000").name_en == "Turan District" and ref(AdminUnit, "791910000").parent.code == "790000000"
    saraishyk = ref(AdminUnit, "711610000")
    assert (saraishyk.name_kk, saraishyk.name_ru, saraishyk.parent.code) == ("Сарайшық ауданы", "район Сарайшық", ASTANA)
    city_districts = {d.code for d in districts if d.parent.code in (ASTANA, ALMATY_CITY, "790000000")}
    assert len(city_districts) == 19 and all(c.endswith("10000") for c in city_districts)
    assert not db.session.execute(select(AdminUnit).where(AdminUnit.code.in_(("711100000", "751100000", "791100000")))).first()


def test_the_seed_file_states_its_source_and_date(db):
    text = (SEEDS / "kato_districts.csv").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    joined = "\n".join(header)
    assert "stat.gov.kz" in joined and "30.11.2026" in joined
    # the city districts' codes corrected from the two public copies, and the revision recoding old databases
    assert "CORRECTED on 30.11.2026" in joined and "0020" in joined
    assert "nikita-astakhnovich-idf/CsvParser" in joined and "d9d0d32d538703799cdf39b6fd553c36a6b5109d" in joined
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert len(rows) == 223 and len({r["code"] for r in rows}) == 223


def test_the_cities_of_district_significance_are_shipped_under_their_districts(db, ref):
    cities = db.session.execute(select(AdminUnit).where(AdminUnit.level == 3)).scalars().all()
    assert len(cities) == 48
    assert len({c.code for c in cities}) == 48
    for c in cities:
        assert len(c.code) == 9 and c.code.isdigit(), c.code
        district = c.parent
        assert district is not None and district.level == 2, c.code  # an existing level-2 parent
        assert district.code[:4] == c.code[:4] and district.code.endswith("00000")  # KATO: AB+CD lead
        region = district.parent
        assert region.level == 1 and region.code[:2] == c.code[:2]  # ... within the right region
        assert c.is_city is True
        assert c.name_kk and c.name_ru and c.name_en and c.name_kk != c.name_ru
    shchuchinsk = ref(AdminUnit, "117020100")
    assert shchuchinsk.name_ru == "город Щучинск" and shchuchinsk.name_kk == "Щучинск қаласы"
    assert shchuchinsk.parent.code == "117000000" and shchuchinsk.parent.parent.code == "110000000"  # Burabay, Akmola
    # Ayagoz and Altai are cities of district significance (not level 2)
    assert ref(AdminUnit, "103620100").parent.code == "103600000"
    assert ref(AdminUnit, "634820100").parent.code == "634800000"
    # the district lists stay level 2
    assert db.session.execute(select(func.count()).select_from(AdminUnit).where(AdminUnit.level == 2)).scalar() == 223


def test_an_organization_in_a_city_of_district_significance_is_in_that_district(db, ref, factory):
    from profreg.orgs.services import set_region

    org = factory.org("110000000")
    org.unit = ref(AdminUnit, "117020100")  # Shchuchinsk
    set_region(org)
    assert org.region.code == "110000000" and org.district.code == "117000000"  # Akmola, Burabay district
    db.session.rollback()


def test_the_cities_seed_file_states_its_sources_and_date(db):
    text = (SEEDS / "kato_cities.csv").read_text(encoding="utf-8")
    joined = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "30.11.2026" in joined and "stat.gov.kz" in joined
    # the two public copies, by repository, path and commit
    assert "nikita-astakhnovich-idf/CsvParser" in joined and "acb575177d9ab0271980063441fc57865a140348" in joined
    assert "cihancacan/medsestra-kz" in joined and "d9d0d32d538703799cdf39b6fd553c36a6b5109d" in joined
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert len(rows) == 48 and len({r["code"] for r in rows}) == 48
    assert {r["level"] for r in rows} == {"3"} and {r["is_city"] for r in rows} == {"1"}
    districts = (SEEDS / "kato_districts.csv").read_text(encoding="utf-8")
    level2 = {r["code"] for r in csv.DictReader(line for line in districts.splitlines() if not line.startswith("#"))}
    assert {r["parent_code"] for r in rows} <= level2


def test_loading_the_reference_again_keeps_the_districts(db):
    from profreg.reference.services import load_reference

    before = db.session.execute(select(func.count()).select_from(AdminUnit)).scalar()
    counts = load_reference()
    assert counts["kato_districts"] == 223 and counts["kato_cities"] == 48
    assert db.session.execute(select(func.count()).select_from(AdminUnit)).scalar() == before
    db.session.rollback()


# ------------------------------------------------------------------------------ the district breakdown
@pytest.fixture
def almaty(factory, ref, today):
    """Almaty city: a1 in Almaly district, a2 in Auezov district, a3 without a district; b1 in Astana."""
    f = factory
    d1, d2 = f.district(ALMALY), f.district(AUEZOV)
    a1, a2, a3 = f.org(ALMATY_CITY, district=d1), f.org(ALMATY_CITY, district=d2), f.org(ALMATY_CITY)
    b1 = f.org(ASTANA, district=f.district(ASTANA_ALMATY))
    w = {}
    w["w1"] = f.worker(a1, birth=date(1980, 1, 1), hire=date(2019, 1, 1), certificate_until=date(2026, 12, 20))
    w["w2"] = f.worker(a2, birth=date(1990, 1, 1), hire=date(2019, 1, 1), certificate_until=date(2030, 1, 1))
    # no district; certificate expired in October: expired and blocked (a nurse is clinical)
    w["w3"] = f.worker(a3, birth=date(1970, 1, 1), hire=date(2019, 1, 1), certificate_until=date(2026, 10, 15))
    # main job in Auezov, a half post in Almaly: counted once, in Auezov; FTE split
    w["w4"] = f.worker(a2, birth=date(1985, 1, 1), hire=date(2018, 1, 1), certificate_until=date(2030, 1, 1))
    f.employment(w["w4"], a1, hire=date(2021, 1, 1), fte="0.50")
    # main job in Astana, a half post in a3: in Almaty's report only the a3 episode counts
    w["w5"] = f.worker(b1, birth=date(1975, 1, 1), hire=date(2017, 1, 1), certificate_until=date(2030, 1, 1))
    f.employment(w["w5"], a3, hire=date(2022, 1, 1), fte="0.50")
    # registrations in October (hire Fri 23 Oct: the 29th is on time, the 30th late)
    w["r1"] = f.worker(a1, birth=date(1999, 1, 1), hire=date(2026, 10, 23), entered_at=utc(2026, 10, 29),
                       certificate_until=date(2031, 1, 1))
    w["r2"] = f.worker(a3, birth=date(1999, 2, 1), hire=date(2026, 10, 23), entered_at=utc(2026, 10, 30),
                       certificate_until=date(2031, 1, 1))
    w["r3"] = f.worker(a2, birth=date(1998, 2, 1), hire=date(2026, 10, 1), entered_at=utc(2026, 10, 1),
                       certificate_until=date(2031, 1, 1))
    # leaves both Almaly and Auezov posts in October: one exit, counted in Almaly (his first episode)
    w["x1"] = f.worker(a1, birth=date(1965, 1, 1), hire=date(2010, 1, 1), end=date(2026, 10, 12),
                       end_reason="OWN_WISH", certificate_until=date(2029, 1, 1))
    f.employment(w["x1"], a2, hire=date(2012, 1, 1), end=date(2026, 10, 12), end_reason="OWN_WISH", fte="0.25")
    w["x2"] = f.worker(a3, birth=date(1961, 1, 1), hire=date(2010, 1, 1), end=date(2026, 10, 20),
                       end_reason="RETIREMENT", certificate_until=date(2029, 1, 1))
    f.db.session.commit()
    return {"d1": d1, "d2": d2, "a1": a1, "a2": a2, "a3": a3, "b1": b1, "w": w,
            "ala": f.region(ALMATY_CITY), "ast": f.region(ASTANA)}


def by_code(rows):
    return {r["code"]: r for r in rows}


def _sums(rows, measures):
    return {m: round(sum(r[m] for r in rows), 2) for m in measures}


def test_a_regions_district_lines_add_up_to_its_figures(almaty):
    r = S.compute_report(PERIOD, S.Scope("region", almaty["ala"].id))
    reg, rk, out, cert = r["registration"], r["recordkeeping"], r["outflow"], r["certificates"]

    # the sums hold for every measure broken down by district
    assert _sums(reg["by_district"], ("entered", "on_time", "late")) == reg["totals"]
    assert _sums(rk["by_district"], ("headcount", "fte")) == {"headcount": rk["totals"]["headcount"],
                                                              "fte": rk["totals"]["fte"]}
    assert _sums(out["by_district"], ("total",)) == {"total": out["totals"]["total"]}
    assert _sums(cert["by_district"], ("expiring", "expired", "blocked")) == cert["totals"]

    # and the lines are the right ones: Almaly, Auezov, then "district not set" (code empty), last
    assert [x["code"] for x in rk["by_district"]] == [ALMALY, AUEZOV, ""]
    assert rk["by_district"][-1]["district_not_set"] is True and rk["by_district"][0]["district_not_set"] is False
    assert rk["by_district"][0]["names"]["kk"] == "Алмалы ауданы"
    # stock at 31 Oct: Almaly w1, r1 (+ w4's half post); Auezov w2, w4, r3; not set w3, w5's half post, r2
    assert rk["totals"] == {"headcount": 8, "fte": 8.0, "density": rk["totals"]["density"]}
    hc = {code: (x["headcount"], x["fte"]) for code, x in by_code(rk["by_district"]).items()}
    assert hc == {ALMALY: (2, 2.5), AUEZOV: (3, 3.0), "": (3, 2.5)}
    # registrations: r1 on time (Almaly), r3 on time (Auezov), r2 late (not set)
    rd = {c: (x["entered"], x["on_time"], x["late"]) for c, x in by_code(reg["by_district"]).items()}
    assert reg["totals"] == {"entered": 3, "on_time": 2, "late": 1}
    assert rd == {ALMALY: (1, 1, 0), AUEZOV: (1, 1, 0), "": (1, 0, 1)}
    # x1 leaves two posts but is one exit (Almaly); x2 retires from a3
    assert out["totals"]["total"] == 2
    assert {c: x["total"] for c, x in by_code(out["by_district"]).items()} == {ALMALY: 1, "": 1}
    # certificates: w1 expiring (Almaly); w3 expired and blocked (not set)
    cd = {c: (x["expiring"], x["expired"], x["blocked"]) for c, x in by_code(cert["by_district"]).items()}
    assert cd[ALMALY] == (1, 0, 0) and cd[""] == (0, 1, 1)


def test_every_region_of_the_country_sums_by_district(almaty):
    """The same identity for the other region of the fixture (one district, no "not set" line) and
    no district breakdown in the country's report (its lines are the regions)."""
    r = S.compute_report(PERIOD, S.Scope("region", almaty["ast"].id))
    rk = r["recordkeeping"]
    assert [x["code"] for x in rk["by_district"]] == [ASTANA_ALMATY]
    assert _sums(rk["by_district"], ("headcount", "fte")) == {"headcount": rk["totals"]["headcount"],
                                                              "fte": rk["totals"]["fte"]}
    country = S.compute_report(PERIOD, S.Scope())
    assert "by_district" not in country["recordkeeping"] and "by_district" not in country["registration"]


def test_a_districts_report_is_its_line_of_the_regions_report(almaty):
    region = S.compute_report(PERIOD, S.Scope("region", almaty["ala"].id))
    line = by_code(region["registration"]["by_district"])[ALMALY]
    mine = S.compute_report(PERIOD, S.Scope("district", almaty["d1"].id))
    assert mine["scope"]["kind"] == "district" and mine["scope"]["code"] == ALMALY
    assert mine["scope"]["region"]["code"] == ALMATY_CITY
    assert mine["registration"]["totals"] == {k: line[k] for k in ("entered", "on_time", "late")}
    assert mine["recordkeeping"]["totals"]["fte"] == by_code(region["recordkeeping"]["by_district"])[ALMALY]["fte"]
    # within its own scope, w4's Almaly half post is his only episode: he counts in the district's headcount
    assert mine["recordkeeping"]["totals"]["headcount"] == 3


@pytest.mark.parametrize("lang, not_set, district", [("ru", "Район не указан", "Район"),
                                                      ("kk", "Аудан көрсетілмеген", "Аудан"),
                                                      ("en", "District not set", "District")])
def test_the_report_tables_show_the_district_lines_in_every_language(almaty, lang, not_set, district):
    snap = S.compute_report(PERIOD, S.Scope("region", almaty["ala"].id))
    with force_locale(lang):
        tables = {t.key: t for t in report_tables(snap)}
        rows = [row for row in tables["recordkeeping"].rows if row[0] == district]
        assert [row[1] for row in rows] == [ALMALY, AUEZOV, ""]
        assert rows[-1][2] == not_set
        assert [row[2] for row in tables["registration"].rows if row[0] == district][-1] == not_set
        assert any(row[0] == district for row in tables["outflow"].rows)
        assert any(row[0] == district for row in tables["certificates"].rows)


def test_district_scope_from_codes_and_parsing(almaty, factory):
    d1 = almaty["d1"]
    assert S.scope_from_codes(district_kato=ALMALY) == S.Scope("district", d1.id)
    with pytest.raises(S.DomainError):
        S.scope_from_codes(district_kato=ALMATY_CITY)  # a region is not a district
    ministry = factory.user("ministry")
    assert S.parse_scope(f"district:{d1.id}", ministry) == S.Scope("district", d1.id)
    with pytest.raises(S.DomainError):
        S.parse_scope(f"district:{almaty['ala'].id}", ministry)  # level 1 is not a district
    with pytest.raises(S.DomainError):
        S.parse_scope(f"region:{d1.id}", ministry)  # nor a district a region
