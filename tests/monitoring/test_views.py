"""Panel views of monitoring and analytics: access per role, scoping, generate/submit over HTTP, exports, CLI."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from profreg import clock
from profreg.monitoring import services as S
from profreg.monitoring.models import MonitoringReport
from tests.conftest import login, logout

ASTANA, ALMATY = "710000000", "750000000"
PAGES = ("/admin/monitoring/", "/admin/forecast/", "/admin/data-currency/", "/admin/charts/")


@pytest.fixture
def world(factory, db):
    clock.set_today(date(2026, 11, 25))
    ra, rb = factory.region(ASTANA), factory.region(ALMATY)
    oa, ob = factory.org(ASTANA), factory.org(ALMATY)
    factory.worker(oa, hire=date(2026, 10, 5), certificate_until=date(2027, 5, 1))
    factory.worker(ob, surname="Петрова", hire=date(2026, 10, 6), certificate_until=date(2027, 5, 1))
    users = {"ministry": factory.user("ministry"), "region_a": factory.user("region", region=ra),
             "head_a": factory.user("org_head", org=oa), "hr_chief_a": factory.user("hr_chief", org=oa),
             "hr_a": factory.user("hr", org=oa), "association": factory.user("association", specialties=["NURSING"]),
             "admin": factory.user("admin")}
    return {"ra": ra, "rb": rb, "oa": oa, "ob": ob, "users": users}


def csrf(client, url):
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True))
    return m.group(1)


@pytest.mark.parametrize("role,status", [("ministry", 200), ("region_a", 200), ("head_a", 200),
                                         ("hr_chief_a", 200), ("hr_a", 403), ("association", 403),
                                         ("admin", 403)])
def test_pages_per_role(client, world, role, status):
    login(client, world["users"][role])
    for url in PAGES:
        assert client.get(url).status_code == status, (role, url)


def test_anonymous_goes_to_login(client, world):
    for url in PAGES:
        assert client.get(url).status_code == 302


def test_region_a_cannot_see_region_b(client, world):
    login(client, world["users"]["region_a"])
    rb, ob = world["rb"], world["ob"]
    for url in PAGES:
        assert client.get(f"{url}?scope=region:{rb.id}").status_code == 403
        assert client.get(f"{url}?scope=org:{ob.id}").status_code == 403
        assert client.get(f"{url}?scope=country").status_code == 403
    page = client.get("/admin/monitoring/?period=2026-10").get_data(as_text=True)
    assert "Monthly monitoring report" in page or "monitoring" in page
    assert client.get(f"/admin/monitoring/export?period=2026-10&scope=region:{rb.id}&format=csv").status_code == 403
    head = world["users"]["head_a"]
    logout(client)
    login(client, head)
    assert client.get(f"/admin/monitoring/?scope=org:{ob.id}").status_code == 403
    assert client.get(f"/admin/monitoring/?scope=org:{world['oa'].id}").status_code == 200


def test_generate_submit_and_export_over_http(client, world, db):
    login(client, world["users"]["region_a"])
    ra = world["ra"]
    url = f"/admin/monitoring/?period=2026-10&scope=region:{ra.id}"
    token = csrf(client, url)
    data = {"csrf_token": token, "period": "2026-10", "scope": f"region:{ra.id}"}
    assert client.post("/admin/monitoring/generate", data=data).status_code == 302
    assert client.post("/admin/monitoring/submit", data=data).status_code == 302
    rep = db.session.query(MonitoringReport).one()
    assert rep.status == "submitted" and rep.checksum
    assert S.submission_status(rep, "2026-10")["status"] == S.LATE  # 25 November is after the 10th
    # without a CSRF token nothing happens
    assert client.post("/admin/monitoring/resubmit", data={**data, "csrf_token": ""}).status_code == 400
    # org_head may read but not generate
    logout(client)
    login(client, world["users"]["head_a"])
    oa = world["oa"]
    token = csrf(client, "/password")
    assert client.post("/admin/monitoring/generate", data={"csrf_token": token, "period": "2026-10",
                                                           "scope": f"org:{oa.id}"}).status_code == 403
    logout(client)
    login(client, world["users"]["region_a"])
    x = client.get(f"/admin/monitoring/export?period=2026-10&scope=region:{ra.id}&format=xlsx")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.data), read_only=True)
    assert len(wb.sheetnames) == 5
    c = client.get(f"/admin/monitoring/export?period=2026-10&scope=region:{ra.id}&format=csv")
    assert c.status_code == 200 and c.data.startswith(b"\xef\xbb\xbf")
    assert "Петрова" not in c.get_data(as_text=True)
    f = client.get(f"/admin/forecast/export?quarter=2027Q1&scope=region:{ra.id}&format=xlsx")
    assert f.status_code == 200 and load_workbook(io.BytesIO(f.data), read_only=True).sheetnames


def test_ministry_sees_regional_statuses_and_charts(client, world):
    login(client, world["users"]["ministry"])
    page = client.get("/admin/monitoring/?period=2026-10").get_data(as_text=True)
    assert ASTANA in page and ALMATY in page
    charts = client.get("/admin/charts/").get_data(as_text=True)
    assert charts.count("<svg") == 5 and "<table" in charts
    cur = client.get("/admin/data-currency/").get_data(as_text=True)
    assert world["oa"].bin in cur and world["ob"].bin in cur


def test_worklist_for_hr_chief(client, world):
    login(client, world["users"]["hr_chief_a"])
    page = client.get("/admin/data-currency/").get_data(as_text=True)
    assert "Қасымова" in page  # no education document: missing mandatory data
    assert "Петрова" not in page


def test_cli_exports(app, world, tmp_path, db):
    runner = app.test_cli_runner()
    out = tmp_path / "m.xlsx"
    res = runner.invoke(args=["profreg", "export", "monitoring", "--period", "2026-10", "--region", ASTANA,
                              "--format", "xlsx", "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert len(load_workbook(out, read_only=True).sheetnames) == 5
    out2 = tmp_path / "f.csv"
    res = runner.invoke(args=["profreg", "export", "forecast", "--quarter", "2027Q1", "--format", "csv",
                              "--out", str(out2)])
    assert res.exit_code == 0, res.output
    assert out2.read_bytes().startswith(b"\xef\xbb\xbf")
    res = runner.invoke(args=["profreg", "export", "monitoring", "--period", "2026-13", "--format", "csv",
                              "--out", str(out2)])
    assert res.exit_code != 0 and "2026-10" in res.output


def test_a_regions_live_figures_are_kept_a_while_and_an_organizations_are_live(app, client, world, factory, db,
                                                                                monkeypatch):
    """With ``BIG_SCOPE_CACHE_SECONDS`` the live report of a region is computed at most that often (the
    page says so); an organization's live report is computed on every view."""
    monkeypatch.setitem(app.config, "BIG_SCOPE_CACHE_SECONDS", 60)
    login(client, world["users"]["region_a"])
    ra, oa = world["ra"], world["oa"]

    region_url = f"/admin/monitoring/?period=2026-10&scope=region:{ra.id}&live=1"
    page = client.get(region_url).get_data(as_text=True)
    assert "figures-kept" in page and "60" in page
    assert "figures-computed-at" in page  # when they were computed, not "now"
    org_page = client.get(f"/admin/monitoring/?period=2026-10&scope=org:{oa.id}&live=1").get_data(as_text=True)
    assert "figures-kept" not in org_page and "figures-computed-at" not in org_page
    kept = []
    monkeypatch.setattr(S, "compute_report", lambda *a, **k: kept.append(a) or pytest.fail("recomputed"))
    assert client.get(region_url).status_code == 200 and kept == []  # the region's: kept
    with pytest.raises(pytest.fail.Exception):
        client.get(f"/admin/monitoring/?period=2026-10&scope=org:{oa.id}&live=1")  # the organization's: computed
