"""The JSON API under ``/api/v1/`` (docs/api.md): bearer tokens, RFC 9457 errors, rate limits per
token, the OpenAPI document at ``/api/v1/openapi.json`` (spectree, from the pydantic models of
``schemas.py``). Thin: parse, call ``api.services`` (and through them the panel's services), shape.

The API does not use the session cookie: a request is the token's user (``g._login_user``, which is
where Flask-Login and the audit trail look), or it is refused with 401. It is exempt from CSRF (no
cookie, so no cross-site forgery to guard against).
"""
from __future__ import annotations

from datetime import timezone

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from .. import access
from ..education.models import EducationDocument, EducationInstitution
from ..errors import InvalidInput, NotAllowed
from ..extensions import csrf, db, limiter
from ..reference.models import (
    Country,
    EducationLevel,
    IdentityDocumentType,
    LabourCodeGround,
    Position,
)
from ..training.models import CpdRecord
from ..workers.models import Employment, Worker
from ..workers.services import register_worker
from . import services
from .fhir import bp as fhir_bp
from .http import (
    drop_stray_retry_after,
    forget,
    identify,
    install_error_handlers,
    rate,
    rate_key,
    spectree_before,
    user,
)
from .schemas import (
    AdmissionOut,
    AdmissionQuery,
    CertificateIn,
    CertificateOut,
    CertificateRef,
    ChangeOut,
    ChangesPage,
    ChangesQuery,
    ContactsIn,
    CpdOut,
    EducationOut,
    EndIn,
    EpisodeCreated,
    EpisodeOut,
    HireIn,
    OrganizationOut,
    OrganizationsPage,
    PageQuery,
    Problem,
    RegisterIn,
    WorkerDetail,
    WorkerOut,
    WorkersPage,
    WorkersQuery,
)

# ------------------------------------------------------------------------------------------ the spec
spec = SpecTree(
    "flask", path="api/v1/docs", title="profreg API", version="1",
    description="The Professional Register of health workers of Kazakhstan: the JSON API (docs/api.md).",
    mode="strict", annotations=True, before=spectree_before,
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer", description="flask --app app profreg api-token create"))],
    security={"bearer": []},
)
READ_ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_422": Problem, "HTTP_429": Problem}
ONE_ERRORS = {**READ_ERRORS, "HTTP_404": Problem}
WRITE_ERRORS = {**ONE_ERRORS, "HTTP_412": Problem}

bp = Blueprint("api", __name__, url_prefix="/api/v1")
install_error_handlers(bp)


# ------------------------------------------------------------------------------------------ shapes
def utc(moment):
    """A stored naive UTC moment as an aware one (RFC 3339 with its offset)."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


def _code(row) -> str | None:
    return getattr(row, "code", None) if row is not None else None


def worker_out(u, w: Worker, model=WorkerOut, **extra):
    masked = access.mask_for(u)
    return model(iin=access.mask_iin(w.iin) if masked else w.iin, surname=w.surname, name=w.name,
                 patronymic=w.patronymic, sex=None if masked else w.sex, birth_date=None if masked else w.birth_date,
                 status=w.status, updated_at=utc(w.touched_at), etag=services.etag(w), **extra)


def episode_out(e: Employment) -> EpisodeOut:
    return EpisodeOut(id=e.id, organization=e.organization.bin, organization_name=e.organization.name,
                      position=e.position.code, specialty=_code(e.specialty), hire_date=e.hire_date,
                      end_date=e.end_date, end_ground=_code(e.end_ground), end_category=e.end_category,
                      end_reason=_code(e.end_reason), fte=float(e.fte or 0),
                      concurrent=bool(e.concurrent), blocked=e.blocked_at is not None)


def worker_detail(u, w: Worker) -> WorkerDetail:
    episodes = [episode_out(e) for e in services.records(u, w, Employment)]
    education = [EducationOut(id=d.id, kind=d.kind, level=d.level.code, institution=d.institution.name,
                              specialty=_code(d.specialty), qualification=d.qualification, number=d.number,
                              issue_date=d.issue_date, graduation_year=d.graduation_year)
                 for d in services.records(u, w, EducationDocument)]
    certificates = [CertificateOut(id=c.id, number=c.number, specialty=c.specialty.code, issuer=c.issuer,
                                   issue_date=c.issue_date, valid_until=c.valid_until)
                    for c in services.records(u, w, services.Certificate)]
    cpd = [CpdOut(id=r.id, activity_type=r.activity_type.code, specialty=_code(r.specialty), provider=r.provider,
                  topic=r.topic, start_date=r.start_date, end_date=r.end_date, hours=float(r.hours or 0),
                  credits=float(r.credits) if r.credits is not None else None)
           for r in services.records(u, w, CpdRecord)]
    return worker_out(u, w, WorkerDetail, episodes=episodes, education=education, certificates=certificates, cpd=cpd)


def org_out(o) -> OrganizationOut:
    return OrganizationOut(bin=o.bin, name=o.name, name_kk=o.name_kk, name_ru=o.name_ru, name_en=o.name_en,
                           type=_code(o.type), region=_code(o.region), unit=_code(o.unit),
                           parent=o.parent.bin if o.parent is not None else None)


def _with_etag(model, w: Worker, status: int = 200):
    return model, status, {"ETag": f'"{services.etag(w)}"'}


def _if_match() -> str | None:
    return request.headers.get("If-Match")


# ------------------------------------------------------------------------------------------- reads
@bp.get("/workers")
@spec.validate(query=WorkersQuery, resp=Response(HTTP_200=WorkersPage, **READ_ERRORS), tags=["workers"])
def workers(query: WorkersQuery):
    """Workers in the token's scope, in a stable order, a page at a time (``next_cursor``)."""
    u = user()
    if not (access.can(u, "worker", access.LIST) or access.can(u, "worker_record", access.LIST)):
        raise NotAllowed()
    filters = services.WorkerFilters(iin=query.iin, surname=query.surname, org=query.org, region=query.region,
                                     status=query.status, updated_since=query.updated_since)
    if filters.updated_since is not None and filters.updated_since.tzinfo is not None:
        filters.updated_since = filters.updated_since.astimezone(timezone.utc).replace(tzinfo=None)
    rows, nxt = services.workers_page(u, filters, query.cursor, query.limit)
    return WorkersPage(items=[worker_out(u, w) for w in rows], next_cursor=nxt)


@bp.get("/workers/<iin>")
@spec.validate(resp=Response(HTTP_200=WorkerDetail, **ONE_ERRORS), tags=["workers"])
def worker(iin: str):
    """One worker: personal data, episodes, education, certificates and CPD (what the role reads)."""
    u = user()
    w = services.worker_by_iin(u, iin)
    return _with_etag(worker_detail(u, w), w)


@bp.get("/admission")
@spec.validate(query=AdmissionQuery, resp=Response(HTTP_200=AdmissionOut, **ONE_ERRORS), tags=["admission"])
def admission(query: AdmissionQuery):
    """Is the worker admitted to practise in the specialty on the day (rule 14.5)? The register's one
    rule (``certificates.services``), as the panel and the sweep apply it."""
    a = services.admission(user(), iin=query.iin, specialty_code=query.specialty, on=query.on)
    cert = a.certificate
    return AdmissionOut(admitted=a.admitted, reason=a.reason, blocked=a.blocked,
                        certificate=CertificateRef(number=cert.number, specialty=cert.specialty.code,
                                                   valid_until=cert.valid_until) if cert is not None else None)


@bp.get("/organizations")
@spec.validate(query=PageQuery, resp=Response(HTTP_200=OrganizationsPage, **READ_ERRORS), tags=["organizations"])
def organizations(query: PageQuery):
    """Organizations in the token's scope, by id, a page at a time."""
    u = user()
    access.require(u, "organization", access.LIST)
    after = services.decode_cursor(query.cursor)
    q = services.organizations_query(u).where(services.Organization.id > after) \
        .order_by(services.Organization.id).limit(query.limit + 1)
    rows = db.session.execute(q).scalars().all()
    nxt = services.encode_cursor(rows[query.limit - 1].id) if len(rows) > query.limit else None
    return OrganizationsPage(items=[org_out(o) for o in rows[:query.limit]], next_cursor=nxt)


@bp.get("/organizations/<bin_>")
@spec.validate(resp=Response(HTTP_200=OrganizationOut, **ONE_ERRORS), tags=["organizations"])
def organization(bin_: str):
    u = user()
    access.require(u, "organization", access.DETAILS)
    return org_out(services.organization_by_bin(u, bin_))


@bp.get("/changes")
@spec.validate(query=ChangesQuery, resp=Response(HTTP_200=ChangesPage, **READ_ERRORS), tags=["changes"])
def changes(query: ChangesQuery):
    """The ordered feed of changes to workers in the token's scope after ``since`` (incremental sync):
    pass the answer's ``next_cursor`` as the next ``since``."""
    u = user()
    if not (access.can(u, "worker", access.LIST) or access.can(u, "worker_record", access.LIST)):
        raise NotAllowed()
    rows, nxt = services.changes(u, query.since, query.limit)
    masked = access.mask_for(u)
    items = [ChangeOut(cursor=services.encode_cursor(e.id), at=utc(e.at), type=services.event_type(e),
                       iin=access.mask_iin(w.iin) if masked else w.iin, record=e.table_name, record_id=e.record_id)
             for e, w in rows]
    return ChangesPage(items=items, next_cursor=nxt)


# ------------------------------------------------------------------------------------------ writes
def _specialty(code):
    return services.specialty_by_code(code) if code else None


@bp.post("/workers")
@spec.validate(json=RegisterIn, resp=Response(HTTP_201=EpisodeCreated, **WRITE_ERRORS), tags=["workers"])
def register_and_hire(json: RegisterIn):
    """Register a new worker and hire him into the token's organization (the panel's Create: rule 8's
    entry data, at least one education document, the admission rule on a clinical post)."""
    u = user()
    access.require(u, "worker", access.CREATE)
    access.require(u, "employment", access.CREATE)
    if u.organization is None:
        raise NotAllowed()
    doc = json.id_document
    w = Worker(iin=json.iin, surname=json.surname.strip(), name=json.name.strip(), patronymic=json.patronymic,
               sex=json.sex, birth_date=json.birth_date, birth_place=json.birth_place,
               citizenship=services.reference_by_code(Country, json.citizenship, "citizenship"),
               id_doc_type=services.reference_by_code(IdentityDocumentType, doc.type, "id_document.type"),
               id_doc_number=doc.number, id_doc_issuer=doc.issuer, id_doc_issued=doc.issued,
               residence_address=json.residence_address, registration_place=json.registration_place,
               registration_date=json.registration_date, email=json.email, phone=json.phone)
    with db.session.no_autoflush:
        for i, e in enumerate(json.education):
            inst = db.session.execute(db.select(EducationInstitution).where(db.or_(
                EducationInstitution.bin == e.institution, EducationInstitution.name == e.institution))
                .limit(1)).scalar_one_or_none()
            if inst is None:
                raise InvalidInput({f"education.{i}.institution": _("Unknown education organization.")})
            w.education_documents.append(EducationDocument(
                kind=e.kind, level=services.reference_by_code(EducationLevel, e.level, f"education.{i}.level"),
                institution=inst, number=e.number, series=e.series, issue_date=e.issue_date,
                specialty=_specialty(e.specialty), qualification=e.qualification,
                entered_by_organization_id=u.organization_id))
    position = services.reference_by_code(Position, json.position, "position")
    episode = register_worker(w, actor_organization=u.organization, position=position, hire_date=json.hire_date,
                              specialty=_specialty(json.specialty), fte=json.fte, department=json.department,
                              order_number=json.order_number)
    return _with_etag(EpisodeCreated(worker=worker_out(u, w), episode=episode_out(episode)), w, 201)


@bp.patch("/workers/<iin>")
@spec.validate(json=ContactsIn, resp=Response(HTTP_200=WorkerDetail, **WRITE_ERRORS), tags=["workers"])
def update_worker(iin: str, json: ContactsIn):
    """Change the contact data of a worker (``If-Match``: the ETag read; 412 when it is stale)."""
    u = user()
    w = services.worker_by_iin(u, iin, for_update=True)
    services.check_version(w, _if_match())
    services.update_contacts(u, w, json.model_dump(exclude_unset=True))
    db.session.refresh(w)
    return _with_etag(worker_detail(u, w), w)


@bp.post("/workers/<iin>/episodes")
@spec.validate(json=HireIn, resp=Response(HTTP_201=EpisodeCreated, **WRITE_ERRORS), tags=["episodes"])
def hire(iin: str, json: HireIn):
    """Hire a worker already in the register (found by IIN, surname and date of birth, as in the panel;
    at most a few failed searches an hour)."""
    u = user()
    w, episode = services.hire_existing(
        u, iin=iin, surname=json.surname, birth_date=json.birth_date,
        position=services.reference_by_code(Position, json.position, "position"),
        specialty=_specialty(json.specialty), hire_date=json.hire_date, fte=json.fte, department=json.department,
        order_number=json.order_number, concurrent=json.concurrent)
    db.session.refresh(w)
    return _with_etag(EpisodeCreated(worker=worker_out(u, w), episode=episode_out(episode)), w, 201)


@bp.post("/workers/<iin>/episodes/<int:episode_id>/end")
@spec.validate(json=EndIn, resp=Response(HTTP_200=WorkerDetail, **WRITE_ERRORS), tags=["episodes"])
def end(iin: str, episode_id: int, json: EndIn):
    """End (dismiss) the caller organization's current employment of the worker (``If-Match``)."""
    u = user()
    w = services.worker_by_iin(u, iin, for_update=True)
    services.check_version(w, _if_match())
    ground = services.reference_by_code(LabourCodeGround, json.end_ground, "end_ground")
    services.end_episode(u, w, episode_id, json.end_date, ground, json.end_category)
    db.session.refresh(w)
    return _with_etag(worker_detail(u, w), w)


@bp.post("/workers/<iin>/certificates")
@spec.validate(json=CertificateIn, resp=Response(HTTP_201=WorkerDetail, **WRITE_ERRORS), tags=["certificates"])
def add_certificate(iin: str, json: CertificateIn):
    """Add a specialist certificate to the worker's record (``If-Match``); blocks it lifts go at once."""
    u = user()
    w = services.worker_by_iin(u, iin, for_update=True)
    services.check_version(w, _if_match())
    services.add_certificate(u, w, specialty=services.specialty_by_code(json.specialty), number=json.number,
                             issue_date=json.issue_date, valid_until=json.valid_until, issuer=json.issuer)
    db.session.refresh(w)
    return _with_etag(worker_detail(u, w), w, 201)


@bp.route("/<path:_rest>", methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
def not_found(_rest):
    """Any other address under /api/v1/: a problem answer, not the panel's HTML 404 page."""
    raise services.NotFound()


# ------------------------------------------------------------------------------------------ wiring
def register(app):
    app.before_request_funcs.setdefault(None, []).insert(0, identify)
    app.teardown_request(forget)
    # runs last of the after-request hooks (Flask runs them in reverse), after Flask-Limiter's
    app.after_request_funcs.setdefault(None, []).insert(0, drop_stray_retry_after)
    for blueprint in (bp, fhir_bp):
        csrf.exempt(blueprint)
    limiter.shared_limit(rate, scope="api", key_func=rate_key)(bp)
    limiter.shared_limit(rate, scope="api", key_func=rate_key)(fhir_bp)
    app.register_blueprint(bp)
    app.register_blueprint(fhir_bp)
    spec.register(app)  # the browsable pages: /api/v1/docs/redoc/, /swagger/, /scalar/
    # the document at the documented address too (spectree leaves out routes under its own path)
    app.add_url_rule("/api/v1/openapi.json", "api_openapi_document", lambda: jsonify(spec.spec))


__all__ = ["bp", "register", "spec"]
