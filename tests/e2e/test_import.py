"""The import page in a real browser against the served app: an HR user uploads a workbook bigger than
the inline limit (``IMPORT_INLINE_MAX_ROWS``, 2,000 rows), so the check and then the import run as
background jobs on the rq worker; the page refreshes itself and the progress bar climbs to 100 %. The
counts on the page and in the database follow, and the report downloads."""
from __future__ import annotations

import time

import openpyxl

from tests.imports.workbook import build, write_xlsx

from .conftest import ARTIFACTS, download, org_of

WORKERS = 1100  # × 3 sheets: over the 2,000 rows that run inline


def _watch(page, run_row: str, timeout: float = 600) -> list[int]:
    """The progress values (aria-valuenow) the self-refreshing page shows for the run, until 100 %."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bar = page.locator(f"{run_row} [role=progressbar]")
        try:
            value = int(bar.get_attribute("aria-valuenow", timeout=5_000))
        except Exception:  # noqa: BLE001 - the page is reloading itself (meta refresh) at that moment
            page.wait_for_timeout(300)
            continue
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == 100:
            return seen
        page.wait_for_timeout(500)
    raise AssertionError(f"the progress bar stopped at {seen}")


def test_upload_check_and_import_watching_the_progress_bar(as_role, served, tmp_path):
    page = as_role("hr")
    org_id = org_of(served, "hr")
    org_bin = served.sql("SELECT bin FROM organization WHERE id = :i", i=org_id)[0][0]
    institution = served.sql("SELECT name FROM education_institution ORDER BY id LIMIT 1")[0][0]
    workers, certs, edu, bad = build(WORKERS, org_bin, institution)
    path = tmp_path / "staff-e2e.xlsx"
    write_xlsx(path, workers, certs, edu)
    before = served.sql("SELECT count(*) FROM worker")[0][0]

    page.goto("/admin/imports/?lang=en")
    page.set_input_files("#import-file", str(path))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    run_id = served.sql("SELECT max(id) FROM import_run")[0][0]
    row = f"#import-runs tr[data-run='{run_id}']"
    seen = _watch(page, row)
    assert seen[-1] == 100
    assert served.sql("SELECT state, dry_run, created, rejected FROM import_run WHERE id = :i", i=run_id)[0] == \
        ("done", True, (WORKERS - 5) * 3, 5 * 3 - 1)
    assert served.sql("SELECT count(*) FROM worker")[0][0] == before  # a check writes nothing
    cells = page.locator(f"{row} td").all_inner_texts()
    assert "3,285" in cells or "3 285" in " ".join(cells) or "3285" in " ".join(cells), cells

    page.locator(row).get_by_role("button", name="Import this file").click()
    page.wait_for_load_state()
    real_id = served.sql("SELECT max(id) FROM import_run")[0][0]
    assert real_id > run_id
    seen_real = _watch(page, f"#import-runs tr[data-run='{real_id}']")
    assert seen_real[-1] == 100
    (ARTIFACTS / "import-progress.txt").write_text(f"check: {seen}\nimport: {seen_real}\n")
    assert served.sql("SELECT state, dry_run, created, rejected FROM import_run WHERE id = :i", i=real_id)[0] == \
        ("done", False, (WORKERS - 5) * 3, 5 * 3 - 1)
    assert served.sql("SELECT count(*) FROM worker")[0][0] == before + WORKERS - 5
    # the notification of the finished import links to its report, which opens
    report = download(page, page.locator(f"#import-runs tr[data-run='{real_id}'] a", has_text="Report"), "hr",
                      "import-report")
    wb = openpyxl.load_workbook(report, read_only=True)
    statuses = [r[-2] for r in wb["workers"].iter_rows(min_row=2, values_only=True)]
    assert statuses.count("create") == WORKERS - 5 and statuses.count("rejected") == 5
    page.goto("/admin/notifications/?lang=en")
    assert page.locator(f"a.notice-link[href$='/admin/imports/{real_id}/report/']").count() == 1
