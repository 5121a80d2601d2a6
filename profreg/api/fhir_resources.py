"""The register as FHIR R4 resources (the IHE mCSD profile's Practitioner, PractitionerRole,
Organization and Location; docs/api.md lists the identifier systems). Plain dicts, built for a page
of rows at a time with one query per related table (search pages and bulk export alike)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone

from sqlalchemy import select

from .. import clock
from ..certificates.models import Certificate
from ..education.models import EducationDocument
from ..extensions import db

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


def _by_worker(model, worker_ids, *conditions):
    out = defaultdict(list)
    if not worker_ids:
        return out
    rows = db.session.execute(select(model).where(model.worker_id.in_(worker_ids), *conditions)
                              .order_by(model.worker_id, model.id)).scalars().all()
    for r in rows:
        out[r.worker_id].append(r)
    return out


def practitioners(workers) -> list[dict]:
    """Practitioner resources of ``workers`` (already scoped by the caller): the IIN as identifier,
    name, gender, date of birth; qualification = education documents and certificates in force, each
    with its period."""
    ids = [w.id for w in workers]
    certs = _by_worker(Certificate, ids, Certificate.in_force)
    docs = _by_worker(EducationDocument, ids, EducationDocument.in_force)
    out = []
    for w in workers:
        quals = []
        for d in docs.get(w.id, ()):
            quals.append(_clean({
                "identifier": [{"system": DIPLOMA_SYSTEM, "value": f"{d.series or ''}{d.number}"}],
                "code": _coding(EDUCATION_LEVEL_SYSTEM, d.level),
                "period": _period(d.issue_date, None),
                "issuer": {"display": d.institution.name} if d.institution is not None else None}))
        for c in certs.get(w.id, ()):
            quals.append(_clean({
                "identifier": [{"system": CERTIFICATE_SYSTEM, "value": c.number}],
                "code": _coding(SPECIALTY_SYSTEM, c.specialty),
                "period": _period(c.issue_date, c.valid_until),
                "issuer": {"display": c.issuer} if c.issuer else None}))
        given = [p for p in (w.name, w.patronymic) if p]
        out.append(_clean({
            "resourceType": "Practitioner", "id": str(w.id),
            "meta": {"lastUpdated": instant(w.touched_at)},
            "identifier": [{"use": "official", "system": IIN_SYSTEM, "value": w.iin}],
            "active": w.annulled_at is None,
            "name": [_clean({"use": "official", "family": w.surname, "given": given, "text": w.full_name})],
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
