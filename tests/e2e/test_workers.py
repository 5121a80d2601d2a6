"""A registered worker hired by HR through "Hire a registered worker" (a wrong date of birth is refused
and reveals nothing), and a blocked worker's page naming the blocked post and the expired certificate,
in en, kk and ru."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.support import Translations

from .conftest import org_of

ROW = "table.model-list tbody tr:not(:has(td[colspan]))"
CATALOGS = Path(__file__).resolve().parents[2] / "translations"


def _gettext(lang: str, msgid: str) -> str:
    return Translations.load(str(CATALOGS), [lang], "messages").gettext(msgid)


def _hireable(served, org_id: int):
    """An active worker registered by another organization (his current episode is there) and never
    employed in ``org_id``, with his current post."""
    rows = served.sql("""
        SELECT w.id, w.iin, w.surname, w.name, w.birth_date, e.position_id, e.specialty_id
        FROM worker w JOIN employment e ON e.worker_id = w.id
        WHERE w.status = 'active' AND w.annulled_at IS NULL AND e.end_date IS NULL AND e.organization_id <> :o
          AND e.blocked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM employment x WHERE x.worker_id = w.id AND x.organization_id = :o)
        ORDER BY w.id LIMIT 1""", o=org_id)
    assert rows, "no worker of another organization in the demo country"
    return rows[0]


def _in_list(page, iin: str) -> int:
    page.goto(f"/admin/workers/?search={iin}&lang=en")
    return page.locator(ROW).count()


def test_hr_hires_a_worker_registered_by_another_organization(as_role, served):
    org = org_of(served, "hr")
    wid, iin, surname, name, birth, position_id, specialty_id = _hireable(served, org)
    episodes = served.sql("SELECT count(*) FROM employment WHERE worker_id = :w", w=wid)[0][0]
    page = as_role("hr")
    assert _in_list(page, iin) == 0  # out of HR's sight before the hire

    page.goto("/admin/workers/?lang=en")
    page.locator(".nav-tabs a", has_text="Hire a registered worker").click()
    page.wait_for_url("**/admin/workers/hire/**")

    def fill(birth_date):
        page.fill("input[name=iin]", iin)
        page.fill("input[name=surname]", surname.upper())  # the surname as on the document, any case
        page.fill("input[name=birth_date]", birth_date.isoformat())
        page.locator("select[name=position]").select_option(str(position_id), force=True)
        if specialty_id:
            page.locator("select[name=specialty]").select_option(str(specialty_id), force=True)
        page.get_by_role("button", name="Hire", exact=True).click()
        page.wait_for_load_state()

    # a wrong date of birth: refused, under the IIN, and nothing of the worker shown
    fill(birth + timedelta(days=1))
    assert "/hire/" in page.url, page.url
    body = page.locator("body").inner_text()
    assert "No registered worker has this IIN, surname and date of birth" in body
    assert name not in body
    for shown in (birth.isoformat(), birth.strftime("%d.%m.%Y"), f"{birth:%m/%d/%Y}"):
        assert shown not in body
    assert served.sql("SELECT count(*) FROM employment WHERE worker_id = :w", w=wid)[0][0] == episodes

    # the right date of birth: hired, the worker page opens, and HR's list finds him
    fill(birth)
    assert "/admin/workers/details/" in page.url, [page.url, page.locator(".text-danger").all_inner_texts()]
    assert any("now works in your organization" in t for t in page.locator(".alert").all_inner_texts())
    assert served.sql("SELECT count(*) FROM employment WHERE worker_id = :w AND organization_id = :o "
                      "AND end_date IS NULL", w=wid, o=org)[0][0] == 1
    assert _in_list(page, iin) == 1
    assert surname in page.locator(ROW).inner_text()


@pytest.mark.parametrize("lang", ["en", "kk", "ru"])
def test_a_blocked_workers_page_names_the_blocked_post_and_the_expired_certificate(as_role, served, lang):
    org = org_of(served, "hr")
    rows = served.sql(f"""
        SELECT w.id, e.id, c.number, p.name_{lang}, o.name_{lang}
        FROM worker w JOIN employment e ON e.worker_id = w.id
        JOIN certificate c ON c.id = e.blocked_certificate_id
        JOIN position p ON p.id = e.position_id JOIN organization o ON o.id = e.organization_id
        WHERE w.status = 'blocked' AND e.organization_id = :o AND e.end_date IS NULL
          AND e.blocked_at IS NOT NULL
        ORDER BY w.id LIMIT 1""", o=org)
    assert rows, "no blocked worker in HR's organization in the demo country"
    wid, _eid, number, position, organization = rows[0]
    page = as_role("hr", lang=lang)
    page.goto(f"/admin/workers/?lang={lang}")
    page.goto(f"/admin/workers/details/?id={wid}&lang={lang}")
    # the card's header states the status in words (issue 15): every blocked post with its certificate
    banner = page.locator(".worker-status", has=page.locator(".badge-blocked"))
    assert banner.count() == 1
    text = banner.inner_text()
    since = _gettext(lang, "Blocked since %(date)s: %(reasons)s").split("%(date)s")[0].strip()
    assert since in text, text
    assert _gettext(lang, "Blocked") in text
    assert number in text and position in text and organization in text, text
    expired = _gettext(lang, "%(post)s (%(organization)s): certificate %(number)s in %(specialty)s expired on "
                             "%(date)s")
    for word in re.split(r"%\(\w+\)s", expired):
        assert word.strip(" ():") in text, (word, text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), f"an ISO date on the page: {text}"
