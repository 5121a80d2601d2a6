"""The database-rendered export of the worker record lists (``admin.record_export``) writes the same file
as the row-by-row export (``admin/exporting.write_file``): same rows, same order, same cells — names in
the reader's language, IINs (masked for the association: the SQL form of the mask is compared with the
Python one), dd.mm.yyyy dates, decimal marks, inert formulas.
On PostgreSQL the panel's Export menu takes the database path; elsewhere it declines (None) and the
rows are written one by one."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from flask_login import login_user

from profreg import access
from profreg.admin.exporting import list_query, list_rows, write_file
from profreg.admin.record_export import dataset_export
from profreg.extensions import db
from profreg.reference import models as r
from profreg.training.models import CpdRecord


def _rows(text: str) -> list[list[str]]:
    text = text.lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.split("\n", 1)[0] else ","))


def _view(app, endpoint):
    return next(v for v in app.extensions["profreg_admin"]._views if v.endpoint == endpoint)


@pytest.fixture
def cpd_world(world):
    """CPD records with a decimal number of hours, no credits, a topic that reads like a formula, a
    Kazakh provider name, and a blocked worker."""
    f = world.factory
    act = f.ref(r.TrainingActivityType, "ADV_TRAINING")
    spec = f.ref(r.Specialty, "NURSING")
    for n, (topic, hours, credits) in enumerate((("=SUM(A1:A3)", Decimal("12.5"), None),
                                                  ("Жедел жәрдем", Decimal("36.0"), Decimal("1.5")))):
        db.session.add(CpdRecord(worker=world.wA, activity_type=act, specialty=spec, provider="Ұлттық орталық",
                                 topic=topic, start_date=date(2026, 3, 2 + n), end_date=date(2026, 3, 20 + n),
                                 hours=hours, credits=credits, certificate_number=f"CPD-{n}"))
    world.wB.status = "blocked"
    db.session.commit()
    return world


@pytest.mark.parametrize("role,endpoint,lang", [("hr_chief", "cpd", "ru"), ("hr", "cpd", "kk"),
                                                ("ministry", "cpd", "en"), ("ministry", "certificates", "ru"),
                                                ("region", "education", "kk")])
def test_the_database_rendered_export_is_the_row_by_row_one(cpd_world, app, make_client, role, endpoint, lang,
                                                            tmp_path):
    user = cpd_world.users[role]
    served = make_client(user).get(f"/admin/{endpoint}/export/csv/?lang={lang}")
    assert served.status_code == 200
    got = _rows(served.get_data(as_text=True))
    view = _view(app, endpoint)
    with app.test_request_context(f"/admin/{endpoint}/?lang={lang}"):
        login_user(db.session.get(type(user), user.id))
        _count, query = list_query(view)
        write_file(view, "csv", tmp_path / "rows.csv", list_rows(view, query))
        by_database = dataset_export(view, tmp_path / "db.csv", "csv", query.statement)
    expected = _rows((tmp_path / "rows.csv").read_text(encoding="utf-8"))
    assert got == expected and len(expected) > 1
    postgres = db.engine.dialect.name == "postgresql"
    # CPD records and certificates: the panel's export above took the database's path on PostgreSQL;
    # education documents name their institution (not a classifier) and their kind by a choice: row by row
    assert (by_database is not None) is (postgres and endpoint != "education")
    if by_database is not None:
        assert _rows((tmp_path / "db.csv").read_text(encoding="utf-8")) == expected
    if endpoint == "cpd" and role != "region":
        body = "\n".join(";".join(row) for row in got)
        assert "'=SUM(A1:A3)" in body  # inert
        assert ("12,5" if lang in ("ru", "kk") else "12.5") in body
        assert all(len(row[1]) == 12 and row[1].isdigit() for row in got[1:])  # IINs in full here


def test_the_sql_iin_mask_is_the_python_one(db):
    from sqlalchemy import literal, select

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the SQL form serves PostgreSQL's database-rendered exports")
    for iin in ("870412400711", "1234", "12", ""):
        assert db.session.execute(select(access.mask_iin_sql(literal(iin)))).scalar() == access.mask_iin(iin)
