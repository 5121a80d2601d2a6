"""FHIR R4 (read-only) under ``/fhir/`` (docs/api.md): ``metadata`` (public), read and search of
Practitioner, PractitionerRole, Organization and Location, and the Bulk Data ``$export``. The token's
scope is ``access.fhir_worker_clause`` / ``access.fhir_org_ids`` (``integration``: nationwide).
Errors are OperationOutcome resources."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select
from werkzeug.exceptions import HTTPException

from .. import access, clock, uow
from ..errors import InvalidInput, NotAllowed, Refusal
from ..extensions import db
from ..jobs.queue import enqueue, get_queue
from ..orgs.models import Organization
from ..reference.models import AdminUnit, Specialty
from ..workers.models import Employment, Worker, fold
from . import fhir_export, services
from . import fhir_resources as R
from .http import user
from .jobs import fhir_export_job

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
DEFAULT_COUNT, MAX_COUNT = 50, 500

bp = Blueprint("fhir", __name__, url_prefix="/fhir")


# ------------------------------------------------------------------------------------------ answers
def fhir_response(body: dict, status: int = 200, headers=None):
    resp = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def outcome(status: int, code: str, text: str, headers=None):
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
    return fhir_response(body, status, headers)


def _refusal(exc: Refusal):
    uow.end(exc)
    if isinstance(exc, services.TokenRefused):
        return outcome(401, "login", str(exc.message), {"WWW-Authenticate": 'Bearer realm="profreg"'})
    if isinstance(exc, NotAllowed):
        return outcome(403, "forbidden", str(exc.message))
    if isinstance(exc, services.NotFound):
        return outcome(404, "not-found", str(exc.message))
    return outcome(400, "invalid", "; ".join(str(v) for v in exc.errors.values()))


def _http_error(exc: HTTPException):
    code = {404: "not-found", 405: "not-supported", 429: "throttled"}.get(exc.code, "processing")
    return outcome(exc.code or 500, code, str(exc.description or exc.name))


bp.register_error_handler(Refusal, _refusal)
bp.register_error_handler(HTTPException, _http_error)


def base_url() -> str:
    return request.url_root.rstrip("/") + "/fhir"


# ------------------------------------------------------------------------------------ search params
def _count() -> int:
    raw = request.args.get("_count")
    if raw is None:
        return DEFAULT_COUNT
    try:
        n = int(raw)
    except ValueError:
        raise InvalidInput({"_count": _("Not a valid number in the allowed range.")}) from None
    return min(max(n, 0), MAX_COUNT)


#: A token search value in another system than ours: it matches nothing.
NO_MATCH = object()


def _token_param(name: str, system: str | None):
    """A token search value ``[system|]value``: the value, ``NO_MATCH`` when the system is not ours,
    None when the parameter is absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    sys_, bar, value = raw.rpartition("|")
    if bar and sys_ and system and sys_ != system:
        return NO_MATCH
    return value if bar else raw


def _token_where(q, name: str, system: str, col):
    value = _token_param(name, system)
    if value is None:
        return q
    return q.where(false()) if value is NO_MATCH else q.where(col == value)


def _last_updated(col):
    conds = []
    for raw in request.args.getlist("_lastUpdated"):
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", raw)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput({"_lastUpdated": _("Not a valid date and time (ISO 8601).")}) from None
        if moment.tzinfo is not None:  # stored moments are naive UTC
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        day_only = len(value) == 10
        end = moment + (timedelta(days=1) if day_only else timedelta(seconds=1))
        conds.append({"ge": col >= moment, "gt": col >= end, "le": col < end, "lt": col < moment,
                      "eq": and_(col >= moment, col < end)}[prefix])
    return conds


def _reference_id(name: str, kind: str) -> int | None | str:
    raw = request.args.get(name)
    if raw is None:
        return None
    raw = raw.rsplit("/", 1)[-1] if raw.startswith((f"{kind}/", "http")) else raw
    try:
        return int(raw)
    except ValueError:
        return -1


def _specialty_ids():
    if request.args.get("specialty") is None:
        return None
    return _token_where(select(Specialty.id), "specialty", R.SPECIALTY_SYSTEM, Specialty.code)


def _page(q, id_col, *, scalars: bool = True):
    """Keyset paging by id (``_cursor`` of the next link): (rows, next url); ``scalars=False`` for a
    query of columns (the Practitioner's)."""
    count = _count()
    after = services.decode_cursor(request.args.get("_cursor"), "_cursor")
    result = db.session.execute(q.where(id_col > after).order_by(id_col).limit(count + 1))
    rows = (result.scalars() if scalars else result).all()
    nxt = None
    if len(rows) > count and count > 0:
        rows = rows[:count]
        args = request.args.to_dict(flat=False)
        args["_cursor"] = [services.encode_cursor(rows[-1].id)]
        nxt = url_for(request.endpoint, _external=True, **args)
    return rows[:count], nxt


def _searchset(resources, nxt):
    return fhir_response(R.bundle(resources, self_url=request.url, next_url=nxt, base_url=base_url()))


# ------------------------------------------------------------------------------------------ metadata
@bp.get("/metadata")
def metadata():
    """The CapabilityStatement (public)."""
    search = {
        "Practitioner": ["identifier", "name", "family", "organization", "specialty", "_id", "_lastUpdated", "_count"],
        "PractitionerRole": ["practitioner", "organization", "specialty", "active", "_id", "_count"],
        "Organization": ["identifier", "name", "partof", "_id", "_count"],
        "Location": ["identifier", "name", "partof", "_id", "_count"],
    }
    types = {"identifier": "token", "name": "string", "family": "string", "organization": "reference",
             "specialty": "token", "_id": "token", "_lastUpdated": "date", "_count": "number",
             "practitioner": "reference", "active": "token", "partof": "reference"}
    body = {
        "resourceType": "CapabilityStatement", "status": "active", "date": clock.today().isoformat(),
        "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
        "publisher": "profreg", "name": "ProfregFHIR",
        "description": "Professional Register of health workers of Kazakhstan: IHE mCSD read and bulk export.",
        "implementation": {"description": "profreg FHIR API", "url": base_url()},
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "rest": [{
            "mode": "server",
            "security": {"service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                                  "code": "SMART-on-FHIR"}], "text": "Bearer token"}],
                         "description": "Authorization: Bearer <token> (flask profreg api-token create)"},
            "resource": [{"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                          "searchParam": [{"name": p, "type": types[p]} for p in params]}
                         for t, params in search.items()],
            "operation": [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}],
        }],
    }
    return fhir_response(body)


# ------------------------------------------------------------------------------------- Practitioner
def _practitioner_query(u):
    q = R.practitioner_select().where(Worker.in_register, access.fhir_worker_clause(u, Worker.id))
    q = _token_where(q, "identifier", R.IIN_SYSTEM, Worker.iin)
    for name in ("name", "family"):
        value = request.args.get(name)
        if value:
            q = q.where(Worker.surname_folded.like(fold(value).replace("%", r"\%").replace("_", r"\_") + "%",
                                                   escape="\\"))
    wid = _reference_id("_id", "Practitioner")
    if wid is not None:
        q = q.where(Worker.id == wid)
    org = _reference_id("organization", "Organization")
    specs = _specialty_ids()
    if org is not None or specs is not None:
        e = Employment
        conds = [e.worker_id == Worker.id, e.current_on(clock.today())]
        if org is not None:
            conds.append(e.organization_id == org)
        if specs is not None:
            conds.append(e.specialty_id.in_(specs))
        q = q.where(exists().where(*conds))
    for cond in _last_updated(Worker.updated_at):
        q = q.where(cond)
    return q


@bp.get("/Practitioner")
def practitioner_search():
    access.require(user(), "fhir", access.LIST)
    rows, nxt = _page(_practitioner_query(user()), Worker.id, scalars=False)
    return _searchset(R.practitioners(rows), nxt)


@bp.get("/Practitioner/<int:rid>")
def practitioner_read(rid: int):
    u = user()
    access.require(u, "fhir", access.LIST)
    w = db.session.execute(R.practitioner_select().where(Worker.id == rid, Worker.in_register,
                                                         access.fhir_worker_clause(u, Worker.id))).one_or_none()
    if w is None:
        raise services.NotFound()
    return fhir_response(R.practitioners([w])[0])


# --------------------------------------------------------------------------------- PractitionerRole
def _role_query(u):
    q = select(Employment).where(Employment.annulled_at.is_(None), access.fhir_worker_clause(u, Employment.worker_id))
    pid = _reference_id("practitioner", "Practitioner")
    if pid is not None:
        q = q.where(Employment.worker_id == pid)
    org = _reference_id("organization", "Organization")
    if org is not None:
        q = q.where(Employment.organization_id == org)
    specs = _specialty_ids()
    if specs is not None:
        q = q.where(Employment.specialty_id.in_(specs))
    rid = _reference_id("_id", "PractitionerRole")
    if rid is not None:
        q = q.where(Employment.id == rid)
    active = request.args.get("active")
    if active in ("true", "false"):
        current = and_(Employment.current_on(clock.today()), Employment.hire_date <= clock.today())
        q = q.where(current if active == "true" else ~current)
    return q


@bp.get("/PractitionerRole")
def role_search():
    access.require(user(), "fhir", access.LIST)
    rows, nxt = _page(_role_query(user()), Employment.id)
    return _searchset(R.practitioner_roles(rows), nxt)


@bp.get("/PractitionerRole/<int:rid>")
def role_read(rid: int):
    u = user()
    access.require(u, "fhir", access.LIST)
    e = db.session.execute(_role_query(u).where(Employment.id == rid)).scalar_one_or_none()
    if e is None:
        raise services.NotFound()
    return fhir_response(R.practitioner_roles([e])[0])


# ------------------------------------------------------------------------------------- Organization
def _org_query(u):
    q = services.organizations_query(u, fhir=True)
    q = _token_where(q, "identifier", R.BIN_SYSTEM, Organization.bin)
    name = request.args.get("name")
    if name:
        like = f"%{name}%"
        q = q.where(or_(Organization.name_kk.ilike(like), Organization.name_ru.ilike(like),
                        Organization.name_en.ilike(like)))
    parent = _reference_id("partof", "Organization")
    if parent is not None:
        q = q.where(Organization.parent_id == parent)
    oid = _reference_id("_id", "Organization")
    if oid is not None:
        q = q.where(Organization.id == oid)
    return q


@bp.get("/Organization")
def organization_search():
    access.require(user(), "fhir", access.LIST)
    rows, nxt = _page(_org_query(user()), Organization.id)
    return _searchset(R.organizations(rows), nxt)


@bp.get("/Organization/<int:rid>")
def organization_read(rid: int):
    u = user()
    access.require(u, "fhir", access.LIST)
    o = db.session.execute(_org_query(u).where(Organization.id == rid)).scalar_one_or_none()
    if o is None:
        raise services.NotFound()
    return fhir_response(R.organizations([o])[0])


# ----------------------------------------------------------------------------------------- Location
def _location_query():
    q = select(AdminUnit)
    q = _token_where(q, "identifier", R.KATO_SYSTEM, AdminUnit.code)
    name = request.args.get("name")
    if name:
        like = f"%{name}%"
        q = q.where(or_(AdminUnit.name_kk.ilike(like), AdminUnit.name_ru.ilike(like), AdminUnit.name_en.ilike(like)))
    parent = _reference_id("partof", "Location")
    if parent is not None:
        q = q.where(AdminUnit.parent_id == parent)
    lid = _reference_id("_id", "Location")
    if lid is not None:
        q = q.where(AdminUnit.id == lid)
    return q


@bp.get("/Location")
def location_search():
    access.require(user(), "fhir", access.LIST)
    rows, nxt = _page(_location_query(), AdminUnit.id)
    return _searchset(R.locations(rows), nxt)


@bp.get("/Location/<int:rid>")
def location_read(rid: int):
    access.require(user(), "fhir", access.LIST)
    unit = db.session.get(AdminUnit, rid)
    if unit is None:
        raise services.NotFound()
    return fhir_response(R.locations([unit])[0])


@bp.route("/<path:_rest>", methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
def not_found(_rest):
    """Any other address under /fhir/: an OperationOutcome, not the panel's HTML 404 page."""
    raise services.NotFound()


# ------------------------------------------------------------------------------------- bulk export
@bp.get("/$export")
def export_start():
    """Kick off a system-level bulk export: 202 and ``Content-Location`` of the status to poll."""
    u = user()
    access.require(u, "fhir", access.LIST)
    types = [t.strip() for t in ",".join(request.args.getlist("_type")).split(",") if t.strip()] or list(fhir_export.TYPES)
    unknown = [t for t in types if t not in fhir_export.TYPES]
    if unknown:
        raise InvalidInput({"_type": _("Unknown resource type: %(types)s.", types=", ".join(unknown))})
    fmt = request.args.get("_outputFormat")
    if fmt and fmt not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        raise InvalidInput({"_outputFormat": _("Only NDJSON is offered.")})
    group = fhir_export.start(u, types, str(get_locale() or "") or None)
    if getattr(get_queue(), "is_async", True):
        uow.after_commit(lambda: enqueue(fhir_export_job, group, job_timeout=4 * 3600))
    else:
        fhir_export.run(group)
    location = url_for("fhir.export_status", group=group, _external=True)
    return fhir_response({"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational", "diagnostics": _("The export has started.")}]},
        202, {"Content-Location": location})


@bp.get("/$export-status/<group>")
def export_status(group: str):
    u = user()
    rows = fhir_export.files(group, u)
    if not rows:
        raise services.NotFound()
    failed = [r for r in rows if r.state == fhir_export.FAILED]
    if failed:
        return outcome(500, "exception", failed[0].error or _("The export failed."))
    if any(r.state != fhir_export.DONE for r in rows):
        done = sum(1 for r in rows if r.state == fhir_export.DONE)
        resp = current_app.response_class(status=202)
        resp.headers["X-Progress"] = f"{done}/{len(rows)}"
        resp.headers["Retry-After"] = "5"
        return resp
    manifest = {
        "transactionTime": R.instant(min(r.created_at for r in rows)),
        "request": url_for("fhir.export_start", _external=True),
        "requiresAccessToken": True,
        "output": [{"type": r.title, "url": url_for("fhir.export_file", file_id=r.id, _external=True),
                    "count": r.rows_done} for r in rows],
        "error": [],
    }
    return current_app.response_class(json.dumps(manifest), status=200, mimetype="application/json")


@bp.get("/$export-file/<int:file_id>")
def export_file(file_id: int):
    u = user()
    row = db.session.get(fhir_export.ExportFile, file_id)
    if row is None or row.user_id != u.id or row.endpoint != fhir_export.ENDPOINT or not row.path:
        raise services.NotFound()
    return send_file(row.path, mimetype=NDJSON, as_attachment=False, max_age=0)
