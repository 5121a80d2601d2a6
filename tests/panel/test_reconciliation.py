"""Reconciliation with state registries (issue 20.7) and the two fields of an ending (issue 20.6).

The acceptance case: a demo-like ESUTD extract (``profreg.demo.extracts``) with 3 contracts missing from the
register, 2 episodes without a contract and 1 unrecorded dismissal, reconciled through the panel's upload,
lists exactly those 6 items on the right organizations' worklists, in kk, ru and en."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from profreg.demo.extracts import certificates_extract, esutd_extract
from profreg.extensions import db
from profreg.reconciliation import services
from profreg.reconciliation.adapters import EsutdFile, file_adapter
from profreg.reconciliation.models import (
    CERTIFICATE_DIFFERS,
    CERTIFICATE_MISSING,
    CONTRACT_MISSING,
    DISMISSAL_MISSING,
    KIND_LABELS,
    NO_CONTRACT,
    OPEN,
    RESOLVED,
    Discrepancy,
    RegistryContract,
)
from profreg.reconciliation.registration import contract_registration
from profreg.reference.models import LabourCodeGround
from profreg.workdays.services import WorkingCalendar, working_days_overdue
from profreg.workers.models import Employment

from .conftest import make_user, token

ITEM_ROW = re.compile(r'<tr data-item="(\d+)" data-kind="(\w+)">(.*?)</tr>', re.S)


@pytest.fixture
def staffed(world, today):
    """Organization A with 3 more staff, A2 with 4 more: enough episodes held today for the extract's plan."""
    f = world.factory
    for n in range(3):
        f.worker(world.orgA, surname=f"Сейітова{n}", hire=today - timedelta(days=400 + n),
                 birth=date(1980 + n, 3, 3), certificate_until=today + timedelta(days=300))
    for n in range(4):
        f.worker(world.orgA2, surname=f"Жақыпова{n}", hire=today - timedelta(days=500 + n),
                 birth=date(1975 + n, 5, 5), certificate_until=today + timedelta(days=300))
    world.users["hr_a2"] = make_user(db, "hr", org=world.orgA2)
    world.users["hr_b"] = make_user(db, "hr", org=world.orgB)
    db.session.commit()
    return world


def _upload(client, source, path, name):
    with open(path, "rb") as fh:
        return client.post("/admin/reconciliation/upload/", data={
            "source": source, "file": (io.BytesIO(fh.read()), name), "csrf_token": token(client)},
            content_type="multipart/form-data")


def _worklist(client, lang) -> set[tuple[str, str]]:
    """(kind, IIN) of the items on the user's reconciliation worklist page, read from the page."""
    html = client.get(f"/admin/reconciliation/?lang={lang}").get_data(as_text=True)
    out = set()
    for _id, kind, cells in ITEM_ROW.findall(html):
        iin = re.search(r'<td class="text-nowrap">(\d{12})</td>', cells).group(1)
        out.add((kind, iin))
    return out


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_demo_like_extract_lists_exactly_its_six_items_on_the_right_worklists(staffed, make_client, tmp_path,
                                                                                today, lang):
    world = staffed
    path = tmp_path / "esutd.csv"
    expected = esutd_extract([world.orgA, world.orgA2], path, today)
    assert {k: sum(len(v) for v in getattr(expected, k).values())
            for k in ("contract_missing", "no_contract", "dismissal_missing")} == \
        {"contract_missing": 3, "no_contract": 2, "dismissal_missing": 1}
    ministry = make_client(world.users["ministry"])
    assert _upload(ministry, "esutd", path, "ЕСУТД-выгрузка.csv").status_code == 302
    items = db.session.execute(select(Discrepancy)).scalars().all()
    assert {(d.kind, d.organization_id, d.iin) for d in items} == expected.items() and len(items) == 6
    for user, org in (("hr", world.orgA), ("hr_a2", world.orgA2), ("hr_b", world.orgB)):
        client = make_client(world.users[user])
        mine = {(k, iin) for k, o, iin in expected.items() if o == org.id}
        assert _worklist(client, lang) == mine, user
        page = unescape(client.get(f"/admin/reconciliation/?lang={lang}").get_data(as_text=True))
        with force_locale(lang):
            for kind, _iin in mine:
                assert str(KIND_LABELS[kind]) in page, (lang, kind)
            label = gettext("Discrepancies with state registries (contracts, certificates)")
        dashboard = unescape(client.get(f"/admin/?lang={lang}").get_data(as_text=True))
        tile = re.search(r'<li [^>]*data-item="registries">\s*<a href="([^"]+)">([^<]+)</a>\s*<span[^>]*>(\d+)</span>',
                         dashboard)
        assert tile is not None, (lang, user)
        assert tile.group(1) == "/admin/reconciliation/" and tile.group(2) == label
        assert int(tile.group(3)) == len(mine), (lang, user)
    # the region of A and A2 sees the six, the other region none
    region = make_client(world.users["region"])
    assert len(_worklist(region, lang)) == 6
    assert services.open_count(world.users["hr"]) == 3 and services.open_count(world.users["hr_a2"]) == 3
    assert services.open_count(world.users["hr_b"]) == 0


def test_days_overdue_one_click_actions_and_resolution(staffed, make_client, tmp_path, today):
    world = staffed
    path = tmp_path / "esutd.csv"
    expected = esutd_extract([world.orgA, world.orgA2], path, today)
    run = services.reconcile(EsutdFile(path), actor=world.users["region"], today=today)
    db.session.commit()
    assert run.items_found == 6 and run.rows_rejected == 0
    missing = db.session.execute(select(Discrepancy).where(Discrepancy.kind == CONTRACT_MISSING)
                                 .order_by(Discrepancy.start_date)).scalars().all()
    cal = WorkingCalendar.load()
    assert [services.days_overdue(d, today, cal) for d in missing] == \
        [working_days_overdue(d.start_date, today, cal) for d in missing]
    assert services.days_overdue(missing[0], today, cal) > 0  # started 10 days ago: past the 3 working days
    hr = make_client(world.users["hr"])
    page = hr.get("/admin/reconciliation/").get_data(as_text=True)
    # "open the hire form" prefilled with the contract
    mine = [d for d in missing if d.organization_id == world.orgA.id]
    link = f"/admin/workers/new/?iin={mine[0].iin}"
    assert link in unescape(page)
    form = hr.get(f"/admin/workers/new/?iin={mine[0].iin}&hire_date={mine[0].start_date.isoformat()}&"
                  "position=Медицинская сестра").get_data(as_text=True)
    assert f'value="{mine[0].iin}"' in form and mine[0].start_date.strftime("%d.%m.%Y") in form
    # "end the episode" of an episode without a contract: the same service, both fields
    item = db.session.execute(select(Discrepancy).where(Discrepancy.kind == NO_CONTRACT,
                                                        Discrepancy.organization_id == world.orgA.id)).scalar_one()
    assert f"/admin/reconciliation/end/?id={item.id}" in unescape(page)
    ground = world.factory.ref(LabourCodeGround, "AGREEMENT")
    refused = hr.post(f"/admin/reconciliation/end/?id={item.id}", data={
        "end_date": today.isoformat(), "end_ground": str(ground.id), "end_category": "", "csrf_token": token(hr)})
    assert refused.status_code == 200
    done = hr.post(f"/admin/reconciliation/end/?id={item.id}", data={
        "end_date": (today - timedelta(days=1)).isoformat(), "end_ground": str(ground.id), "end_category": "leaves_sector",
        "csrf_token": token(hr)})
    assert done.status_code == 302, done.get_data(as_text=True)[:1000]
    db.session.expire_all()
    episode = db.session.get(Employment, item.employment_id)
    assert episode.end_date == today - timedelta(days=1) and episode.end_ground_id == ground.id and episode.end_category == "leaves_sector"
    assert db.session.get(Discrepancy, item.id).status == RESOLVED
    # another organization's HR cannot act on it
    other = db.session.execute(select(Discrepancy).where(Discrepancy.kind == DISMISSAL_MISSING)).scalar_one()
    assert hr.get(f"/admin/reconciliation/end/?id={other.id}").status_code == 404
    # the missing hire entered (as HR would through the prefilled form), "check again" resolves its item
    world.factory.worker(world.orgA, surname="Жаңаева", iin=mine[0].iin, hire=mine[0].start_date,
                         birth=date(1990, 1, 1))
    db.session.commit()
    resp = hr.post("/admin/reconciliation/recheck/", data={"csrf_token": token(hr)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Discrepancy, mine[0].id).status == RESOLVED
    # a second run of the same extract: the resolved ones are not back, the others are the same items
    open_before = {d.id for d in db.session.execute(select(Discrepancy).where(Discrepancy.status == OPEN)).scalars()}
    services.reconcile(EsutdFile(path), actor=world.users["region"], today=today)
    db.session.commit()
    open_after = {d.id for d in db.session.execute(select(Discrepancy).where(Discrepancy.status == OPEN)).scalars()}
    assert open_before == open_after and len(open_after) == 4
    assert expected.items()


def test_a_region_reconciles_only_its_own_organizations(staffed, tmp_path, today):
    world = staffed
    path = tmp_path / "esutd.csv"
    esutd_extract([world.orgA, world.orgB], path, today)
    region_b = make_user(db, "region", region=world.R2)
    db.session.commit()
    run = services.reconcile(EsutdFile(path), actor=region_b, today=today)
    assert {d.organization_id for d in db.session.execute(select(Discrepancy)).scalars()} == {world.orgB.id}
    assert run.rows_outside > 0 and run.organizations == 1


def test_bad_rows_are_reported_and_the_rest_reconciled(staffed, tmp_path, today):
    world = staffed
    path = tmp_path / "esutd.csv"
    with open(path, "w", encoding="cp1251", newline="") as fh:  # what Excel saves on a Russian Windows
        w = csv.writer(fh, delimiter=",")
        w.writerow(["ИИН", "БИН работодателя", "Дата начала договора", "Дата окончания договора", "Должность"])
        w.writerow(["123", world.orgA.bin, "01.02.2026", "", "Медсестра"])
        w.writerow([world.wA.iin, world.orgA.bin, "31.02.2026", "", "Медсестра"])
        w.writerow([world.wA.iin, world.orgA.bin, world.wA.employments[0].hire_date.strftime("%d.%m.%Y"), "",
                    "Медсестра"])
    run = services.reconcile(file_adapter("esutd", path), actor=world.users["ministry"], today=today)
    assert run.rows_read == 3 and run.rows_rejected == 2 and "2:" in run.problems and "3:" in run.problems
    kinds = {(d.kind, d.iin) for d in db.session.execute(select(Discrepancy)).scalars()}
    held = {e.worker.iin for e in db.session.execute(select(Employment).where(
        Employment.organization_id == world.orgA.id, Employment.running_on(today))).scalars()}
    assert kinds == {(NO_CONTRACT, iin) for iin in held - {world.wA.iin}}
    assert (NO_CONTRACT, world.wA.iin) not in kinds


def test_certificate_registry_extract(staffed, make_client, tmp_path, today):
    world = staffed
    path = tmp_path / "registry.csv"
    hidden = certificates_extract(world.orgA, path, today)
    run = services.reconcile(file_adapter("certificates", path, "Реестр НЦНЭ.csv"), actor=world.users["ministry"],
                             today=today)
    db.session.commit()
    found = {(d.kind, d.iin) for d in db.session.execute(select(Discrepancy)).scalars()}
    assert found == {(CERTIFICATE_DIFFERS, hidden["differs"]), (CERTIFICATE_MISSING, hidden["missing"])}
    assert run.rows_rejected == 0
    differs = db.session.execute(select(Discrepancy).where(Discrepancy.kind == CERTIFICATE_DIFFERS)).scalar_one()
    assert differs.differences == "valid_until"
    missing = db.session.execute(select(Discrepancy).where(Discrepancy.kind == CERTIFICATE_MISSING)).scalar_one()
    hr = make_client(world.users["hr"])
    page = unescape(hr.get("/admin/reconciliation/").get_data(as_text=True))
    assert f"/admin/certificates/new/?worker={missing.worker_id}&number={missing.number}" in page
    form = hr.get(f"/admin/certificates/new/?worker={missing.worker_id}&number={missing.number}&"
                  f"specialty={missing.specialty_id}&issue_date={missing.start_date.isoformat()}").get_data(as_text=True)
    assert f'value="{missing.number}"' in form and missing.start_date.strftime("%d.%m.%Y") in form
    assert f"/admin/certificates/correct/?id={differs.certificate_id}" in page
    # a registry that no longer lists a certificate closes its item
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("iin;number;specialty;issued_on;valid_until\n")
    again = services.reconcile(file_adapter("certificates", path), actor=world.users["ministry"], today=today)
    assert again.rows_read == 0 and again.items_found == 0


def test_the_monthly_report_measures_registration_against_contracts(staffed, today):
    world = staffed
    run = services.reconcile(_Records([]), actor=world.users["ministry"], today=today)
    month_start = today.replace(day=1)
    hired = world.factory.worker(world.orgA, surname="Вовремя", hire=month_start, birth=date(1991, 1, 1))
    late = world.factory.worker(world.orgA, surname="Поздно", hire=month_start, birth=date(1992, 2, 2))
    late.employments[0].entered_at = hired.employments[0].entered_at.replace(year=today.year) + timedelta(days=40)
    hired.employments[0].entered_at = hired.employments[0].entered_at.replace(
        year=month_start.year, month=month_start.month, day=month_start.day)
    for iin in (hired.iin, late.iin, "900101400018"):
        db.session.add(RegistryContract(run_id=run.id, organization_id=world.orgA.id, iin=iin, start_date=month_start))
    db.session.flush()
    from profreg.monitoring.services import Scope

    got = contract_registration(month_start, month_start.replace(day=28), Scope().covers)
    assert got == {"contracts": 3, "on_time": 1, "late": 1, "not_entered": 1}


class _Records:
    """An adapter over records already read (what an online client of a registry would be)."""

    source = "esutd"

    def __init__(self, records):
        self._records = records

    def records(self):
        return iter(self._records)


def test_every_ending_path_needs_both_fields(world, today):
    from profreg.errors import InvalidInput
    from profreg.workers.services import end_employment

    with pytest.raises(InvalidInput) as exc:
        end_employment(world.wA, world.users["hr"], today, None, None)
    assert set(exc.value.errors) == {"end_ground", "end_category"}
    ground = world.factory.ref(LabourCodeGround, "EMPLOYER_INITIATIVE")
    with pytest.raises(InvalidInput):
        end_employment(world.wA, world.users["hr"], today, ground, "elsewhere")
    episodes = end_employment(world.wA, world.users["hr"], today, ground, "in_sector")
    assert [(e.end_ground.code, e.end_category) for e in episodes] == [("EMPLOYER_INITIATIVE", "in_sector")]
    assert str(ground) == f"{ground.name} (Labour Code, art. 52)"


def test_the_shipped_example_extracts_are_read_without_a_problem(app):
    from pathlib import Path

    from profreg.reconciliation.adapters import CertificateRecord, ContractRecord, RowProblem

    data = Path(__file__).resolve().parents[2] / "profreg" / "demo" / "data"
    with app.test_request_context():
        contracts = list(file_adapter("esutd", data / "esutd-example.csv").records())
        certs = list(file_adapter("certificates", data / "certificate-registry-example.csv").records())
    assert not [r for r in contracts + certs if isinstance(r, RowProblem)], contracts + certs
    assert len(contracts) == 3 and all(isinstance(r, ContractRecord) for r in contracts)
    assert contracts[1].end_date == date(2026, 10, 31) and contracts[0].position == "Медицинская сестра"
    assert len(certs) == 2 and all(isinstance(r, CertificateRecord) for r in certs)
    assert certs[1].specialty.code == "SURGERY" and certs[0].issuer == "НЦНЭ"


def test_the_reconcile_command(app, staffed, tmp_path, today):
    world = staffed
    path = tmp_path / "esutd.csv"
    expected = esutd_extract([world.orgA, world.orgA2], path, today)
    res = app.test_cli_runner().invoke(args=["profreg", "reconcile", "esutd", str(path), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Discrepancies: 6; closed (no longer in the registry): 0." in res.output
    for _kind, _org, iin in expected.items():
        assert iin in res.output
    res = app.test_cli_runner().invoke(args=["profreg", "reconcile", "esutd", str(path), "--as", "nobody@x.kz"])
    assert res.exit_code != 0 and "no active user" in res.output


def test_the_command_line_ends_an_episode_on_both_fields(app, world, today):
    runner = app.test_cli_runner()
    args = ["profreg", "workers", "end", "--iin", world.wA.iin, "--date", today.isoformat(),
            "--as", world.users["hr"].email]
    res = runner.invoke(args=[*args, "--ground", "NO_SUCH", "--category", "in_sector"])
    assert res.exit_code != 0
    res = runner.invoke(args=[*args, "--ground", "TERM_EXPIRY", "--category", "in_sector"])
    assert res.exit_code == 0, res.output
    db.session.expire_all()
    episode = db.session.execute(select(Employment).where(Employment.worker_id == world.wA.id)).scalar_one()
    assert (episode.end_date, episode.end_ground.code, episode.end_category) == (today, "TERM_EXPIRY", "in_sector")
