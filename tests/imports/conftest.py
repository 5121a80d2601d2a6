from __future__ import annotations

import pytest
from openpyxl import load_workbook

from profreg.education.models import EducationInstitution
from profreg.reference.models import Country


@pytest.fixture
def institution(db, ref):
    inst = EducationInstitution(name="Медицинский колледж Астана", name_en="Astana Medical College",
                                country=ref(Country, "KZ"), city="Астана")
    db.session.add(inst)
    db.session.flush()
    return inst


@pytest.fixture
def run_import(app, db):
    """``flask --app app profreg import run`` through the CLI runner: (exit code, output)."""
    def run(path, email, report, *extra):
        result = app.test_cli_runner().invoke(args=["profreg", "import", "run", str(path), "--as", email,
                                                    "--report", str(report), *extra])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        db.session.expire_all()
        return result.exit_code, result.output
    return run


def report_rows(path, sheet="workers"):
    """{iin: (status, reasons)} of a report sheet (the two last columns)."""
    wb = load_workbook(path, read_only=True)
    ws = wb[sheet]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    i = header.index("iin") if "iin" in header else 0
    return [(r[i], r[-2], r[-1]) for r in rows[1:]]
