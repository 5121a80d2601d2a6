"""Input hygiene (issue 14): control characters (a NUL byte pasted into a name) and non-finite numbers
(CPD hours ``1e400``, ``inf``, ``nan``) are refused at input with a translated field error on every
panel form, inline forms included, and nothing is written; a formula typed into a name leaves every
list export (csv, and xlsx through tablib) as inert text. Real HTTP through the test client."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from profreg.certificates.models import Certificate
from profreg.hygiene import field_errors, number_error, text_error
from profreg.training.models import CpdRecord
from profreg.workers.models import Worker
from tests.factories import next_iin
from tests.panel.test_workers import _new_hire_data

CONTROL = "control characters"
NON_FINITE = "finite number"


def _errors(resp) -> list[str]:
    html = resp.get_data(as_text=True)
    return [m.strip() for m in re.findall(r'class="[^"]*(?:invalid-feedback|help-block|text-danger)[^"]*"[^>]*>'
                                          r'\s*(?:<ul>\s*)?(?:<li>)?([^<]+)', html)]


def _counts(db):
    db.session.expire_all()
    return tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                 for m in (Worker, Certificate, CpdRecord))


@pytest.mark.parametrize("field, value, message", [
    ("surname", "Жұмабекова\x00", CONTROL),
    ("name", "Ләз\x07зат", CONTROL),
    ("birth_place", "Қара\x1bғанды", CONTROL),
    ("certificates-0-number", "KZ-\x00-0001", CONTROL),          # inline form
    ("cpd_records-0-topic", "Сестринский\x0bпроцесс", CONTROL),  # inline form
    ("cpd_records-0-hours", "1e400", NON_FINITE),
    ("cpd_records-0-hours", "inf", NON_FINITE),
    ("cpd_records-0-hours", "nan", NON_FINITE),
    ("cpd_records-0-hours", "-Infinity", NON_FINITE),
])
def test_new_worker_form_refuses_control_characters_and_non_finite_numbers(world, make_client, field, value,
                                                                            message):
    client = make_client(world.users["hr"])
    data = _new_hire_data(world, client, next_iin(date(1990, 5, 17), "F"))
    data[field] = value
    before = _counts(world.db)
    resp = client.post("/admin/workers/new/", data=data)
    assert resp.status_code == 200  # the form again, with the error next to the field
    assert any(message in e for e in _errors(resp)), _errors(resp)
    assert _counts(world.db) == before


def test_edit_form_refuses_a_nul_byte_and_keeps_the_record(world, make_client):
    client = make_client(world.users["hr"])
    from werkzeug.datastructures import MultiDict

    from tests.panel.conftest import parse_form

    url = f"/admin/workers/edit/?id={world.wA.id}"
    form = parse_form(client.get(url).get_data(as_text=True))
    data = MultiDict(form.data)
    data["surname"] = "Қасы\x00мова"
    resp = client.post(url, data=data)
    assert resp.status_code == 200 and any(CONTROL in e for e in _errors(resp)), _errors(resp)
    world.db.session.expire_all()
    assert world.db.session.get(Worker, world.wA.id).surname == "Қасымова"


def test_the_error_is_translated(world, make_client):
    client = make_client(world.users["hr"])
    data = _new_hire_data(world, client, next_iin(date(1990, 5, 17), "F"))
    data["surname"] = "Жұмабекова\x00"
    data["cpd_records-0-hours"] = "1e400"
    resp = client.post("/admin/workers/new/?lang=ru", data=data)
    html = resp.get_data(as_text=True)
    assert "управляющие символы" in html and "конечное число" in html
    resp = client.post("/admin/workers/new/?lang=kk", data=data)
    html = resp.get_data(as_text=True)
    assert "басқару таңбалары" in html and "Шекті сан" in html


def test_the_rules_themselves():
    assert text_error("Ана\x00") and text_error("\x85") and text_error("a\x7f")
    assert text_error("Көп жолды\r\nмәтін\tбар") is None
    assert number_error(float("inf")) and number_error(float("nan"))
    from decimal import Decimal
    assert number_error(Decimal("1e400")) and number_error(Decimal("NaN")) and number_error(Decimal("-inf"))
    assert number_error(Decimal("54.5")) is None and number_error(3) is None and number_error(True) is None

    class F:  # a float field that coerced "1e400" to infinity
        data, raw_data = float("inf"), ["1e400"]

    assert field_errors(F())


FORMULA = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("export_type", ["xlsx", "csv"])
def test_a_formula_in_a_name_is_inert_text_in_the_list_export(world, make_client, export_type):
    world.factory.worker(world.orgA, surname=FORMULA, name="+7 701 000 00 00")
    world.db.session.commit()
    for role in ("ministry", "hr"):
        client = make_client(world.users[role])
        resp = client.get(f"/admin/workers/export/{export_type}/")
        assert resp.status_code == 200
        if export_type == "xlsx":
            ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).worksheets[0]
            cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
            assert cells and all(c.data_type == "s" and c.value == "'" + FORMULA for c in cells), \
                [(c.data_type, c.value) for c in cells]
            assert not any(isinstance(c.value, str) and c.value.startswith(("=", "+"))
                           for row in ws.iter_rows() for c in row)
        else:
            rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
            values = [v for row in rows for v in row]
            assert "'" + FORMULA in values and FORMULA not in values


def test_control_characters_already_stored_do_not_break_the_xlsx_export(world, make_client):
    world.factory.worker(world.orgA, surname="Старая\x1bзапись")  # stored before the rule (PostgreSQL refuses NUL itself)
    world.db.session.commit()
    resp = make_client(world.users["ministry"]).get("/admin/workers/export/xlsx/")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).worksheets[0]
    assert "Старая" + "запись" in [c.value for row in ws.iter_rows() for c in row]
