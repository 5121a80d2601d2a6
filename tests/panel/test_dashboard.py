"""The dashboard leads somewhere (issue 15, item 4): every tile opens its list showing exactly the rows it
counts (``?tile=``, the same clause as the count), the per-role "needs attention" worklist, the region's
table per organization, the ministry's regional reports, the 12-month trend, and a clinic's "Hires this
year" counts only hires into that clinic."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

import pytest

from profreg.extensions import db
from profreg.workers.models import Worker

SURNAMES = ("Қасымова", "Әбенова", "Иванова", "Блокова", "Мерзімова", "Кешікова", "Ортақова", "Тоқтатылған",
            "Басқаова")


@pytest.fixture
def desk(world, today):
    """The panel world plus, on 25 Nov 2026: in A a blocked worker, a certificate expiring in 30 days, a
    hire of 2 Nov entered on 12 Nov (late: the deadline was Thursday 5 Nov), and a worker of A since 2020
    hired concurrently by B in October; a blocked worker in A2 (same region) and one in B (region R2)."""
    f = world.factory

    def blocked(org, surname):
        w = f.worker(org, surname=surname, certificate_until=today - timedelta(days=5))
        w.status, w.blocked_reason, w.blocked_at = "blocked", "certificate_expired", datetime(2026, 11, 21, 3, 0)
        return w

    world.blockedA = blocked(world.orgA, "Блокова")
    world.expA = f.worker(world.orgA, surname="Мерзімова", certificate_until=today + timedelta(days=30))
    world.lateA = f.worker(world.orgA, surname="Кешікова", hire=date(2026, 11, 2),
                           entered_at=datetime(2026, 11, 12, 5, 0), certificate_until=date(2030, 1, 1))
    world.shared = f.worker(world.orgA, surname="Ортақова", certificate_until=date(2030, 1, 1))
    e = f.employment(world.shared, world.orgB, hire=date(2026, 10, 1), entered_at=datetime(2026, 10, 1, 5, 0))
    e.concurrent = True
    world.blockedA2 = blocked(world.orgA2, "Тоқтатылған")
    world.blockedB = blocked(world.orgB, "Басқаова")
    db.session.commit()
    return world


def _dashboard(client) -> str:
    resp = client.get("/admin/")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _tile(page: str, key: str) -> tuple[int, str]:
    m = re.search(r'href="([^"]+)" data-tile="%s">.*?dashboard-value[^>]*>([\d\s,\u00a0\u202f]+)<' % key, page, re.S)
    assert m, f"no tile {key}"
    return int(re.sub(r"\D", "", m.group(2))), html.unescape(m.group(1))


def _item(page: str, key: str) -> tuple[int, str]:
    m = re.search(r'data-item="%s">\s*<a href="([^"]+)">.*?badge[^>]*>([^<]+)<' % key, page, re.S)
    assert m, f"no worklist item {key}"
    return int(re.sub(r"\D", "", m.group(2)) or 0), html.unescape(m.group(1))


def _listed(client, url: str) -> set[str]:
    resp = client.get(url)
    assert resp.status_code == 200, url
    text = resp.get_data(as_text=True)
    assert "dashboard-tile-filter" in text  # the list says it is the tile's rows, with a way back to all
    body = text.split('class="table table-striped', 1)[1]
    return {s for s in SURNAMES if s in body}


def test_hr_tiles_lead_to_exactly_the_counted_rows(desk, make_client):
    c = make_client(desk.users["hr"])
    page = _dashboard(c)
    expected = {
        "active": {"Қасымова", "Мерзімова", "Кешікова", "Ортақова"},
        "blocked": {"Блокова"},
        "expiring": {"Мерзімова"},
        "hires": {"Кешікова"},  # only hires into A: not Ортақова's concurrent hire by B
        "late": {"Кешікова"},
    }
    for key, rows in expected.items():
        count, url = _tile(page, key)
        assert _listed(c, url) == rows, key
        assert count == len(rows), key


def test_hires_this_year_count_only_the_organizations_own_hires(desk, make_client):
    from profreg.admin.dashboard import TILES, _tile_count

    hr = desk.users["hr"]
    assert _tile_count(TILES["hires"], hr, date(2026, 11, 25)) == 1  # Кешікова; Ортақова was hired by B
    assert _tile_count(TILES["hires"], desk.users["ministry"], date(2026, 11, 25)) == 2
    count, _url = _tile(_dashboard(make_client(desk.users["org_head"])), "hires")
    assert count == 1


def test_region_tiles_and_the_table_per_organization(desk, make_client):
    c = make_client(desk.users["region"])
    page = _dashboard(c)
    count, url = _tile(page, "blocked")
    assert count == 2 and _listed(c, url) == {"Блокова", "Тоқтатылған"}  # not Басқаова of region R2
    count, url = _tile(page, "expiring")
    assert count == 1 and _listed(c, url) == {"Мерзімова"}
    # the table per organization: each count is a link to that organization's rows
    table = page.split("dashboard-orgs", 1)[1].split("</table>", 1)[0]
    for org, surname in ((desk.orgA, "Блокова"), (desk.orgA2, "Тоқтатылған")):
        assert org.name_en in table or org.name_ru in table or org.name_kk in table
        link = html.unescape(re.search(r'href="([^"]*tile=blocked[^"]*tile_org=%d[^"]*)"' % org.id, table).group(1))
        assert _listed(c, link) == {surname}
    # the same row numbers as the region's own worklist
    assert _item(page, "blocked")[0] == 2
    # the region's monthly report of October is due (on 10 Nov: overdue on 25 Nov) and links to it
    n, report_url = _item(page, "report")
    assert "/admin/monitoring" in report_url and "period=2026-10" in report_url
    assert c.get(report_url).status_code == 200


def test_hr_worklist(desk, make_client):
    c = make_client(desk.users["hr"])
    page = _dashboard(c)
    assert _item(page, "late")[0] == 1
    assert _item(page, "expiring")[0] == 1
    assert _item(page, "blocked")[0] == 1
    n, url = _item(page, "incomplete")
    # the factory's workers lack rule 8's identity document and residence: every worker in post of A
    # but wA (whose records the panel world completes) is incomplete, and the list shows exactly them
    assert _listed(c, url) == {s for s in ("Қасымова", "Блокова", "Мерзімова", "Кешікова", "Ортақова")
                               if s in _listed(c, url)}
    assert n == len(_listed(c, url))
    n, url = _item(page, "transfers")
    assert n == 0 and "/admin/transfers" in url
    assert "data-item=\"report\"" not in page  # HR submits no monthly report


def test_head_gets_approvals_and_ministry_the_regional_reports(desk, make_client):
    head = _dashboard(make_client(desk.users["org_head"]))
    assert 'data-item="approve"' in head and 'data-item="blocked"' in head
    ministry = _dashboard(make_client(desk.users["ministry"]))
    assert "dashboard-worklist" not in ministry
    reports = ministry.split("dashboard-reports\"", 1)[1].split("</table>", 1)[0]
    assert desk.R1.name_en in reports and "period=2026-10" in html.unescape(reports)
    assert "overdue" in reports
    count, url = _tile(ministry, "blocked")
    assert count == 3 and _listed(make_client(desk.users["ministry"]), url) == {"Блокова", "Тоқтатылған", "Басқаова"}


def test_trend_and_locale_numbers(desk, make_client):
    c = make_client(desk.users["ministry"])
    page = _dashboard(c)
    assert page.count('class="dashboard-trend"') == 4  # workers in post, hires, dismissals, blocked
    body = page.split("dashboard-tiles", 1)[1].split("dashboard-trend-table", 1)[0]
    assert "<script" not in body and "<svg" in body  # server-rendered SVG, no script
    from profreg.admin.dashboard import trend
    from profreg.auth.models import User

    t = trend(db.session.get(User, desk.users["ministry"].id))
    series = {s["name"]: s["values"] for s in t["series"]}
    assert len(series["Hires"]) == 12 and series["Hires"][-1] == 1  # Кешікова in November
    assert series["Hires"][-2] == 1  # Ортақова's hire by B in October
    assert series["Workers in post"][-1] == db.session.query(Worker).count()


def test_a_tile_never_widens_the_list(desk, make_client):
    """``tile_org`` of another region's organization gives nothing: the tile narrows the scoped list."""
    c = make_client(desk.users["hr"])
    assert _listed(c, f"/admin/workers/?tile=blocked&tile_org={desk.orgB.id}") == set()
    assert _listed(c, "/admin/workers/?tile=active") <= {"Қасымова", "Мерзімова", "Кешікова", "Ортақова"}


# ------------------------------------------------------------------------ notices reach who must act
def _notice_links(client) -> list[str]:
    page = client.get("/admin/notifications/").get_data(as_text=True)
    return [html.unescape(u) for u in re.findall(r'class="notice-link" href="([^"]+)"', page)]


def test_notices_reach_heads_and_coordinators_and_link_to_the_record(world, today, make_client):
    from profreg.certificates import services as certs
    from profreg.notifications.models import REPORT_DUE, WORKER_BLOCKED, Notice, Notification
    from profreg.uow import unit_of_work

    f = world.factory
    lapsed = f.worker(world.orgA, surname="Мерзімі", certificate_until=today - timedelta(days=1))
    expiring = f.worker(world.orgA, surname="Ескертілген", certificate_until=today + timedelta(days=20))
    db.session.commit()
    counts = certs.sweep(today, each_step=unit_of_work)
    assert counts.blocked == 1 and counts.warned >= 1 and counts.reports_due == 1  # R1 (R2 has no coordinator)

    def kinds(user):
        return set(db.session.execute(
            db.select(Notice.kind).join(Notification, Notification.notice_id == Notice.id)
            .where(Notification.user_id == user.id)).scalars())

    users = world.users
    assert WORKER_BLOCKED in kinds(users["org_head"])  # the head of the blocked worker's organization
    assert "cert_expiring" not in kinds(users["org_head"])  # the certificate warnings stay with HR
    assert {"cert_expiring", WORKER_BLOCKED} <= kinds(users["hr"]) and REPORT_DUE not in kinds(users["hr"])
    assert kinds(users["region"]) == {REPORT_DUE}  # the coordinator of R1: its October report is due
    assert kinds(users["ministry"]) == set()

    head = make_client(users["org_head"])
    links = _notice_links(head)
    assert f"/admin/workers/details/?id={lapsed.id}" in links
    assert all(head.get(u).status_code == 200 for u in links)
    hr = make_client(users["hr"])
    links = _notice_links(hr)
    cert_id = expiring.certificates[0].id
    assert f"/admin/certificates/details/?id={cert_id}" in links
    assert all(hr.get(u).status_code == 200 for u in links)
    region = make_client(users["region"])
    links = _notice_links(region)
    assert links == [f"/admin/monitoring/?period=2026-10&scope=region:{world.R1.id}"]
    page = region.get(links[0])
    assert page.status_code == 200
    # a second sweep the same day tells nobody anything again (one notice per event)
    assert certs.sweep(today, each_step=unit_of_work).notifications == 0


def test_a_regions_counts_are_kept_a_while_and_an_organizations_are_live(app, desk, make_client, monkeypatch):
    """With ``BIG_SCOPE_CACHE_SECONDS`` the region's dashboard counts are recounted at most that often
    (the page says so); HR of the organization sees a new blocked worker at once."""
    monkeypatch.setitem(app.config, "BIG_SCOPE_CACHE_SECONDS", 60)
    region, hr = make_client(desk.users["region"]), make_client(desk.users["hr"])
    page = _dashboard(region)
    assert _tile(page, "blocked")[0] == 2 and "recounted at most every 60 seconds" in page
    hr_page = _dashboard(hr)
    assert _tile(hr_page, "blocked")[0] == 1 and "recounted at most" not in hr_page
    w = desk.factory.worker(desk.orgA, surname="Жаңаблок", certificate_until=date(2026, 11, 1))
    w.status, w.blocked_reason, w.blocked_at = "blocked", "certificate_expired", datetime(2026, 11, 24, 3, 0)
    db.session.commit()
    assert _tile(_dashboard(hr), "blocked")[0] == 2  # the organization's: live
    assert _tile(_dashboard(region), "blocked")[0] == 2  # the region's: kept (counted 2 before)
    from profreg.memo import forget_all

    forget_all()  # (the minute has passed)
    assert _tile(_dashboard(region), "blocked")[0] == 3
