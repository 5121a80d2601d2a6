"""``profreg demo`` leaves something to see on every screen (issue 15, item 8): notices for the demo HR
after the certificate sweep, a draft and an approved training list, a submitted monthly report, and the
README's ``export training-list`` command working on the organization the demo prints."""
from __future__ import annotations

import re

import openpyxl
from sqlalchemy import func, select

TODAY = "2026-11-25"
README_BIN = "960550000181"  # the demo organization named in README.md (seed 1)


def test_demo_shows_everything(app, db, tmp_path):
    from profreg.auth.models import User
    from profreg.jobs.models import JobRun
    from profreg.monitoring.models import STATUS_SUBMITTED, MonitoringReport
    from profreg.notifications.services import unread_count
    from profreg.orgs.models import Organization
    from profreg.training.models import LIST_APPROVED, LIST_DRAFT, TrainingList

    runner = app.test_cli_runner()
    res = runner.invoke(args=["profreg", "demo", "--workers", "300", "--today", TODAY])
    assert res.exit_code == 0, res.output
    m = re.search(r"Demo organization: .+ \(BIN (\d{12})\)", res.output)
    assert m and m.group(1) == README_BIN, res.output
    assert "training list 2027Q1: approved" in res.output and "training list 2027Q2: draft" in res.output
    assert "Monthly report 2026-10 of Astana: submitted" in res.output
    assert re.search(r"sweep 2026-11-25 \(run \d+\):\s+warned: [1-9]", res.output), res.output
    # the registry extracts of the demo, reconciled (docs/reconciliation.md): 3 contracts not entered, 2 episodes
    # without a contract, 1 dismissal not entered (over the first two organizations of Astana: with 300 workers
    # there is one); certificates of the demo organization
    assert re.search(r"esutd-extract\.csv \(esutd\): 6 discrepancies in [12] organizations?", res.output), res.output
    assert re.search(r"certificate-registry\.csv \(certificates\): [2-9] discrepancies", res.output), res.output

    # the sweep ran as the daily job runs it (a finished job_run), and the demo HR has notices
    assert db.session.execute(select(func.count()).select_from(JobRun)
                              .where(JobRun.kind == "sweep", JobRun.state == "finished")).scalar() == 1
    hr = db.session.execute(select(User).where(User.email == "hr@profreg.kz")).scalar_one()
    assert unread_count(hr) > 0
    org = db.session.execute(select(Organization).where(Organization.bin == README_BIN)).scalar_one()
    assert hr.organization_id == org.id

    lists = {lst.period: lst for lst in db.session.execute(
        select(TrainingList).where(TrainingList.organization_id == org.id)).scalars()}
    assert lists["2027Q1"].status == LIST_APPROVED and lists["2027Q1"].approved_at is not None
    assert lists["2027Q2"].status == LIST_DRAFT
    assert all(any(not i.removed for i in lst.items) for lst in lists.values())

    report = db.session.execute(select(MonitoringReport).where(MonitoringReport.period == "2026-10")).scalar_one()
    assert report.status == STATUS_SUBMITTED and report.checksum

    # the README's command on the organization it names
    out = tmp_path / "training-list.xlsx"
    res = runner.invoke(args=["profreg", "export", "training-list", "--org", README_BIN, "--period", "2027Q1",
                              "--format", "xlsx", "--out", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.active.max_row > 1

    # a second run adds nothing and fails on nothing
    res = runner.invoke(args=["profreg", "demo", "--workers", "300", "--today", TODAY])
    assert res.exit_code == 0, res.output
    assert "already holds workers" in res.output and "warned: 0" in res.output
    assert db.session.execute(select(func.count()).select_from(TrainingList)).scalar() == 2
