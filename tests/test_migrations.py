"""``flask db upgrade`` on an empty database gives exactly the schema of the models."""
import contextlib
import os
import re
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def _flask(url, *args):
    env = {**os.environ, "DATABASE_URL": url, "PROFREG_CONFIG": "default"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def _scratch_database(app, tmp_path, label: str):
    """A new empty database of the test run's kind (PostgreSQL: created beside the test database and
    dropped after; SQLite: a file), as a URL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / label}.db"
        return
    base, _, test_db = url.rpartition("/")
    name = f"{test_db}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _insert_unit(c, code: str, level: int, parent=None) -> int:
    """An admin_unit row in plain SQL (the schema of the revision under test), its id."""
    return c.execute(text(
        "INSERT INTO admin_unit (code, name_kk, name_ru, name_en, is_active, level, parent_id, is_city) "
        "VALUES (:c, :c, :c, :c, :t, :l, :p, :f) RETURNING id"),
        {"c": code, "l": level, "p": parent, "t": True, "f": False}).scalar()


def test_upgrade_then_check_reports_no_difference(app, tmp_path):
    # tests/conftest.py drops a scratch database a crash leaves behind
    with _scratch_database(app, tmp_path, "mig") as target:
        up = _flask(target, "db", "upgrade")
        assert up.returncode == 0, up.stderr
        check = _flask(target, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr
        down = _flask(target, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr


def test_revisions_form_one_line():
    heads = re.findall(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$",
                       "\n".join(p.read_text() for p in (ROOT / "migrations" / "versions").glob("*.py")), re.M)
    revs = [h.strip() for h in heads]
    assert revs.count("None") == 1, "exactly one base revision"
    assert len(revs) == len(set(revs)), "no two revisions share a parent (branches must be merged)"


def test_upgrade_keeps_every_row_of_a_populated_register(app, tmp_path):
    """A register that holds data goes through every later revision without losing a row. On SQLite
    batch mode rebuilds tables; with foreign keys enforced, dropping the old ``worker`` table cascaded
    to every episode and certificate (migrations/env.py turns the pragma off for migrations)."""
    with _scratch_database(app, tmp_path, "populated") as target:
        assert _flask(target, "db", "upgrade", "0007").returncode == 0
        engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
        tables = ("worker", "employment", "certificate", "education_document", "cpd_record")
        with engine.begin() as c:  # rows as the 0007 schema holds them (plain SQL: today's models differ)
            def ref(table, code, **extra):
                found = c.execute(text(f"SELECT id FROM {table} WHERE code = :c"), {"c": code}).scalar()
                if found is None:
                    cols = {"code": code, "name_kk": code, "name_ru": code, "name_en": code, "is_active": True,
                            **extra}
                    names = ", ".join(f'"{k}"' for k in cols)
                    found = c.execute(text(f"INSERT INTO {table} ({names}) VALUES "
                                           f"({', '.join(':' + k for k in cols)}) RETURNING id"), cols).scalar()
                return found

            ref("admin_unit", "710000000", level=1)
            c.execute(text("INSERT INTO education_institution (name, kind, country_id) VALUES ('ҚазҰМУ', "
                           "'education', :kz)"), {"kz": ref("country", "KZ")})

            region = ref("admin_unit", "710000000")
            org = c.execute(text(
                "INSERT INTO organization (bin, name_kk, name_ru, name_en, unit_id, region_id) "
                "VALUES ('150440000013', 'А', 'А', 'A', :r, :r) RETURNING id"), {"r": region}).scalar()
            for n in range(3):
                worker = c.execute(text(
                    "INSERT INTO worker (iin, surname, name, surname_folded, sex, birth_date, birth_place, "
                    "citizenship_id, status, created_at, updated_at, version) VALUES (:iin, 'Асанова', 'Айгүл', "
                    "'асанова', 'F', '1987-04-12', 'Астана', :kz, 'active', '2026-01-01', '2026-01-01', 1) "
                    "RETURNING id"), {"iin": f"87041240{n:04d}", "kz": ref("country", "KZ")}).scalar()
                # issue 20.6: one episode left "own wish" (a seeded reason), one for a reason the ministry added
                # itself (only its flags say where the worker went), one is still held
                reason = (ref("employment_end_reason", "OWN_WISH", voluntary=True) if n == 0 else
                          ref("employment_end_reason", "CUSTOM_ABROAD", abroad=True, leaves_sector=True)
                          if n == 1 else None)
                c.execute(text(
                    "INSERT INTO employment (worker_id, organization_id, region_id, position_id, hire_date, fte, "
                    "is_main, entered_at, end_date, end_reason_id) VALUES (:w, :o, :r, :p, '2020-01-10', 1, :t, "
                    "'2020-01-10', :end, :reason)"),
                    {"w": worker, "o": org, "r": region, "t": True, "reason": reason,
                     "end": date(2021, 1, 10) if reason else None,
                     "p": ref("position", "NURSE", is_clinical=True, group="nurse")})
                c.execute(text(
                    "INSERT INTO certificate (worker_id, number, specialty_id, issue_date, valid_until, created_at) "
                    "VALUES (:w, :n, :s, '2022-01-01', '2027-01-01', '2022-01-05')"),
                    {"w": worker, "n": f"KZ-M-{n}", "s": ref("specialty", "NURSING")})
                c.execute(text(
                    "INSERT INTO education_document (worker_id, kind, level_id, institution_id, number) VALUES "
                    "(:w, 'general', :l, (SELECT min(id) FROM education_institution), :n)"),
                    {"w": worker, "l": ref("education_level", "SECONDARY", kind="general"), "n": f"ED{n}"})
                c.execute(text(
                    "INSERT INTO cpd_record (worker_id, activity_type_id, provider, topic, start_date, end_date, "
                    "hours) VALUES (:w, :a, 'НЦПО', 'Тема', '2024-01-10', '2024-01-20', 54)"),
                    {"w": worker, "a": ref("training_activity_type", "ADV_TRAINING", is_advanced_training=True)})

        def counts():
            with engine.connect() as c:
                return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}

        before = counts()
        assert before["employment"] == 3 and before["certificate"] == 3
        up = _flask(target, "db", "upgrade")
        assert up.returncode == 0, up.stderr[-2000:]
        assert counts() == before
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM certificate WHERE entered_at IS NULL")).scalar() == 0
            # the reasons for leaving split in two (0018): the old value kept, the ground and category mapped
            endings = c.execute(text(
                "SELECT r.code, g.code, e.end_category FROM employment e "
                "LEFT JOIN employment_end_reason r ON r.id = e.end_reason_id "
                "LEFT JOIN labour_code_ground g ON g.id = e.end_ground_id ORDER BY e.id")).all()
            assert [tuple(row) for row in endings] == [("OWN_WISH", "EMPLOYEE_INITIATIVE", "in_sector"),
                                                       ("CUSTOM_ABROAD", None, "abroad"), (None, None, None)]
        engine.dispose()


def test_the_districts_revision_files_organizations_under_their_district(app, tmp_path):
    """Revision 0019 (issue 20, item 5) keeps every organization and points one filed under a district (or a
    unit below one) at that district; one filed under its region stays "district not set"."""
    with _scratch_database(app, tmp_path, "districts") as target:
        assert _flask(target, "db", "upgrade", "0013").returncode == 0
        engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as c:
            def unit(code, level, parent=None):
                return _insert_unit(c, code, level, parent)

            region = unit("110000000", 1)  # Akmola region
            district = unit("117000000", 2, region)  # Burabay district
            village = unit("117020100", 3, district)  # Shchuchinsk, a city of district significance
            orgs = {}
            for key, bin_, where in (("region", "150440000013", region), ("district", "150440000024", district),
                                     ("village", "150440000035", village)):
                orgs[key] = c.execute(text(
                    "INSERT INTO organization (bin, name_kk, name_ru, name_en, unit_id, region_id) "
                    "VALUES (:b, 'А', 'А', 'A', :u, :r) RETURNING id"), {"b": bin_, "u": where, "r": region}).scalar()
        up = _flask(target, "db", "upgrade")
        assert up.returncode == 0, up.stderr[-2000:]
        with engine.connect() as c:
            got = dict(c.execute(text("SELECT id, district_id FROM organization")).all())
            assert got == {orgs["region"]: None, orgs["district"]: district, orgs["village"]: district}
            assert c.execute(text("SELECT count(*) FROM \"user\" WHERE district_id IS NOT NULL")).scalar() == 0
        down = _flask(target, "db", "downgrade", "0013")
        assert down.returncode == 0, down.stderr[-2000:]
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM organization")).scalar() == 3
        engine.dispose()


def test_the_kato_revision_recodes_the_city_districts_in_place(app, tmp_path):
    """Revision 0020: the city districts of Astana, Almaty and Shymkent take the classifier's codes
    (ABCD00000 -> ABCD10000) on the same admin_unit rows, so an organization filed under one still points at
    it; a duplicate row with the new code that nothing uses (the new seed loaded first) gives way; Saraishyk
    district is added under Astana. Downgrade gives the old codes back and removes the unused Saraishyk."""
    with _scratch_database(app, tmp_path, "kato") as target:
        assert _flask(target, "db", "upgrade", "0015").returncode == 0
        engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as c:
            def unit(code, level, parent=None):
                return _insert_unit(c, code, level, parent)

            astana, shymkent = unit("710000000", 1), unit("790000000", 1)
            almaty_d, nura = unit("711100000", 2, astana), unit("711500000", 2, astana)
            abai = unit("791100000", 2, shymkent)
            duplicate = unit("791110000", 2, shymkent)  # the corrected seed loaded before the revision, unused
            other = unit("117000000", 2, None)  # a region's district: not touched
            almaty = unit("750000000", 1)
            almaly_old, almaly_new = unit("751100000", 2, almaty), unit("751110000", 2, almaty)  # both in use
            for bin_, d in (("150440000035", almaly_old), ("150440000046", almaly_new)):
                c.execute(text("INSERT INTO organization (bin, name_kk, name_ru, name_en, unit_id, region_id, "
                               "district_id) VALUES (:b, 'А', 'А', 'A', :d, :r, :d)"), {"b": bin_, "d": d, "r": almaty})
            org = c.execute(text(
                "INSERT INTO organization (bin, name_kk, name_ru, name_en, unit_id, region_id, district_id) "
                "VALUES ('150440000013', 'А', 'А', 'A', :d, :r, :d) RETURNING id"), {"d": almaty_d, "r": astana}).scalar()
            org2 = c.execute(text(
                "INSERT INTO organization (bin, name_kk, name_ru, name_en, unit_id, region_id, district_id) "
                "VALUES ('150440000024', 'А', 'А', 'A', :d, :r, :d) RETURNING id"), {"d": abai, "r": shymkent}).scalar()
        up = _flask(target, "db", "upgrade")
        assert up.returncode == 0, up.stderr[-2000:]
        with engine.connect() as c:
            codes = dict(c.execute(text("SELECT id, code FROM admin_unit")).all())
            assert codes[almaty_d] == "711110000" and codes[nura] == "711510000" and codes[abai] == "791110000"
            assert codes[other] == "117000000" and duplicate not in codes
            # two rows in use, one per code: neither is touched (a manual merge), the upgrade still succeeds
            assert codes[almaly_old] == "751100000" and codes[almaly_new] == "751110000"
            got = {r[0]: (r[1], r[2]) for r in c.execute(text("SELECT id, unit_id, district_id FROM organization"))}
            assert got[org] == (almaty_d, almaty_d) and got[org2] == (abai, abai)
            saraishyk = c.execute(text("SELECT name_kk, name_ru, level, parent_id FROM admin_unit "
                                       "WHERE code = '711610000'")).one()
            assert tuple(saraishyk) == ("Сарайшық ауданы", "район Сарайшық", 2, astana)
        down = _flask(target, "db", "downgrade", "0015")
        assert down.returncode == 0, down.stderr[-2000:]
        with engine.connect() as c:
            codes = dict(c.execute(text("SELECT id, code FROM admin_unit")).all())
            assert codes[almaty_d] == "711100000" and codes[nura] == "711500000" and codes[abai] == "791100000"
            assert "711610000" not in codes.values()
            assert codes[almaly_old] == "751100000" and codes[almaly_new] == "751110000"
            assert c.execute(text("SELECT count(*) FROM organization")).scalar() == 4
        engine.dispose()
