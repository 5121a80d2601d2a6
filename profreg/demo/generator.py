"""A deterministic synthetic country for demos, tests and benchmarks.

Bulk inserts through SQLAlchemy Core with explicit ids (PostgreSQL sequences are moved past them at the
end), so 300,000 workers load in minutes. The same seed always gives the same country.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, insert, select, text

from .. import clock
from ..access import Role
from ..auth.models import User
from ..auth.services import create_user
from ..extensions import db
from ..identity import make_bin, make_iin
from ..models import (
    AcademicDegree,
    AcademicDegreeType,
    AdminUnit,
    Certificate,
    Country,
    CpdRecord,
    EducationDocument,
    EducationInstitution,
    EducationLevel,
    Employment,
    EmploymentEndReason,
    IdentityDocumentType,
    LabourCodeGround,
    Organization,
    OrganizationType,
    OwnershipForm,
    Position,
    Publication,
    PublicationType,
    QualificationCategory,
    QualificationCategoryType,
    Specialty,
    StaffingPosition,
    TrainingActivityType,
    Worker,
)
from ..workers.models import sort_key
from . import names as N

CHUNK = 5000

# position code -> specialties it is filled with
POSITION_SPECIALTIES = {
    "DOCTOR": ["THERAPY", "PEDIATRICS", "SURGERY", "OBGYN", "ANESTH", "CARDIO", "NEURO", "PSYCH", "ONCO",
               "RADIOL", "EMERG", "INFECT", "DENT", "OPHTH"],
    "GP": ["GEN_MED"], "HEAD_DEPT": ["THERAPY", "SURGERY", "PEDIATRICS", "CARDIO"], "RESIDENT": ["THERAPY", "SURGERY"],
    "NURSE": ["NURSING"], "SENIOR_NURSE": ["NURSING"], "MIDWIFE": ["MIDWIFE"], "PARAMEDIC": ["EMERG"],
    "LAB_TECH": ["LABDIAG"], "PHARMACIST": ["PHARM"], "PHARM_TECH": ["PHARM"],
    "CHIEF_DOCTOR": ["PUBHEALTH"], "DEPUTY_CHIEF": ["PUBHEALTH"], "HR_SPEC": [None], "ECONOMIST": [None],
}
POSITION_WEIGHTS = {"DOCTOR": 24, "GP": 6, "HEAD_DEPT": 3, "RESIDENT": 2, "NURSE": 38, "SENIOR_NURSE": 4,
                    "MIDWIFE": 4, "PARAMEDIC": 5, "LAB_TECH": 4, "PHARMACIST": 2, "PHARM_TECH": 2,
                    "CHIEF_DOCTOR": 1, "DEPUTY_CHIEF": 1, "HR_SPEC": 2, "ECONOMIST": 2}
DEMO_PASSWORD = "Demo-Register-2026"


def _bulk(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[i:i + CHUNK])


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _ref(model) -> dict:
    return {r.code: r for r in db.session.execute(select(model)).scalars()}


def _kz_surname(rng, sex):
    stem = rng.choice(N.KZ_SURNAME_STEMS)
    suffix = "ов" if stem[-1] not in "аеиоуәөұүыі" else "в"
    if stem.endswith(("бай", "жан", "ғали", "бек")):
        suffix = "ев" if stem.endswith("й") else "ов"
    return stem + suffix + ("а" if sex == "F" else "")


def _ru_surname(rng, sex):
    stem = rng.choice(N.RU_SURNAME_STEMS)
    base = stem if stem.endswith(("ов", "ев")) else stem + "ов"
    return base + ("а" if sex == "F" else "")


def _patronymic(rng, sex, kazakh):
    father = rng.choice(N.KZ_MALE if kazakh else N.RU_MALE)
    if kazakh:
        return father + ("ұлы" if sex == "M" else "қызы") if rng.random() < 0.5 else \
            father + ("ович" if sex == "M" else "овна")
    return father + ("ович" if sex == "M" else "овна")


def generate(workers: int = 300, seed: int = 1, today: date | None = None, progress=None) -> dict:
    """Build the synthetic country. Reference data must be loaded. Returns row counts."""
    rng = random.Random(seed)
    today = today or clock.today()
    say = progress or (lambda msg: None)
    regions = [u for u in db.session.execute(select(AdminUnit).where(AdminUnit.level == 1)
                                             .order_by(AdminUnit.code)).scalars()]
    pop_weights = [u.population or 500_000 for u in regions]
    # the districts of each region (rule 4.1), in code order: organizations are spread over them in turn
    districts: dict[int, list[AdminUnit]] = {}
    for d in db.session.execute(select(AdminUnit).where(AdminUnit.level == 2).order_by(AdminUnit.code)).scalars():
        districts.setdefault(d.parent_id, []).append(d)
    positions, specialties = _ref(Position), _ref(Specialty)
    org_types, owners = list(_ref(OrganizationType).values()), list(_ref(OwnershipForm).values())
    reasons, countries = _ref(EmploymentEndReason), _ref(Country)
    grounds = _ref(LabourCodeGround)

    def ending(code):
        """(ground id, category) of an ending, by the mapping of the reasons used before issue 20.6."""
        reason = reasons[code]
        ground = grounds.get(reason.ground_code or "")
        return ground.id if ground else None, reason.category
    levels, acts = _ref(EducationLevel), _ref(TrainingActivityType)
    qcats, deg_types = list(_ref(QualificationCategoryType).values()), list(_ref(AcademicDegreeType).values())
    pub_types, id_types = list(_ref(PublicationType).values()), _ref(IdentityDocumentType)
    counts: dict[str, int] = {}

    # organizations ------------------------------------------------------------------------------
    n_orgs = max(20, workers // 150)
    org_id0 = _next_id(Organization)
    orgs, used_bins = [], set(db.session.execute(select(Organization.bin)).scalars())
    serial, taken = 1, {}
    for i in range(n_orgs):
        region = regions[i] if i < len(regions) else rng.choices(regions, pop_weights)[0]
        otype = org_types[i % len(org_types)]
        while True:
            b = make_bin(1995 + rng.randrange(28), rng.randrange(1, 13), serial, kind=rng.choice(["40", "41", "50"]))
            serial += 1
            if b and b not in used_bins:
                used_bins.add(b)
                break
        city = region.name_ru.replace("область", "").replace("город", "").strip()
        # every 10th organization is left without a district: the reports' "district not set" line; the
        # choice does not draw on ``rng``, so the rest of the synthetic country is the same as before
        own, turn = districts.get(region.id) or [], taken.get(region.id, 0)
        district = own[turn % len(own)] if own and i % 10 != 9 else None
        taken[region.id] = turn + 1
        orgs.append({"id": org_id0 + i, "bin": b, "unit_id": (district or region).id, "region_id": region.id,
                     "district_id": district.id if district is not None else None,
                     "type_id": otype.id, "ownership_id": rng.choice(owners).id,
                     "name_ru": f"{otype.name_ru} № {i + 1} ({city})",
                     "name_kk": f"№ {i + 1} {otype.name_kk} ({region.name_kk})",
                     "name_en": f"{otype.name_en} No. {i + 1} ({region.name_en})",
                     "address": f"{rng.choice(N.STREETS)}, {rng.randrange(1, 200)}"})
    _bulk(Organization, orgs)
    counts["organizations"] = len(orgs)
    say(f"organizations: {len(orgs)}")
    orgs_by_region: dict[int, list[dict]] = {}
    for o in orgs:
        orgs_by_region.setdefault(o["region_id"], []).append(o)

    # education institutions ---------------------------------------------------------------------
    inst_ids = []
    for name, name_en, bin_ in N.INSTITUTIONS:
        existing = db.session.execute(select(EducationInstitution.id).where(EducationInstitution.name == name)).scalar()
        if existing is None:
            inst = EducationInstitution(name=name, name_en=name_en, bin=None, kind="education",
                                        country_id=(countries["RU"] if bin_ is None else countries["KZ"]).id)
            db.session.add(inst)
            db.session.flush()
            existing = inst.id
        inst_ids.append(existing)

    # workers and their records ------------------------------------------------------------------
    pos_codes = list(POSITION_WEIGHTS)
    pos_w = [POSITION_WEIGHTS[c] for c in pos_codes]
    used_iins = set(db.session.execute(select(Worker.iin)).scalars())
    w_id, e_id, c_id = _next_id(Worker), _next_id(Employment), _next_id(Certificate)
    rows: dict[str, list] = {k: [] for k in ("w", "e", "c", "edu", "cpd", "qc", "deg", "pub")}
    occupied: dict[tuple, Decimal] = {}
    exit_reasons = ["OWN_WISH", "LEAVE_SECTOR", "EMIGRATION", "RETIREMENT", "DEATH", "DISMISSAL", "CONTRACT_END"]
    kz, others = countries["KZ"], [countries[c] for c in ("RU", "KG", "UZ") if c in countries]
    iin_serial = rng.randrange(1000)

    def flush_rows():
        for key, model in (("w", Worker), ("e", Employment), ("c", Certificate), ("edu", EducationDocument),
                           ("cpd", CpdRecord), ("qc", QualificationCategory), ("deg", AcademicDegree),
                           ("pub", Publication)):
            if rows[key]:
                _bulk(model, rows[key])
                counts[key] = counts.get(key, 0) + len(rows[key])
                rows[key] = []

    now = clock.utcnow_naive()
    for k in range(workers):
        sex = "F" if rng.random() < 0.74 else "M"
        kazakh = rng.random() < 0.72
        birth = date(1956, 1, 1) + timedelta(days=rng.randrange(0, 46 * 365))
        while True:
            iin_serial += 1
            iin = make_iin(birth, sex, iin_serial)
            if iin and iin not in used_iins:
                used_iins.add(iin)
                break
        surname = _kz_surname(rng, sex) if kazakh else _ru_surname(rng, sex)
        first = rng.choice((N.KZ_FEMALE if sex == "F" else N.KZ_MALE) if kazakh else
                           (N.RU_FEMALE if sex == "F" else N.RU_MALE))
        citizen = kz if rng.random() < 0.985 or not others else rng.choice(others)
        wid = w_id + k
        first_hire = max(date(birth.year + 21, birth.month, min(birth.day, 28)),
                         date(2000, 1, 1) + timedelta(days=rng.randrange(0, 9000)))
        first_hire = min(first_hire, today - timedelta(days=rng.randrange(1, 60)))
        created = datetime.combine(first_hire, datetime.min.time())
        rows["w"].append({
            "id": wid, "iin": iin, "surname": surname, "surname_folded": surname.casefold(),
            "surname_key": sort_key(surname), "name": first,
            "patronymic": _patronymic(rng, sex, kazakh) if rng.random() < 0.95 else None, "sex": sex,
            "birth_date": birth, "birth_place": rng.choice(N.BIRTH_PLACES), "citizenship_id": citizen.id,
            "id_doc_type_id": id_types["ID_CARD" if citizen is kz else "RESIDENCE_PERMIT"].id,
            "id_doc_number": f"{rng.randrange(10**8, 10**9)}", "id_doc_issuer": "МВД РК",
            "id_doc_issued": today - timedelta(days=rng.randrange(30, 3600)),
            "id_doc_expires": today + timedelta(days=rng.randrange(30, 3600)),
            "residence_address": f"{rng.choice(N.BIRTH_PLACES)}, {rng.choice(N.STREETS)}, {rng.randrange(1, 150)}",
            "registration_place": rng.choice(N.BIRTH_PLACES), "registration_date": first_hire,
            "email": f"w{wid}@mail.example.kz" if rng.random() < 0.6 else None,
            "phone": f"+7 7{rng.randrange(0, 100):02d} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}",
            "locale": rng.choice(["kk", "ru", "ru"]), "status": "active", "version": 1,
            "created_at": created, "updated_at": max(created, now - timedelta(days=rng.randrange(0, 900))),
            # rule 13: most records were confirmed as current at some point, some never
            "confirmed_at": max(created, now - timedelta(days=rng.randrange(0, 700))) if rng.random() < 0.7 else None,
        })
        pos_code = rng.choices(pos_codes, pos_w)[0]
        spec_code = rng.choice(POSITION_SPECIALTIES[pos_code])
        spec = specialties.get(spec_code) if spec_code else None
        pos = positions[pos_code]
        region = rng.choices(regions, pop_weights)[0]
        org = rng.choice(orgs_by_region.get(region.id) or orgs)
        # employment history: maybe a previous episode ended by transfer, maybe an exit now
        hire = first_hire
        if rng.random() < 0.22 and (today - hire).days > 400:
            prev_org = rng.choice(orgs) if rng.random() < 0.3 else rng.choice(orgs_by_region.get(region.id) or orgs)
            end = hire + timedelta(days=rng.randrange(200, max(201, (today - hire).days - 30)))
            rows["e"].append(_episode(e_id, wid, surname, prev_org, pos, spec, hire, end, ending("TRANSFER"), rng))
            e_id += 1
            hire = end + timedelta(days=1)
        end, reason = None, (None, None)
        if rng.random() < 0.07:
            end = min(today - timedelta(days=1), hire + timedelta(days=rng.randrange(30, 3000)))
            end = max(end, hire)
            reason = ending(rng.choice(exit_reasons))
        rows["e"].append(_episode(e_id, wid, surname, org, pos, spec, hire, end, reason, rng))
        e_id += 1
        if end is None:
            key = (org["id"], pos.id, spec.id if spec else None)
            occupied[key] = occupied.get(key, Decimal(0)) + Decimal("1.00")
        if rng.random() < 0.05 and end is None:  # concurrent part-time episode
            org2 = rng.choice(orgs_by_region.get(region.id) or orgs)
            h2 = today - timedelta(days=rng.randrange(10, 900))
            ep = _episode(e_id, wid, surname, org2, pos, spec, max(h2, hire), None, (None, None), rng)
            ep["fte"], ep["is_main"] = Decimal("0.50"), False
            rows["e"].append(ep)
            e_id += 1
        # certificate(s): end dates spread over the past and next three years
        if pos.is_clinical and spec is not None:
            valid_until = today + timedelta(days=rng.randrange(-3 * 365, 3 * 365))
            issue = valid_until - timedelta(days=5 * 365)
            rows["c"].append({"id": c_id, "worker_id": wid, "number": f"KZ{c_id:09d}", "specialty_id": spec.id,
                              "issuer": "НЦНЭ МЗ РК", "issue_date": issue, "valid_until": valid_until,
                              "created_at": now})
            c_id += 1
            if valid_until < today and rng.random() < 0.6:  # renewed: a new certificate, old one kept
                rows["c"].append({"id": c_id, "worker_id": wid, "number": f"KZ{c_id:09d}",
                                  "specialty_id": spec.id, "issuer": "НЦНЭ МЗ РК", "issue_date": valid_until,
                                  "valid_until": valid_until + timedelta(days=5 * 365), "created_at": now})
                c_id += 1
        # education
        higher = pos.group in ("doctor", "manager", "pharmacist") and pos_code != "PHARM_TECH"
        lvl = levels["BACHELOR" if higher else "TVET"]
        grad = min(today.year - 1, birth.year + (23 if higher else 20))
        rows["edu"].append({"worker_id": wid, "kind": "general", "level_id": lvl.id,
                            "institution_id": rng.choice(inst_ids[:7] if higher else inst_ids[7:9]),
                            "specialty_id": spec.id if spec else None,
                            "qualification": spec.name_ru if spec else "Экономист", "series": "ЖБ",
                            "number": f"{rng.randrange(10**7, 10**8)}", "issue_date": date(grad, 6, 30),
                            "graduation_year": grad})
        if higher and pos.group == "doctor":
            rows["edu"].append({"worker_id": wid, "kind": "postgraduate", "level_id": levels["RESIDENCY"].id,
                                "institution_id": rng.choice(inst_ids[:7]), "specialty_id": spec.id if spec else None,
                                "qualification": spec.name_ru if spec else None, "series": "РЗ",
                                "number": f"{rng.randrange(10**7, 10**8)}", "issue_date": date(grad + 2, 6, 30),
                                "graduation_year": grad + 2})
        # CPD
        for _ in range(rng.randrange(0, 5)):
            act = rng.choice(list(acts.values()))
            start = today - timedelta(days=rng.randrange(10, 6 * 365))
            hours = Decimal(rng.choice([8, 16, 24, 36, 54, 72, 108, 144]))
            rows["cpd"].append({"worker_id": wid, "activity_type_id": act.id,
                                "specialty_id": spec.id if spec else None, "provider": rng.choice(N.INSTITUTIONS)[0],
                                "topic": f"{act.name_ru}: {spec.name_ru if spec else 'управление'}",
                                "start_date": start, "end_date": start + timedelta(days=rng.randrange(0, 20)),
                                "hours": hours, "credits": hours / 2,
                                "certificate_number": f"CPD-{wid}-{rng.randrange(1000)}"})
        if pos.is_clinical and rng.random() < 0.3:
            award = today - timedelta(days=rng.randrange(30, 4 * 365))
            rows["qc"].append({"worker_id": wid, "category_id": rng.choice(qcats).id,
                               "specialty_id": spec.id if spec else None, "award_date": award,
                               "valid_until": award + timedelta(days=5 * 365),
                               "order_number": f"{rng.randrange(1, 999)}-к"})
        if pos.group == "doctor" and rng.random() < 0.03:
            rows["deg"].append({"worker_id": wid, "degree_type_id": rng.choice(deg_types).id,
                                "field": spec.name_ru if spec else None,
                                "award_date": today - timedelta(days=rng.randrange(100, 7000)),
                                "diploma_number": f"ДК {rng.randrange(10**5, 10**6)}"})
        if pos.group == "doctor" and rng.random() < 0.05:
            rows["pub"].append({"worker_id": wid, "type_id": rng.choice(pub_types).id,
                                "title": f"Клинический опыт: {spec.name_ru if spec else ''} ({k})",
                                "journal": "Вестник КазНМУ", "year": today.year - rng.randrange(0, 10),
                                "scopus": rng.random() < 0.2, "wos": rng.random() < 0.1})
        if len(rows["w"]) >= CHUNK:
            flush_rows()
            if (k + 1) % 50_000 < CHUNK:
                say(f"workers: {k + 1:,}/{workers:,}")
    flush_rows()
    counts["workers"] = counts.pop("w", 0)
    counts["employment"] = counts.pop("e", 0)
    counts["certificates"] = counts.pop("c", 0)

    # staffing tables: occupied FTE plus vacancies ------------------------------------------------
    staff = []
    for (org_id, pos_id, spec_id), fte in occupied.items():
        extra = Decimal(rng.choice([0, 0, 0.5, 1, 1, 2]))
        staff.append({"organization_id": org_id, "position_id": pos_id, "specialty_id": spec_id,
                      "approved_fte": fte + extra, "valid_from": date(today.year, 1, 1)})
    _bulk(StaffingPosition, staff)
    counts["staffing"] = len(staff)
    _reset_sequences()
    return counts


def _episode(eid, wid, surname, org, pos, spec, hire, end, ending, rng):
    late = rng.random() < 0.12
    entered = datetime.combine(hire, datetime.min.time()) + timedelta(days=rng.randrange(4, 20) if late else
                                                                      rng.randrange(0, 3), hours=10)
    return {"id": eid, "worker_id": wid, "worker_surname_key": sort_key(surname), "organization_id": org["id"],
            "region_id": org["region_id"], "position_id": pos.id,
            "specialty_id": spec.id if spec else None, "department": None, "fte": Decimal("1.00"),
            "hire_date": hire, "end_date": end, "end_ground_id": ending[0], "end_category": ending[1],
            "is_main": True,
            "order_number": f"{rng.randrange(1, 999)}-лс", "entered_at": entered}


def _reset_sequences():
    """After inserts with explicit ids, move PostgreSQL sequences past the max id."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("organization", "worker", "employment", "certificate"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))


DEMO_USERS = [
    ("admin@profreg.kz", Role.ADMIN, None), ("ministry@profreg.kz", Role.MINISTRY, None),
    ("region@profreg.kz", Role.REGION, "region"), ("head@profreg.kz", Role.ORG_HEAD, "org"),
    ("hrchief@profreg.kz", Role.HR_CHIEF, "org"), ("hr@profreg.kz", Role.HR, "org"),
    ("association@profreg.kz", Role.ASSOCIATION, None), ("mis@profreg.kz", Role.INTEGRATION, None),
    # a region coordinator limited to the demo organization's district (rule 4.1)
    ("district@profreg.kz", Role.REGION, "district"),
    ("authority@profreg.kz", Role.AUTHORITY, None),
]


def create_demo_users(password: str = DEMO_PASSWORD) -> list[tuple[str, str]]:
    """One user per role; the org roles work in the first organization of Astana."""

    astana = db.session.execute(select(AdminUnit).where(AdminUnit.code == "710000000")).scalar_one()
    org = db.session.execute(select(Organization).where(Organization.region_id == astana.id)
                             .order_by(Organization.id)).scalars().first()
    specs = db.session.execute(select(Specialty).where(Specialty.code.in_(["THERAPY", "CARDIO", "NURSING"]))).scalars().all()
    out = []
    for email, role, scope in DEMO_USERS:
        if db.session.execute(select(User.id).where(User.email == email)).first():
            out.append((email, role))
            continue
        district = org.district if org is not None and scope == "district" else None
        if scope == "district" and district is None:
            continue  # no organization with a district in Astana: no district coordinator
        create_user(email, role, password, organization=org if scope == "org" else None,
                    region=astana if scope in ("region", "district") else None, district=district,
                    specialties=specs if role == Role.ASSOCIATION else (), must_change=False)
        out.append((email, role))
    return out


def echo_progress(msg: str) -> None:
    click.echo(f"  {msg}")
