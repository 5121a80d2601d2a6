"""The register as FHIR R4 resources (the IHE mCSD profile's Practitioner, PractitionerRole,
Organization and Location; docs/api.md lists the identifier systems). Plain dicts, built for a page
of rows at a time with one query per related table (search pages and bulk export alike)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone

from sqlalchemy import select

from .. import clock
from ..certificates.models import Certificate
from ..education.models import EducationDocument, EducationInstitution
from ..extensions import db
from ..reference.models import EducationLevel, Specialty
from ..workers.models import Worker, full_name

BASE = "https://profreg.kz/fhir"
#: Identifier and code systems of the register (documented in docs/api.md).
IIN_SYSTEM = f"{BASE}/sid/iin"
BIN_SYSTEM = f"{BASE}/sid/bin"
KATO_SYSTEM = f"{BASE}/sid/kato"
SPECIALTY_SYSTEM = f"{BASE}/CodeSystem/specialty"
POSITION_SYSTEM = f"{BASE}/CodeSystem/position"
EDUCATION_LEVEL_SYSTEM = f"{BASE}/CodeSystem/education-level"
ORG_TYPE_SYSTEM = f"{BASE}/CodeSystem/organization-type"
CERTIFICATE_SYSTEM = f"{BASE}/sid/certificate"
DIPLOMA_SYSTEM = f"{BASE}/sid/diploma"
V2_0360 = "http://terminology.hl7.org/CodeSystem/v2-0360"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

GENDER = {"M": "male", "F": "female"}


def instant(value: datetime | None) -> str | None:
    """A stored naive UTC moment as a FHIR instant."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc, microsecond=0).isoformat().replace("+00:00", "Z")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _coding(system: str, row) -> dict | None:
    if row is None:
        return None
    return {"coding": [{"system": system, "code": row.code, "display": row.name}], "text": row.name}


def _period(start, end) -> dict | None:
    out = {k: v for k, v in (("start", _day(start)), ("end", _day(end))) if v}
    return out or None


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, [], {})}


#: The columns a Practitioner is made of (``practitioners`` takes rows of them, not ORM objects: a
#: bulk export of the country builds 300,000 of them, and the search pages share the same builder).
PRACTITIONER_COLUMNS = (Worker.id, Worker.iin, Worker.surname, Worker.name, Worker.patronymic, Worker.sex,
                        Worker.birth_date, Worker.annulled_at, Worker.touched_at.label("touched_at"))


def practitioner_select():
    """``SELECT`` of the Practitioner columns (the caller adds the scope and the search)."""
    return select(*PRACTITIONER_COLUMNS)


class _Names:
    """``id -> (code, name)`` of a classifier in the current language, loaded once per builder call
    for the ids it meets (reference tables are small; institutions are loaded by the ids asked)."""

    def __init__(self, model, code_col=None, name_col=None):
        self.model, self.code_col, self.name_col, self.cache = model, code_col, name_col, {}

    def load(self, ids) -> None:
        missing = {i for i in ids if i is not None and i not in self.cache}
        if missing:
            code = self.code_col if self.code_col is not None else self.model.code
            name = self.name_col if self.name_col is not None else self.model.name_column()
            for row in db.session.execute(select(self.model.id, code, name).where(self.model.id.in_(missing))):
                self.cache[row[0]] = (row[1], row[2] or "")

    def coding(self, system: str, key) -> dict | None:
        hit = self.cache.get(key)
        if hit is None:
            return None
        code, name = hit
        return {"coding": [{"system": system, "code": code, "display": name}], "text": name}


def practitioners(rows) -> list[dict]:
    """Practitioner resources of worker rows (``PRACTITIONER_COLUMNS``, already scoped by the
    caller): the IIN as identifier, name, gender, date of birth; qualification = education documents
    and certificates in force, each with its period. One query per related table for all the rows."""
    ids = [w.id for w in rows]
    certs, docs = defaultdict(list), defaultdict(list)
    if ids:
        for c in db.session.execute(
                select(Certificate.worker_id, Certificate.number, Certificate.specialty_id, Certificate.issue_date,
                       Certificate.valid_until, Certificate.issuer)
                .where(Certificate.worker_id.in_(ids), Certificate.in_force).order_by(Certificate.worker_id,
                                                                                      Certificate.id)):
            certs[c.worker_id].append(c)
        for d in db.session.execute(
                select(EducationDocument.worker_id, EducationDocument.series, EducationDocument.number,
                       EducationDocument.level_id, EducationDocument.issue_date, EducationDocument.institution_id)
                .where(EducationDocument.worker_id.in_(ids), EducationDocument.in_force)
                .order_by(EducationDocument.worker_id, EducationDocument.id)):
            docs[d.worker_id].append(d)
    specialties, levels = _Names(Specialty), _Names(EducationLevel)
    institutions = _Names(EducationInstitution, EducationInstitution.id, EducationInstitution.name)
    specialties.load(c.specialty_id for cs in certs.values() for c in cs)
    levels.load(d.level_id for ds in docs.values() for d in ds)
    institutions.load(d.institution_id for ds in docs.values() for d in ds)
    out = []
    for w in rows:
        quals = []
        for d in docs.get(w.id, ()):
            inst = institutions.cache.get(d.institution_id)
            quals.append(_clean({
                "identifier": [{"system": DIPLOMA_SYSTEM, "value": f"{d.series or ''}{d.number}"}],
                "code": levels.coding(EDUCATION_LEVEL_SYSTEM, d.level_id),
                "period": _period(d.issue_date, None),
                "issuer": {"display": inst[1]} if inst is not None else None}))
        for c in certs.get(w.id, ()):
            quals.append(_clean({
                "identifier": [{"system": CERTIFICATE_SYSTEM, "value": c.number}],
                "code": specialties.coding(SPECIALTY_SYSTEM, c.specialty_id),
                "period": _period(c.issue_date, c.valid_until),
                "issuer": {"display": c.issuer} if c.issuer else None}))
        given = [p for p in (w.name, w.patronymic) if p]
        out.append(_clean({
            "resourceType": "Practitioner", "id": str(w.id),
            "meta": {"lastUpdated": instant(w.touched_at)},
            "identifier": [{"use": "official", "system": IIN_SYSTEM, "value": w.iin}],
            "active": w.annulled_at is None,
            "name": [_clean({"use": "official", "family": w.surname, "given": given,
                             "text": full_name(w.surname, w.name, w.patronymic)})],
            "gender": GENDER.get(w.sex, "unknown"),
            "birthDate": _day(w.birth_date),
            "qualification": quals,
        }))
    return out


def practitioner_roles(episodes) -> list[dict]:
    """PractitionerRole resources of employment episodes: organization, position as code, specialty,
    period, active (current today)."""
    today = clock.today()
    out = []
    for e in episodes:
        out.append(_clean({
            "resourceType": "PractitionerRole", "id": str(e.id),
            "meta": {"lastUpdated": instant(e.entered_at)},
            "active": bool(e.current_on(today)) and e.hire_date <= today,
            "period": _period(e.hire_date, e.end_date),
            "practitioner": {"reference": f"Practitioner/{e.worker_id}"},
            "organization": {"reference": f"Organization/{e.organization_id}"},
            "code": [_coding(POSITION_SYSTEM, e.position)],
            "specialty": [_coding(SPECIALTY_SYSTEM, e.specialty)] if e.specialty is not None else None,
            "location": [{"reference": f"Location/{e.organization.unit_id}"}] if e.organization is not None else None,
        }))
    return out


def organizations(orgs) -> list[dict]:
    """Organization resources: BIN as identifier, type, names in kk/ru/en, ``partOf`` the parent."""
    out = []
    for o in orgs:
        names = {o.name_kk, o.name_ru, o.name_en} - {o.name}
        out.append(_clean({
            "resourceType": "Organization", "id": str(o.id),
            "identifier": [{"use": "official", "system": BIN_SYSTEM, "value": o.bin}],
            "active": True,
            "type": [_coding(ORG_TYPE_SYSTEM, o.type)] if o.type is not None else None,
            "name": o.name,
            "alias": sorted(n for n in names if n),
            "address": [_clean({"text": o.address, "district": o.unit.name if o.unit else None,
                                "state": o.region.name if o.region else None, "country": "KZ"})],
            "partOf": {"reference": f"Organization/{o.parent_id}"} if o.parent_id else None,
        }))
    return out


def locations(units) -> list[dict]:
    """Location resources of the KATO units (regions, cities, districts) as jurisdictions."""
    out = []
    for u in units:
        out.append(_clean({
            "resourceType": "Location", "id": str(u.id),
            "identifier": [{"system": KATO_SYSTEM, "value": u.code}],
            "status": "active" if getattr(u, "is_active", True) else "inactive",
            "name": u.name,
            "alias": sorted({u.name_kk, u.name_ru, u.name_en} - {u.name, None}),
            "mode": "instance",
            "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": "jdn", "display": "Jurisdiction"}]},
            "partOf": {"reference": f"Location/{u.parent_id}"} if u.parent_id else None,
        }))
    return out


def bundle(entries: list[dict], *, self_url: str, next_url: str | None, base_url: str, total: int | None = None):
    """A searchset Bundle of ``entries`` with its paging links."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    out = {"resourceType": "Bundle", "type": "searchset", "timestamp": instant(clock.utcnow_naive()),
           "link": links,
           "entry": [{"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r,
                      "search": {"mode": "match"}} for r in entries]}
    if total is not None:
        out["total"] = total
    return out


__all__ = ["BIN_SYSTEM", "IIN_SYSTEM", "KATO_SYSTEM", "POSITION_SYSTEM", "SPECIALTY_SYSTEM", "bundle", "instant",
           "locations", "organizations", "practitioner_roles", "practitioners"]
