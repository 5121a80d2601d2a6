"""The import ends an episode like every other path (issue 20.6): the workers sheet's end date, Labour Code
ground and category of leaving go through ``workers.services.end_employment``."""
from __future__ import annotations

from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from profreg.workers.models import Worker
from tests.imports.conftest import report_rows
from tests.imports.workbook import CERT_KEYS, EDU_KEYS, WORKER_KEYS, build, write_xlsx

KEYS = [*WORKER_KEYS, "ended_on", "end_ground", "end_category"]


def _write(path, workers, certs, edu, headers=None):
    wb = Workbook()
    first = wb.active
    first.title = "workers"
    for keys, rows, ws in ((KEYS, workers, first), (CERT_KEYS, certs, wb.create_sheet("certificates")),
                           (EDU_KEYS, edu, wb.create_sheet("education"))):
        ws.append([(headers or {}).get(k, k) for k in keys])
        for row in rows:
            ws.append([row.get(k) for k in keys])
    wb.save(path)


def test_a_row_with_an_end_date_ends_the_episode_on_both_fields(db, factory, institution, run_import, tmp_path, today):
    org = factory.org()
    hr = factory.user("hr", org=org)
    workers, certs, edu, _bad = build(3, org.bin, institution.name, bad=False)
    write_xlsx(tmp_path / "a.xlsx", workers, certs, edu)
    assert run_import(tmp_path / "a.xlsx", hr.email, tmp_path / "r.xlsx")[0] == 0
    # the ground and the category by their Russian names, as HR would write them
    workers[0].update(ended_on="20.11.2026", end_ground="Расторжение трудового договора по инициативе работника",
                      end_category="Выезжает за рубеж")
    workers[1].update(ended_on="20.11.2026", end_ground="AGREEMENT")  # no category: refused, nothing written
    new, new_certs, new_edu, _ = build(1, org.bin, institution.name, bad=False, start=40)
    new[0].update(ended_on="20.11.2026", end_ground="AGREEMENT", end_category="in_sector")
    _write(tmp_path / "b.xlsx", workers + new, certs + new_certs, edu + new_edu)
    code, _out = run_import(tmp_path / "b.xlsx", hr.email, tmp_path / "r2.xlsx", "--lang", "en")
    assert code == 1
    rows = {iin: (status, reasons) for iin, status, reasons in report_rows(tmp_path / "r2.xlsx")}
    assert rows[workers[0]["iin"]] == ("update", "End date")
    assert rows[workers[1]["iin"]][0] == "rejected" and "Category of leaving" in rows[workers[1]["iin"]][1]
    assert rows[new[0]["iin"]][0] == "rejected" and "no employment to end" in rows[new[0]["iin"]][1]
    assert rows[workers[2]["iin"]][0] == "unchanged"
    ended = db.session.execute(select(Worker).where(Worker.iin == workers[0]["iin"])).scalar_one().employments[0]
    assert (ended.end_date, ended.end_ground.code, ended.end_category) == \
        (date(2026, 11, 20), "EMPLOYEE_INITIATIVE", "abroad")
    kept = db.session.execute(select(Worker).where(Worker.iin == workers[1]["iin"])).scalar_one().employments[0]
    assert kept.end_date is None and kept.end_ground is None
    assert db.session.execute(select(Worker).where(Worker.iin == new[0]["iin"])).scalar_one_or_none() is None
