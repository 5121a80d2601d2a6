"""Panel tests: a client whose every request runs in a fresh application context (fresh ``g``:
no signed-in user or locale leaks from one request, or one client, to the next), and a small
two-region world with one user per role.

The shared ``tests/conftest.py`` keeps one request context pushed per test, so by default all test
client requests share ``g`` (Flask-Login's cached user, Flask-Babel's cached locale). Tests that
switch users or compare two sessions need the isolation this client gives; data must be committed
before a request (the request runs on its own database session, on the test's connection: see
``before_fresh_context_request`` in tests/conftest.py, which enforces it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from tests.conftest import before_fresh_context_request

ROLES = ("ministry", "region", "org_head", "hr_chief", "hr", "association", "admin", "integration", "authority")
#: The roles plus "district": a ``region`` coordinator limited to one district of R1 (rule 4.1), the
#: district of orgA; it holds the region's rights (``matrix_role``) over a narrower scope.
SCOPED_USERS = (*ROLES, "district")


def matrix_role(user_key: str) -> str:
    """The role (row of the matrix) of a world user key: a district coordinator is a ``region`` user."""
    return "region" if user_key == "district" else user_key


class FreshContextClient(FlaskClient):
    """English pages by default (Accept-Language), so assertions read the msgids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args, **kwargs):
        before_fresh_context_request()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return FreshContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def make_client(app):
    def make(user=None):
        c = FreshContextClient(app, app.response_class, use_cookies=True)
        if user is not None:
            sign_in(c, user)
        return c
    return make


def sign_in(client, user):
    """Sign in without the password form (fewer requests; the form itself is tested elsewhere): a
    server-side session (``auth.services.open_session``, committed) and its keys in the cookie."""
    from profreg import clock
    from profreg.auth.services import open_session
    from profreg.extensions import db

    sid = open_session(user)
    db.session.commit()
    now = clock.now().timestamp()
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
        s.update({"_sid": sid, "_t0": now, "_seen": now})
    return client


def token(client, url="/login"):
    page = client.get(url)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    assert m, f"no csrf token on {url} ({page.status_code})"
    return m.group(1)


class FormParser(HTMLParser):
    """What a browser would submit for the first ``admin-form`` form on a page."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self.selects: dict[str, list[str]] = {}
        self._in_form = False
        self._select = None
        self._select_selected = None
        self._select_first = None
        self._textarea = None
        self._text = ""
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "admin-form" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if "inline-field-template" in (a.get("class") or "") or (tag == "template"):
            self._skip += 1
            return
        if self._skip:
            if tag == "div":
                self._skip += 1
            return
        if tag == "input":
            typ = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or typ in ("submit", "button", "file"):
                return
            if typ in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((name, a.get("value") or ("y" if typ == "checkbox" else "")))
        elif tag == "select":
            self._select = a.get("name")
            self._select_selected = []
            self._select_first = None
            self.selects[self._select] = []
        elif tag == "option" and self._select:
            val = a.get("value", "")
            self.selects[self._select].append(val)
            if self._select_first is None:
                self._select_first = val
            if "selected" in a:
                self._select_selected.append(val)
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._text = ""

    def handle_endtag(self, tag):
        if self._skip:
            if tag in ("div", "template"):
                self._skip -= 1
            return
        if tag == "form" and self._in_form:
            self._in_form = False
        if tag == "select" and self._select:
            vals = self._select_selected or ([self._select_first] if self._select_first is not None else [])
            for v in vals:
                self.data.append((self._select, v))
            self._select = None
        if tag == "textarea" and self._textarea:
            self.data.append((self._textarea, self._text))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def parse_form(html: str) -> FormParser:
    p = FormParser()
    p.feed(html)
    return p


@dataclass
class World:
    """Two regions; orgA and orgA2 in region R1 (districts D1 and D2 of it), orgB in R2 (no district);
    one worker in each organization with every kind of record; one user per role (region → R1, org
    roles → orgA, association → NURSING), and "district": a region coordinator limited to D1."""

    R1: object = None
    R2: object = None
    D1: object = None
    D2: object = None
    orgA: object = None
    orgA2: object = None
    orgB: object = None
    wA: object = None
    wA2: object = None
    wB: object = None
    users: dict = field(default_factory=dict)
    factory: object = None
    db: object = None


def add_records(f, db, worker, specialty):
    """One row of every worker-record kind for ``worker``."""
    from profreg.documents.models import PersonnelDocument
    from profreg.education.models import (
        AcademicDegree,
        AcademicTitle,
        EducationDocument,
        EducationInstitution,
        Publication,
        QualificationCategory,
    )
    from profreg.reference import models as r
    from profreg.training.models import CpdRecord

    ref = f.ref
    inst = db.session.query(EducationInstitution).first()
    if inst is None:
        inst = EducationInstitution(name="Медицинский университет Астана", country=ref(r.Country, "KZ"),
                                    bin=None, city="Астана")
        db.session.add(inst)
        db.session.flush()
    spec = ref(r.Specialty, specialty)
    lv, deg, tit = ref(r.EducationLevel, "SECONDARY"), ref(r.AcademicDegreeType, "CAND_MED"), ref(r.AcademicTitleType, "ASSOC_PROF")
    cat, pub, act = (ref(r.QualificationCategoryType, "HIGHEST"), ref(r.PublicationType, "ARTICLE"),
                     ref(r.TrainingActivityType, "ADV_TRAINING"))
    doc = ref(r.PersonnelDocumentType, "HIRE_ORDER")
    rows = [
        EducationDocument(worker=worker, kind="general", level=lv,
                          institution=inst, specialty=spec, number=f"ED{worker.id}", issue_date=date(2008, 6, 1)),
        AcademicDegree(worker=worker, degree_type=deg, field="med",
                       award_date=date(2015, 1, 1)),
        AcademicTitle(worker=worker, title_type=tit, award_date=date(2016, 1, 1)),
        QualificationCategory(worker=worker, category=cat, specialty=spec,
                              award_date=date(2022, 1, 1)),
        Publication(worker=worker, type=pub, title=f"Paper {worker.id}", year=2020),
        CpdRecord(worker=worker, activity_type=act, specialty=spec,
                  provider="НЦПО", topic=f"Topic {worker.id}", start_date=date(2024, 1, 10),
                  end_date=date(2024, 1, 20), hours=Decimal("54")),
        PersonnelDocument(worker=worker, doc_type=doc, number=f"П-{worker.id}",
                          doc_date=date(2020, 1, 10)),
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def make_user(db, role, *, org=None, region=None, district=None, specialties=()):
    from profreg.auth.models import User

    place = f"{org.id if org else region.id if region else 0}{f'.d{district.id}' if district else ''}"
    u = User(email=f"{role}.{place}.{len(specialties)}@test.kz", role=role, password_hash="not-a-real-hash",
             organization=org, region=region, district=district, specialties=list(specialties))
    db.session.add(u)
    db.session.flush()
    return u


@pytest.fixture
def world(db, factory, today):
    from profreg.orgs.models import StaffingPosition
    from profreg.reference import models as r

    w = World(factory=factory, db=db)
    w.R1, w.R2 = factory.region("710000000"), factory.region("750000000")
    w.D1, w.D2 = factory.district("711110000"), factory.district("711210000")
    w.orgA, w.orgA2 = factory.org("710000000", district=w.D1), factory.org("710000000", district=w.D2)
    w.orgB = factory.org("750000000")
    w.wA = factory.worker(w.orgA, surname="Қасымова", certificate_until=today + timedelta(days=400))
    w.wA2 = factory.worker(w.orgA2, surname="Әбенова", specialty="GEN_MED", position="DOCTOR",
                           certificate_until=today + timedelta(days=400))
    w.wB = factory.worker(w.orgB, surname="Иванова", certificate_until=today + timedelta(days=400))
    for worker, spec in ((w.wA, "NURSING"), (w.wA2, "GEN_MED"), (w.wB, "NURSING")):
        add_records(factory, db, worker, spec)
    for org in (w.orgA, w.orgA2, w.orgB):
        db.session.add(StaffingPosition(organization=org, position=factory.ref(r.Position, "NURSE"),
                                        specialty=factory.ref(r.Specialty, "NURSING"), approved_fte=Decimal("10")))
    w.users = {
        "ministry": make_user(db, "ministry"),
        "region": make_user(db, "region", region=w.R1),
        "org_head": make_user(db, "org_head", org=w.orgA),
        "hr_chief": make_user(db, "hr_chief", org=w.orgA),
        "hr": make_user(db, "hr", org=w.orgA),
        "association": make_user(db, "association", specialties=[factory.ref(r.Specialty, "NURSING")]),
        "admin": make_user(db, "admin"),
        "integration": make_user(db, "integration"),
        "district": make_user(db, "region", region=w.R1, district=w.D1),
        "authority": make_user(db, "authority"),
    }
    db.session.commit()
    return w
