"""The worker card (issue 15, item 2): one page per worker with tabs (identity, employment, education
and qualifications, certificates and admission, CPD, documents, history), each with its own "Add" in the
reader's scope; the status in words; the history readable (labels, names, no technical fields)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from profreg.certificates import services as certs
from profreg.certificates.models import Certificate
from profreg.documents.models import PersonnelDocument
from profreg.i18n import fmt_date
from tests.panel.conftest import make_user, parse_form
from tests.panel.test_audit_documents import PDF, _upload

TAB_MSGIDS = ("Identity", "Employment", "Education and qualifications", "Certificates and admission",
              "Professional development", "Personnel documents", "History")


NUMERIC_FIELDS = {"en": {"Hours", "bytes", "Year", "Credits", "FTE"},
                  "ru": {"Часы", "байт", "Год", "Кредиты", "Ставка", "часов"}}


def _card(client, worker, lang="en", tab=None) -> str:
    url = f"/admin/workers/details/?id={worker.id}&lang={lang}" + (f"&tab={tab}" if tab else "")
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return page.get_data(as_text=True)


def _tab_labels(html: str) -> list[str]:
    bar = html[html.index('card-header-tabs'):]
    bar = bar[:bar.index("</ul>")]
    return [re.sub(r"\s+", " ", re.sub(r"<span.*?</span>", "", t)).strip()
            for t in re.findall(r'<a class="nav-link[^>]*>(.*?)</a>', bar, flags=re.S)]


def _pane(html: str, key: str) -> str:
    start = html.index(f'id="tab-{key}"')
    nxt = html.find('class="tab-pane', start + 1)
    return html[start:nxt if nxt > 0 else len(html)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S))


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_card_shows_every_tab_in_the_readers_language(app, world, make_client, lang):
    html = _card(make_client(world.users["hr"]), world.wA, lang)
    with app.test_request_context(), force_locale(lang):
        expected = [_(m) for m in TAB_MSGIDS]
    assert _tab_labels(html) == expected
    if lang != "en":  # really translated, not the English msgids
        assert not set(expected) & set(TAB_MSGIDS), expected
    # every tab is a link: ?tab=<key> opens the card on that tab, and only that tab is rendered
    for key in ("identity", "employments", "education", "certificates", "cpd", "documents", "history"):
        assert f'id="tab-link-{key}"' in html and f"tab={key}" in html, key
    assert 'id="tab-identity"' in html and 'id="tab-certificates"' not in html


def test_a_tab_link_opens_the_card_on_that_tab(world, make_client):
    html = _card(make_client(world.users["hr"]), world.wA, tab="certificates")
    assert re.search(r'class="tab-pane active" id="tab-certificates"', html)
    assert not re.search(r'class="tab-pane active" id="tab-identity"', html)
    assert re.search(r'class="tab-pane active" id="tab-identity"',
                     _card(make_client(world.users["hr"]), world.wA, tab="nonsense"))


def test_the_card_of_another_organizations_worker_is_not_found(world, make_client):
    other = make_user(world.db, "hr", org=world.orgB)
    world.db.session.commit()
    assert make_client(other).get(f"/admin/workers/details/?id={world.wA.id}").status_code == 404
    assert make_client(world.users["hr"]).get(f"/admin/workers/details/?id={world.wB.id}").status_code == 404
    assert make_client(world.users["association"]).get(
        f"/admin/workers/details/?id={world.wA.id}").status_code in (403, 404)


def test_each_tab_adds_its_records_in_the_readers_scope(world, make_client):
    """HR adds every kind of record of its worker from the card (the create form opens with the worker
    chosen, and leads back to the card's tab); the head of the organization, who enters nothing, sees no
    "Add"; a worker id outside the scope leaves the form's worker empty."""
    hr = make_client(world.users["hr"])
    html = "".join(_card(hr, world.wA, tab=tab) for tab in ("employments", "education", "certificates", "cpd",
                                                             "documents"))
    links = re.findall(r'class="btn btn-outline-primary btn-sm ml-auto add-record" href="([^"]+)"', html)
    endpoints = {re.match(r"/admin/(\w+)/new/", link.replace("&amp;", "&")).group(1) for link in links}
    assert {"employment", "education", "qualifications", "certificates", "cpd", "documents"} <= endpoints, links
    cert_add = next(link for link in links if link.startswith("/admin/certificates/new/")).replace("&amp;", "&")
    assert f"worker={world.wA.id}" in cert_add and "tab%3Dcertificates" in cert_add
    form = hr.get(cert_add).get_data(as_text=True)
    worker_input = re.search(r'<input[^>]*name="worker"[^>]*>', form).group(0)
    assert f'value="{world.wA.id}"' in worker_input and f'data-json="[{world.wA.id}, ' in worker_input
    outside = hr.get(f"/admin/certificates/new/?worker={world.wB.id}").get_data(as_text=True)
    worker_input = re.search(r'<input[^>]*name="worker"[^>]*>', outside).group(0)
    assert f'value="{world.wB.id}"' not in worker_input and "data-json=\"[" not in worker_input
    head = "".join(_card(make_client(world.users["org_head"]), world.wA, tab=tab) for tab in ("certificates", "cpd"))
    assert "add-record" not in head and "/admin/certificates/new/" not in head


def test_an_active_worker_shows_no_blocked_at_and_a_blocked_one_says_why(app, world, make_client, today):
    html = _card(make_client(world.users["hr"]), world.wA)
    identity = _text(_pane(html, "identity"))
    assert "Blocked at" not in identity and "Reason for blocking" not in identity
    assert "Active" in _text(html[:html.index("card-header-tabs")])
    # a surgeon whose surgery certificate expired yesterday: the sweep blocks him
    f, db = world.factory, world.db
    w = f.worker(world.orgA, surname="Хирургов", sex="M", position="DOCTOR", specialty="SURGERY")
    f.certificate(w, specialty="SURGERY", valid_until=today - timedelta(days=1), number="KZ-SURG-1")
    db.session.commit()
    certs.sweep(today)
    db.session.commit()
    html = _card(make_client(world.users["hr"]), w)
    header = _text(html[:html.index("card-header-tabs")])
    db.session.refresh(w)
    with app.test_request_context(), force_locale("en"):
        since, expired = fmt_date(w.blocked_at), fmt_date(today - timedelta(days=1))
    assert re.search(rf"Blocked since {re.escape(since)}: .*KZ-SURG-1.*expired on {re.escape(expired)}",
                     header), header
    assert "certificate_expired" not in html
    history = _text(_pane(_card(make_client(world.users["hr"]), w, tab="history"), "history"))
    assert "Status: Active → Blocked" in history and "No valid specialist certificate" in history, history
    certificates = _card(make_client(world.users["hr"]), w, tab="certificates")
    assert "KZ-SURG-1" in _text(_pane(certificates, "certificates"))  # the admission line of the certificates tab
    ru = _text(_card(make_client(world.users["hr"]), w, "ru"))
    assert "Заблокирован с " in ru and "KZ-SURG-1" in ru


def test_the_history_tab_is_readable_and_shown_to_the_hr_of_the_worker(world, make_client):
    """A worker edited, a document uploaded and a certificate corrected: the history tab (as HR, who has
    no audit list) names who did what to which record, with field labels and names, old → new; no
    snake_case field names, hashes or database ids in its visible text."""
    from profreg.workers.records import correct

    hr = make_client(world.users["hr"])
    url = f"/admin/workers/edit/?id={world.wA.id}"
    data = MultiDict(parse_form(hr.get(url).get_data(as_text=True)).data)
    data["surname"] = "Қасымова-Ахметова"
    assert hr.post(url, data=data).status_code == 302
    assert _upload(hr, world, PDF, "приказ.pdf").status_code == 302
    cert = world.db.session.execute(select(Certificate).where(Certificate.worker_id == world.wA.id)).scalars().first()
    correct(cert, {"issuer": "НЦНЭ МЗ РК"}, "Орган выдачи указан неточно", world.users["region"])
    world.db.session.commit()
    doc = world.db.session.execute(select(PersonnelDocument).where(PersonnelDocument.original_name == "приказ.pdf")
                                   ).scalar_one()
    for lang in ("en", "ru"):
        history = _text(_pane(_card(hr, world.wA, lang, tab="history"), "history"))
        assert "Қасымова-Ахметова" in history and "НЦНЭ МЗ РК" in history and "П-77" in history, history
        assert "Орган выдачи указан неточно" in history  # the correction's reason
        assert not re.findall(r"\b[a-z]+_[a-z_]+\b", history), history
        assert doc.sha256 not in history and doc.stored_name not in history
        # no database ids as values: a number after "→" only in a field that holds numbers
        for label, value in re.findall(r"([^:→]+?): \S+ → (\d+)(?=\s+[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ—]|\s*$)", history):
            if len(value) != 12:  # an IIN is data, not an id
                assert label.strip().split()[-1] in NUMERIC_FIELDS[lang], (label, value)
        assert "→ general" not in history and "→ F " not in history  # choices by their label
    en = _text(_pane(_card(hr, world.wA, tab="history"), "history"))
    assert re.search(r"Surname: Қасымова → Қасымова-Ахметова", en), en
    assert re.search(r"Personnel documents: Created", en) and re.search(r"Certificates: Created", en), en
    assert re.search(r"Document type: — → \S", en), en  # the reference value by its name
    assert "Open in the audit trail" not in en  # HR has no audit list
    assert "Open in the audit trail" in _card(make_client(world.users["hr_chief"]), world.wA, tab="history")
