"""The register as FHIR R4 resources (the IHE mCSD profile's Practitioner, PractitionerRole,
Organization and Location; docs/api.md lists the identifier systems). Plain dicts, built for a page
of rows at a time with one query per related table (search pages and bulk export alike)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone

from sqlalchemy import Text, and_, case, cast, func, literal, select

from .. import clock
from ..certificates.models import Certificate
from ..education.models import EducationDocument, EducationInstitution
from ..extensions import db
from ..reference.models import EducationLevel, Specialty
from ..reference.services import code_and_name
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
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


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


def _worker_ids_clause(col, ids: list[int]):
    """SQL: ``col`` is one of ``ids``. A bulk export's chunk is a run of consecutive ids: a range
    (one index range scan, no 2,000 bound parameters to compile) where the ids are dense, else IN."""
    lo, hi = min(ids), max(ids)
    if hi - lo < 2 * len(ids):
        return col.between(lo, hi)
    return col.in_(ids)


def _coding_of(system: str, hit) -> dict | None:
    """A CodeableConcept of a cached ``(code, name)``."""
    if hit is None:
        return None
    code, name = hit
    return {"coding": [{"system": system, "code": code, "display": name}], "text": name}


def practitioners(rows) -> list[dict]:
    """Practitioner resources of worker rows (``PRACTITIONER_COLUMNS``, already scoped by the
    caller): the IIN as identifier, name, gender, date of birth; qualification = education documents
    and certificates in force, each with its period. One query per related table for all the rows
    (the classifiers' names from ``reference.services.code_and_name``). A bulk export builds 300,000
    of them: rows are unpacked as tuples (a named attribute of a row costs more than the dict it
    fills) and the dicts are built without empty members to clean afterwards."""
    rows = [tuple(r) for r in rows]
    ids = [r[0] for r in rows]
    certs, docs = defaultdict(list), defaultdict(list)
    if ids:
        wanted = set(ids)
        run = db.session.connection().execute  # Core: plain rows, no ORM loading for 300,000 of them
        for worker_id, *cert in run(  # .all(): one fetch of the chunk's rows, not a fetch per row
                select(Certificate.worker_id, Certificate.number, Certificate.specialty_id, Certificate.issue_date,
                       Certificate.valid_until, Certificate.issuer)
                .where(_worker_ids_clause(Certificate.worker_id, ids), Certificate.in_force)
                .order_by(Certificate.worker_id, Certificate.id)).all():
            if worker_id in wanted:
                certs[worker_id].append(cert)
        for worker_id, *doc in run(
                select(EducationDocument.worker_id, EducationDocument.series, EducationDocument.number,
                       EducationDocument.level_id, EducationDocument.issue_date, EducationInstitution.name)
                .outerjoin(EducationInstitution, EducationInstitution.id == EducationDocument.institution_id)
                .where(_worker_ids_clause(EducationDocument.worker_id, ids), EducationDocument.in_force)
                .order_by(EducationDocument.worker_id, EducationDocument.id)).all():
            if worker_id in wanted:
                docs[worker_id].append(doc)
    specialties = code_and_name(Specialty, {c[1] for cs in certs.values() for c in cs})
    levels = code_and_name(EducationLevel, {d[2] for ds in docs.values() for d in ds})
    out = []
    append = out.append
    for wid, iin, surname, name, patronymic, sex, birth_date, annulled_at, touched_at in rows:
        quals = []
        for series, number, level_id, issue_date, school in docs.get(wid, ()):
            q = {"identifier": [{"system": DIPLOMA_SYSTEM, "value": f"{series or ''}{number}"}]}
            code = _coding_of(EDUCATION_LEVEL_SYSTEM, levels.get(level_id))
            if code is not None:
                q["code"] = code
            if issue_date is not None:
                q["period"] = {"start": issue_date.isoformat()}
            if school:
                q["issuer"] = {"display": school}
            quals.append(q)
        for number, specialty_id, issue_date, valid_until, issuer in certs.get(wid, ()):
            q = {"identifier": [{"system": CERTIFICATE_SYSTEM, "value": number}]}
            code = _coding_of(SPECIALTY_SYSTEM, specialties.get(specialty_id))
            if code is not None:
                q["code"] = code
            period = _period(issue_date, valid_until)
            if period:
                q["period"] = period
            if issuer:
                q["issuer"] = {"display": issuer}
            quals.append(q)
        given = [p for p in (name, patronymic) if p]
        person = {"use": "official", "family": surname}
        if given:
            person["given"] = given
        person["text"] = full_name(surname, name, patronymic)
        resource = {"resourceType": "Practitioner", "id": str(wid)}
        if touched_at is not None:
            resource["meta"] = {"lastUpdated": instant(touched_at)}
        resource["identifier"] = [{"use": "official", "system": IIN_SYSTEM, "value": iin}]
        resource["active"] = annulled_at is None
        resource["name"] = [person]
        resource["gender"] = GENDER.get(sex, "unknown")
        if birth_date is not None:
            resource["birthDate"] = birth_date.isoformat()
        if quals:
            resource["qualification"] = quals
        append(resource)
    return out


# --- the Practitioners of a bulk export, written by PostgreSQL ---------------------------------------
# ``practitioners`` above is the definition; this is the same resource as SQL text expressions, for
# the bulk export of the country (``fhir_export``): Python building 300,000 nested dicts ran at 1/9 of a
# COPY of the same rows. ``tests/api/test_fhir.py`` checks that both give the same resources for the
# same workers; a member added to one is added to the other. The JSON is concatenated text: PostgreSQL's
# json_build_object costs ~0.5 µs per member (measured: 21 s for the country against 6 s so).

def _q(value):
    """SQL: ``value`` as a JSON string (``to_json`` escapes it; NULL stays NULL)."""
    return cast(func.to_json(value), Text)


def _t(text_: str):
    return literal(text_, Text)


def _opt(*parts):
    """SQL: the concatenation of ``parts``, or '' when one of them is NULL (an optional member)."""
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return func.coalesce(out, "")


def _code_member(model, system: str):
    """SELECT ``id, frag``: the ``"code"`` member of a qualification (``_coding_of``) per classifier row,
    made once per export instead of per record."""
    name = func.coalesce(model.name_column(), "")
    frag = (_t(f',"code":{{"coding":[{{"system":"{system}","code":') + _q(model.code)
            + _t(',"display":') + _q(name) + _t('}],"text":') + _q(name) + _t("}"))
    return select(model.id.label("id"), frag.label("frag")).subquery()


def practitioner_json_select(lo: int, hi: int):
    """``SELECT`` of one text column: the Practitioner of each worker with ``lo <= id < hi``, in id order,
    as the JSON text of ``practitioners`` (the caller adds the scope). Each worker's education documents
    and certificates in force are read in (worker, id) order along their worker indexes and grouped as
    they come (no sort of the country's rows)."""
    doc, cert, w = EducationDocument, Certificate, Worker
    levels, specialties = _code_member(EducationLevel, EDUCATION_LEVEL_SYSTEM), _code_member(Specialty, SPECIALTY_SYSTEM)
    schools = select(EducationInstitution.id.label("id"), case(
        (EducationInstitution.name != "", _t(',"issuer":{"display":') + _q(EducationInstitution.name) + _t("}")),
        else_="").label("frag")).subquery()

    d = (select(doc.worker_id, doc.id, doc.series, doc.number, doc.issue_date, doc.level_id, doc.institution_id)
         .where(doc.worker_id >= lo, doc.worker_id < hi, doc.in_force).order_by(doc.worker_id, doc.id).subquery("d"))
    diploma = (_t(f'{{"identifier":[{{"system":"{DIPLOMA_SYSTEM}","value":') + _q(func.coalesce(d.c.series, "") + d.c.number)
               + _t("}]") + func.coalesce(levels.c.frag, "") + _opt(_t(',"period":{"start":"'), cast(d.c.issue_date, Text),
                                                                      _t('"}')) + func.coalesce(schools.c.frag, "") + _t("}"))
    docs = (select(d.c.worker_id.label("worker_id"), func.string_agg(diploma, _t(",")).label("q"))
            .select_from(d).outerjoin(levels, levels.c.id == d.c.level_id).outerjoin(schools, schools.c.id == d.c.institution_id)
            .group_by(d.c.worker_id).subquery("docs"))

    c = (select(cert.worker_id, cert.id, cert.number, cert.issue_date, cert.valid_until, cert.issuer, cert.specialty_id)
         .where(cert.worker_id >= lo, cert.worker_id < hi, cert.in_force).order_by(cert.worker_id, cert.id).subquery("c"))
    certificate = (_t(f'{{"identifier":[{{"system":"{CERTIFICATE_SYSTEM}","value":') + _q(c.c.number) + _t("}]")
                   + func.coalesce(specialties.c.frag, "") + _t(',"period":{"start":"') + cast(c.c.issue_date, Text) + _t('"')
                   + _opt(_t(',"end":"'), cast(c.c.valid_until, Text), _t('"')) + _t("}")
                   + case((c.c.issuer != "", _t(',"issuer":{"display":') + _q(c.c.issuer) + _t("}")), else_="") + _t("}"))
    certs = (select(c.c.worker_id.label("worker_id"), func.string_agg(certificate, _t(",")).label("q"))
             .select_from(c).outerjoin(specialties, specialties.c.id == c.c.specialty_id)
             .group_by(c.c.worker_id).subquery("certs"))

    named = func.coalesce(w.name, "") != ""
    patronymic = func.coalesce(w.patronymic, "") != ""
    given = case((and_(named, patronymic), _t(',"given":[') + _q(w.name) + _t(",") + _q(w.patronymic) + _t("]")),
                 (named, _t(',"given":[') + _q(w.name) + _t("]")),
                 (patronymic, _t(',"given":[') + _q(w.patronymic) + _t("]")), else_="")
    full = func.concat_ws(" ", func.nullif(w.surname, ""), func.nullif(w.name, ""), func.nullif(w.patronymic, ""))
    resource = (_t('{"resourceType":"Practitioner","id":"') + cast(w.id, Text) + _t('"')
                + _opt(_t(',"meta":{"lastUpdated":"'), func.to_char(w.touched_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), _t('"}'))
                + _t(f',"identifier":[{{"use":"official","system":"{IIN_SYSTEM}","value":') + _q(w.iin) + _t("}]")
                + case((w.annulled_at.is_(None), ',"active":true'), else_=',"active":false')
                + _t(',"name":[{"use":"official","family":') + _q(w.surname) + given
                + _t(',"text":') + _q(full) + _t("}]")
                + case((w.sex == "M", ',"gender":"male"'), (w.sex == "F", ',"gender":"female"'), else_=',"gender":"unknown"')
                + _opt(_t(',"birthDate":"'), cast(w.birth_date, Text), _t('"'))
                + case((and_(docs.c.q.is_(None), certs.c.q.is_(None)), "}"),
                       else_=_t(',"qualification":[') + func.concat_ws(",", docs.c.q, certs.c.q) + _t("]}")))
    return (select(resource).select_from(w).outerjoin(docs, docs.c.worker_id == w.id)
            .outerjoin(certs, certs.c.worker_id == w.id).where(w.id >= lo, w.id < hi).order_by(w.id))


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
