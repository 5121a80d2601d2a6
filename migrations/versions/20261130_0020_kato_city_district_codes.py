"""KATO codes of the city districts of Astana, Almaty and Shymkent corrected; Saraishyk district added

Revision ID: 0020
Revises: 0015
Create Date: 2026-11-30

Data only, no schema change. The 18 city districts (level 2, reference/seeds/kato_districts.csv) were
shipped as ABCD00000; the classifier codes them ABCD10000 (read in two public copies of KATO named in the
seed file's header: the KATO of 17.10.2022 and NK RK 11-2025 of 17.07.2026). ``RENAMES`` lists them.

* Each ``admin_unit`` row holding an old code gets the new code IN PLACE: its id stays, so the
  organizations, users, reports and child units that point at it keep pointing at it.
  - No row with the old code (a fresh database before ``load-reference``, or one already recoded):
    nothing to do.
  - A row with the new code exists as well (the new seed file was loaded before this revision): if
    nothing points at that row it is deleted and the old row is recoded; if something points at both,
    both are left as they are and a warning is logged (they need a manual merge).
* Saraishyk district of Astana (711610000, created in 2026 by KATO NK RK 11-2025) is inserted under
  Astana (710000000) when Astana exists and 711610000 does not.
Text copies of codes are NOT rewritten: frozen report snapshots (``monitoring_report.snapshot``, their
``history`` and the other frozen submissions) are historical records checked against their checksum, so
a report frozen before this revision still shows the old code of a city district.
Downgrade gives each new code back its old one (same row ids; skipped when the old code is taken) and
deletes Saraishyk if nothing points at it (otherwise it is left, with a warning).
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

RENAMES = [  # old (shipped before) -> new (the classifier's)
    ("711100000", "711110000"),  # Almaty district, Astana
    ("711200000", "711210000"),  # Esil
    ("711300000", "711310000"),  # Saryarka
    ("711400000", "711410000"),  # Baikonyr
    ("711500000", "711510000"),  # Nura (the old code was a guess)
    ("751100000", "751110000"),  # Almaly district, Almaty
    ("751200000", "751210000"),  # Alatau
    ("751300000", "751310000"),  # Auezov
    ("751400000", "751410000"),  # Bostandyk
    ("751500000", "751510000"),  # Zhetysu
    ("751700000", "751710000"),  # Medeu
    ("751800000", "751810000"),  # Nauryzbay
    ("751900000", "751910000"),  # Turksib
    ("791100000", "791110000"),  # Abai district, Shymkent
    ("791300000", "791310000"),  # Al-Farabi
    ("791500000", "791510000"),  # Enbekshi
    ("791700000", "791710000"),  # Karatau
    ("791900000", "791910000"),  # Turan (the old code was a guess)
]
ASTANA = "710000000"
SARAISHYK = {"code": "711610000", "name_kk": "Сарайшық ауданы", "name_ru": "район Сарайшық",
             "name_en": "Saraishyk District", "level": 2, "is_city": False, "is_active": True}


def _id(bind, code):
    return bind.execute(sa.text("SELECT id FROM admin_unit WHERE code = :c"), {"c": code}).scalar()


def _referenced(bind, unit_id) -> bool:
    """Whether any row of any table points at admin_unit ``unit_id`` (foreign keys read from the database)."""
    insp = sa.inspect(bind)
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            if fk.get("referred_table") != "admin_unit" or len(fk["constrained_columns"]) != 1:
                continue
            col = fk["constrained_columns"][0]
            q = sa.text(f'SELECT 1 FROM "{table}" WHERE "{col}" = :i LIMIT 1')
            if bind.execute(q, {"i": unit_id}).first() is not None:
                return True
    return False


def _recode(bind, pairs):
    for old, new in pairs:
        old_id = _id(bind, old)
        if old_id is None:
            continue
        new_id = _id(bind, new)
        if new_id is not None:
            if _referenced(bind, new_id):
                log.warning("admin_unit %s (id %s) and %s (id %s) both in use: left as they are",
                            old, old_id, new, new_id)
                continue
            bind.execute(sa.text("DELETE FROM admin_unit WHERE id = :i"), {"i": new_id})
        bind.execute(sa.text("UPDATE admin_unit SET code = :new WHERE id = :i"), {"new": new, "i": old_id})


def upgrade():
    bind = op.get_bind()
    _recode(bind, RENAMES)
    astana = _id(bind, ASTANA)
    if astana is not None and _id(bind, SARAISHYK["code"]) is None:
        bind.execute(sa.text(
            "INSERT INTO admin_unit (code, name_kk, name_ru, name_en, is_active, level, parent_id, is_city) "
            "VALUES (:code, :name_kk, :name_ru, :name_en, :is_active, :level, :parent_id, :is_city)"),
            {**SARAISHYK, "parent_id": astana})


def downgrade():
    bind = op.get_bind()
    saraishyk = _id(bind, SARAISHYK["code"])
    if saraishyk is not None:
        if _referenced(bind, saraishyk):
            log.warning("admin_unit %s (Saraishyk) is in use: left in place", SARAISHYK["code"])
        else:
            bind.execute(sa.text("DELETE FROM admin_unit WHERE id = :i"), {"i": saraishyk})
    _recode(bind, [(new, old) for old, new in RENAMES])
