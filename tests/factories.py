"""Factories that build valid domain objects (valid IINs and BINs) for tests."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from profreg.identity import make_bin, make_iin
from profreg.models import (
    AdminUnit,
    Certificate,
    Country,
    Employment,
    Organization,
    Position,
    Specialty,
    User,
    Worker,
)

_serial = itertools.count(1)


def next_iin(birth: date, sex: str) -> str:
    while True:
        iin = make_iin(birth, sex, next(_serial))
        if iin:
            return iin


def next_bin() -> str:
    while True:
        b = make_bin(2015, 4, next(_serial))
        if b:
            return b


class Factory:
    def __init__(self, db, ref):
        self.db, self.ref = db, ref

    def region(self, code="710000000"):
        return self.ref(AdminUnit, code)

    def org(self, region="710000000", **kw):
        unit = self.region(region)
        n = next(_serial)
        org = Organization(bin=kw.pop("bin", None) or next_bin(), name_kk=f"Аурухана {n}", name_ru=f"Больница {n}",
                           name_en=f"Hospital {n}", unit=unit, region=unit, **kw)
        self.db.session.add(org)
        self.db.session.flush()
        return org

    def worker(self, org=None, *, surname="Қасымова", sex="F", birth=date(1987, 4, 12), position="NURSE",
               specialty="NURSING", hire=date(2020, 1, 10), end=None, end_reason=None, entered_at=None,
               certificate_until=None, **kw):
        w = Worker(iin=kw.pop("iin", None) or next_iin(birth, sex), surname=surname, surname_folded=surname.casefold(),
                   name=kw.pop("name", "Айгүл"), patronymic=kw.pop("patronymic", None), sex=sex, birth_date=birth,
                   birth_place=kw.pop("birth_place", "г. Алматы"),
                   citizenship=kw.pop("citizenship", None) or self.ref(Country, "KZ"), **kw)
        self.db.session.add(w)
        self.db.session.flush()
        if org is not None:
            self.employment(w, org, position=position, specialty=specialty, hire=hire, end=end,
                            end_reason=end_reason, entered_at=entered_at)
        if certificate_until is not None:
            self.certificate(w, specialty=specialty, valid_until=certificate_until)
        return w

    def employment(self, worker, org, *, position="NURSE", specialty="NURSING", hire=date(2020, 1, 10), end=None,
                   end_reason=None, entered_at=None, fte="1.00", end_ground=None, end_category=None):
        """``end_reason``: a reason code of the list used before issue 20.6, mapped to the Labour Code ground
        and the category as the migration maps existing episodes (and kept, as they keep it)."""
        from profreg.reference.models import EmploymentEndReason, LabourCodeGround

        reason = self.ref(EmploymentEndReason, end_reason) if end_reason else None
        if reason is not None:
            end_ground = end_ground or reason.ground_code
            end_category = end_category or reason.category
        e = Employment(worker=worker, organization=org, position=self.ref(Position, position),
                       specialty=self.ref(Specialty, specialty) if specialty else None, hire_date=hire,
                       end_date=end, fte=Decimal(fte), end_reason=reason,
                       end_ground=self.ref(LabourCodeGround, end_ground) if end_ground else None,
                       end_category=end_category)
        if entered_at is not None:
            e.entered_at = entered_at
        self.db.session.add(e)
        self.db.session.flush()
        return e

    def certificate(self, worker, *, specialty="NURSING", valid_until, issue=None, number=None):
        c = Certificate(worker=worker, specialty=self.ref(Specialty, specialty),
                        number=number or f"KZ-T-{next(_serial):08d}", issuer="НЦНЭ",
                        issue_date=issue or (valid_until - timedelta(days=5 * 365)), valid_until=valid_until)
        self.db.session.add(c)
        self.db.session.flush()
        return c

    def entry_form(self, doc_type="ID_CARD", **values) -> dict:
        """Create-form values of what rule 8 requires when a worker is first registered: the identity
        document, residence, registration and one education document (``education_documents-0-...``).
        Adds an education organization when there is none (flushed: commit before a request)."""
        from profreg.education.models import EducationInstitution
        from profreg.reference.models import EducationLevel, IdentityDocumentType

        inst = self.db.session.query(EducationInstitution).order_by(EducationInstitution.id).first()
        if inst is None:
            inst = EducationInstitution(name="Медицинский колледж Астана", country=self.ref(Country, "KZ"), city="Астана")
            self.db.session.add(inst)
            self.db.session.flush()
        return {
            "id_doc_type": str(self.ref(IdentityDocumentType, doc_type).id), "id_doc_number": "045612378",
            "id_doc_issuer": "МВД РК", "id_doc_issued": "2020-01-01",
            "residence_address": "Астана, ул. Сарыарка 1", "registration_place": "Астана",
            "registration_date": "2019-09-01",
            "education_documents-0-kind": "general",
            "education_documents-0-level": str(self.ref(EducationLevel, "SECONDARY").id),
            "education_documents-0-institution": str(inst.id), "education_documents-0-number": "ТКБ-0012345",
            "education_documents-0-issue_date": "2011-06-30", **values}

    def district(self, code):
        """A level-2 KATO unit (district) of the shipped classifier, by code."""
        return self.ref(AdminUnit, code)

    def user(self, role, *, org=None, region=None, district=None, specialties=(), email=None, password=None):
        from profreg.auth.services import create_user
        from tests.conftest import PASSWORD

        u = create_user(email or f"{role}{next(_serial)}@test.kz", role, password or PASSWORD,
                        organization=org, region=region, district=district,
                        specialties=[self.ref(Specialty, s) for s in specialties], must_change=False)
        self.db.session.commit()
        return u


__all__ = ["Factory", "User", "next_bin", "next_iin"]
