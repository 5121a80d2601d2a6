"""Every list of a worker's rows answers a search by the worker (issue 15, item 3): a surname (any case,
Kazakh letters included) or an IIN prefix gives exactly that worker's rows, inside the user's scope."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from profreg.audit.models import AuditLog
from profreg.certificates.models import Certificate
from profreg.documents.models import PersonnelDocument
from profreg.education.models import EducationDocument
from profreg.extensions import db
from profreg.training.models import CpdRecord
from profreg.workers.models import Employment

COUNT = re.compile(r"\((\d+)\)")

LISTS = [("certificates", Certificate), ("employment", Employment), ("education", EducationDocument),
         ("cpd", CpdRecord), ("documents", PersonnelDocument), ("audit", AuditLog)]


def _listed(client, endpoint: str, term: str) -> tuple[int | None, str]:
    page = client.get(f"/admin/{endpoint}/", query_string={"search": term, "lang": "en"})
    assert page.status_code == 200, (endpoint, page.status_code)
    html = page.get_data(as_text=True)
    tab = re.search(r'class="nav-link active"[^>]*>([^<]*)<', html)
    m = COUNT.search(tab.group(1)) if tab else None
    return (int(m.group(1)) if m else None), html


def _rows_of(model, worker) -> int:
    q = select(func.count()).select_from(model).where(model.worker_id == worker.id)
    in_lists = getattr(model, "in_lists", None)
    if in_lists is not None:
        q = q.where(in_lists())
    return db.session.execute(q).scalar()


@pytest.mark.parametrize("endpoint,model", LISTS, ids=[e for e, _ in LISTS])
def test_a_search_by_surname_gives_exactly_that_workers_rows(world, make_client, endpoint, model):
    ministry = make_client(world.users["ministry"])
    # an audit entry of each worker: the ministry opens their pages
    for w in (world.wA, world.wB):
        assert ministry.get(f"/admin/workers/details/?id={w.id}").status_code == 200
    expected = _rows_of(model, world.wA)
    assert expected >= 1
    for term in (world.wA.surname, world.wA.surname.upper(), world.wA.iin):
        count, html = _listed(ministry, endpoint, term)
        if count is not None:
            assert count == expected, (endpoint, term, count, expected)
        assert world.wB.surname not in html and world.wB.iin not in html, (endpoint, term)
    # nobody's rows for a surname nobody has
    count, html = _listed(ministry, endpoint, "Жоқтаева")
    assert count in (None, 0) and world.wA.surname not in html


def test_the_search_never_widens_the_scope(world, make_client):
    hr = make_client(world.users["hr"])  # organization A: wB (organization B) is not in its lists
    count, html = _listed(hr, "certificates", world.wB.surname)
    assert count in (None, 0) and world.wB.iin not in html


def test_the_association_finds_a_member_in_its_cpd_list_by_name(world, make_client):
    association = make_client(world.users["association"])  # NURSING: wA and wB
    count, html = _listed(association, "cpd", world.wB.surname)
    assert count == _rows_of(CpdRecord, world.wB) and world.wA.surname not in html


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_reference_dropdowns_are_in_the_alphabetical_order_of_the_readers_language(world, make_client, lang):
    """The specialty options of the certificate form: sorted as the reader's alphabet sorts them (for kk
    the Kazakh alphabet: Ә after А, Қ after К, Ө after О, І after Ы), not by code or id."""
    from profreg.workers.models import sort_key

    html = make_client(world.users["hr"]).get(f"/admin/certificates/new/?lang={lang}").get_data(as_text=True)
    select_html = html[html.index('name="specialty"'):]
    select_html = select_html[:select_html.index("</select>")]
    labels = [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<option[^>]*value=\"\d+\"[^>]*>([^<]*)</option>",
                                                                  select_html)]
    assert len(labels) > 10
    assert labels == sorted(labels, key=sort_key), labels[:10]
