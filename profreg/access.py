"""WHO SEES WHAT: the one policy module. Every decision about a role's rights or a row's scope is here,
and nothing else is (paging, counting and caches live in the admin shell, ``profreg/admin/listing.py``).

* ``Role``: the roles (DESIGN.md); ``MATRIX``: role × resource → actions; ``can(user, resource, action)``.
* ``require(user, resource, action, org_id=None)`` / ``@requires(resource, action)``: the one guard of
  services and custom views; raises ``errors.NotAllowed`` (403 in the panel).
* Models declare what they are (class attributes, no registry to forget):
  ``__resource__`` (a MATRIX resource) and ``__scope__`` (how a row falls into a role's scope, one of
  ``SCOPES``); optionally ``__write_scope__`` (how a row being written is checked, when that differs)
  and ``__cpd_evidence__`` (one of the records a professional association reads, rule 4.5).
* ``scoped(query, model, user)`` filters any query (ORM ``Query`` or ``select()``) to the rows the user
  may see; ``in_scope`` / ``allowed`` / ``write_in_scope`` are the per-object checks derived from it, so
  the two cannot disagree; ``options_scoped`` for dropdowns and lookups.
* Reporting scopes (rules 6-7): ``report_scope_allowed``, ``default_report_scope``, ``report_scopes``.
* Departed workers (rule 9): ``departed_select`` (whom a user finds on the departed-workers page) and
  ``may_correct_departed`` (the one rule: may this user correct this departed worker, or this episode).

Scope of worker data: ministry → everything; region → workers with a current episode
(``Employment.current_on``) in an organization of the region (of the district, for a coordinator limited to
one district: ``user.district_id``, rule 4.1; ``district_orgs``); org_head / hr_chief / hr → workers with a
current episode in their organization; association → workers holding a certificate in one of the
association's specialties (read-only, IIN masked); admin → no worker data.
"""
from __future__ import annotations

import functools
from datetime import date, timedelta
from enum import StrEnum

from flask import current_app
from flask_login import current_user
from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from . import clock
from .api.models import ApiToken
from .audit.models import AuditLog
from .certificates.models import Certificate
from .dates import add_months
from .errors import NotAllowed
from .extensions import db
from .orgs.models import Organization
from .reference.models import AdminUnit
from .workers.models import Employment, Worker


class Role(StrEnum):
    """The roles of DESIGN.md. A ``StrEnum``: equal to the code stored in ``user.role``."""

    MINISTRY = "ministry"        # national coordinator (r.6-7)
    REGION = "region"            # head of a regional health department (r.5, r.12)
    ORG_HEAD = "org_head"        # first head of a healthcare entity (r.11)
    HR_CHIEF = "hr_chief"        # chief of the personnel service (r.11)
    HR = "hr"                    # personnel service specialist (r.8-10)
    ASSOCIATION = "association"  # professional medical association (r.4.5)
    ADMIN = "admin"              # system administrator
    INTEGRATION = "integration"  # a medical information system's service account (API only)
    AUTHORITY = "authority"      # the authorized body receiving reports and forecasts (r.6-7), read-only


#: Roles bound to one organization (their scope is that organization).
ORG_ROLES = frozenset({Role.ORG_HEAD, Role.HR_CHIEF, Role.HR})

LIST, DETAILS, CREATE, EDIT, DELETE, EXPORT = "list", "details", "create", "edit", "delete", "export"
APPROVE = "approve"  # org_head approves training lists
SUBMIT = "submit"    # region / ministry submit monitoring reports
# The national record is never deleted by an organization (docs/integrity.md): these replace deletion.
END = "end"          # end an employment episode (dismissal; a region ends an overdue transfer's episode)
CORRECT = "correct"  # a correction with a reason: a new version of a record, or a departed worker's data
ANNUL = "annul"      # take a wrong entry out of every rule and list, kept and restorable
CONFIRM = "confirm"  # "checked, still current" (rule 13)
RECEIVE = "receive"  # the authorized body acknowledges receipt of a submitted report, forecast or answer
ANSWER = "answer"    # a coordinator answers the authorized body's request (frozen snapshot or file)
READ = frozenset({LIST, DETAILS, EXPORT})
ALL = frozenset({LIST, DETAILS, CREATE, EDIT, DELETE, EXPORT})
NONE: frozenset = frozenset()


def _rights(*actions) -> frozenset:
    out: set = set()
    for a in actions:
        out |= a if isinstance(a, frozenset) else {a}
    return frozenset(out)


# Resources: worker (personal record), worker_record (education, certificates, CPD, degrees, ...),
# employment, personnel_document, organization, staffing, reference, user, audit; training_list,
# monitoring (reports and forecasts), job_history, cpd_assessment, notification (one's own), calendar (the
# working-day calendar's transferred days off, entered by the ministry from government decrees),
# transfer (a hire elsewhere of a worker whose episode here is still open), import (bulk imports of
# spreadsheets: C runs one, L/D read the history; each row is still checked against the row's organization);
# api_token (API tokens: one's
# own, every user's for admin: ``api_tokens_scoped``), admission (the admission check of the API),
# fhir (the FHIR read API; ``fhir_worker_clause`` gives its scope), reporting (the reporting calendar:
# submitted reports and forecasts, receipts, the authorized body's requests and their answers).
# docs/roles.md prints this table; tests/panel/test_role_matrix.py checks the panel against that print.
_COLUMNS = ("worker", "worker_record", "employment", "personnel_document", "organization", "staffing",
            "reference", "user", "audit", "training_list", "monitoring", "job_history", "cpd_assessment",
            "notification", "calendar", "transfer", "import", "api_token", "admission", "fhir", "reporting",
            "reconciliation")
_OWN_NOTIFICATIONS = frozenset({LIST, DETAILS, EDIT})  # every signed-in user reads and marks their own
# Records are added, corrected and annulled, never edited in place or deleted.
_RECORDS = _rights(LIST, DETAILS, CREATE, EXPORT, CORRECT, ANNUL)
_HR_WORKER = _rights(LIST, DETAILS, CREATE, EDIT, EXPORT, CORRECT, CONFIRM)
_HR_EPISODES = _rights(LIST, DETAILS, CREATE, EDIT, EXPORT, END, CORRECT)
_IMPORTS = _rights(LIST, DETAILS, CREATE)  # run a bulk import (rows checked per organization), read the history
# the ministry adds and corrects lines of any organization's staffing table (issue 16: loads the staffing
# tables of a region's organizations at rollout, in the panel or by a bulk import); never deletes one
_STAFFING_LOAD = _rights(READ, CREATE, EDIT)
_OWN_TOKENS = frozenset({LIST, DETAILS, DELETE})  # one's own API tokens (admin: every user's)
READ_API = frozenset({LIST})  # may call this read API (admission check, FHIR)
_COORDINATE = _rights(LIST, DETAILS, EXPORT, ANSWER)  # the reporting calendar of a coordinator
_AUTHORITY = _rights(LIST, DETAILS, EXPORT, CREATE, RECEIVE)  # C: register a request
# reconciliation with state registries (issue 20.7): C runs one (a file of the registry), L/D read the
# discrepancies of the scope and E acts on them (HR: the worklist's one-click actions, "check again")
_RECONCILE = _rights(LIST, DETAILS, CREATE, EDIT, EXPORT)
_ROWS = {
    Role.MINISTRY: (_rights(READ, ANNUL), _rights(READ, CORRECT, ANNUL), READ, _rights(READ, CORRECT, ANNUL),
                    ALL, _STAFFING_LOAD, ALL, NONE, READ,
                    READ, _rights(ALL, SUBMIT), READ, READ, _OWN_NOTIFICATIONS, ALL, READ,
                    _IMPORTS, _OWN_TOKENS, READ_API, READ_API, _COORDINATE, _RECONCILE),
    Role.REGION: (_rights(READ, CORRECT), _rights(READ, CORRECT, ANNUL), _rights(READ, CORRECT),
                  _rights(READ, CORRECT, ANNUL), READ, READ, NONE, NONE, READ,
                  READ, _rights(READ, CREATE, SUBMIT), NONE, NONE, _OWN_NOTIFICATIONS, NONE, _rights(READ, END),
                  _IMPORTS, _OWN_TOKENS, READ_API, READ_API, _COORDINATE, _RECONCILE),
    Role.ORG_HEAD: (READ, READ, READ, READ, READ, READ, NONE, NONE, READ,
                    _rights(READ, APPROVE), READ, NONE, NONE, _OWN_NOTIFICATIONS, NONE, READ,
                    NONE, _OWN_TOKENS, READ_API, READ_API, NONE, READ),
    Role.HR_CHIEF: (_HR_WORKER, _RECORDS, _HR_EPISODES, _RECORDS, READ, ALL, NONE, NONE, READ,
                    ALL, READ, NONE, NONE, _OWN_NOTIFICATIONS, NONE, _rights(READ, END),
                    _IMPORTS, _OWN_TOKENS, READ_API, READ_API, NONE, _RECONCILE),
    Role.HR: (_HR_WORKER, _RECORDS, _HR_EPISODES, _RECORDS, READ - {EXPORT}, READ, NONE, NONE, NONE,
              ALL - {DELETE}, NONE, NONE, NONE, _OWN_NOTIFICATIONS, NONE, _rights(READ, END),
              _IMPORTS, _OWN_TOKENS, READ_API, READ_API, NONE, _rights(LIST, DETAILS, EDIT)),
    Role.ASSOCIATION: (NONE, _rights(LIST, DETAILS), NONE, NONE, NONE, NONE, NONE, NONE, NONE,
                       NONE, NONE, NONE, _rights(LIST, DETAILS, EXPORT), _OWN_NOTIFICATIONS, NONE, NONE,
                       NONE, _OWN_TOKENS, NONE, NONE, NONE, NONE),
    Role.ADMIN: (NONE, NONE, NONE, NONE, ALL, NONE, ALL, ALL, READ,
                 NONE, NONE, READ, NONE, _OWN_NOTIFICATIONS, READ, NONE,
                 NONE, _OWN_TOKENS, NONE, NONE, NONE, NONE),
    Role.INTEGRATION: (NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE,
                       NONE, NONE, NONE, NONE, NONE, NONE, NONE,
                       NONE, NONE, READ_API, READ_API, NONE, NONE),
    Role.AUTHORITY: (NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE,
                     NONE, NONE, NONE, NONE, _OWN_NOTIFICATIONS, NONE, NONE,
                     NONE, NONE, NONE, NONE, _AUTHORITY, NONE),
}
MATRIX: dict[str, dict[str, frozenset]] = {
    role: dict(zip(_COLUMNS, row, strict=True)) for role, row in _ROWS.items()}


def _role(user) -> Role | None:
    try:
        return Role(getattr(user, "role", None))
    except ValueError:
        return None


def can(user, resource: str, action: str) -> bool:
    """Role-level permission (no object): may ``user`` do ``action`` on ``resource`` at all?"""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return False
    return action in MATRIX.get(user.role, {}).get(resource, NONE)


class CommandLineActor:
    """Who a server command run without ``--as`` acts as (``profreg reconcile``): the national scope, as
    the ministry's coordinator; the operator who runs it holds the database anyway."""

    id = None
    role = Role.MINISTRY
    organization_id = region_id = organization = region = None
    is_authenticated = active = True


# --------------------------------------------------------------------------------- the one guard
def org_in_scope(user, org_id: int) -> bool:
    """Is organization ``org_id`` inside the user's scope (every organization for national roles)?"""
    ids = org_ids_select(user)
    return ids is None or db.session.execute(ids.where(Organization.id == org_id)).first() is not None


def require(user, resource: str, action: str, org_id: int | None = None) -> None:
    """Raise ``NotAllowed`` unless ``user`` may do ``action`` on ``resource`` (and, with ``org_id``,
    unless that organization is inside the user's scope). Services and custom views call this."""
    if not can(user, resource, action):
        raise NotAllowed()
    if org_id is not None and not org_in_scope(user, org_id):
        raise NotAllowed()


def requires(resource: str, action: str):
    """View decorator: ``require(current_user, resource, action)`` before the view runs."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            require(current_user, resource, action)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


# ------------------------------------------------------------------------- what models declare
#: ``__scope__`` values: how a model's rows fall into a role's scope.
WORKER = "worker"                    # the row is a worker: in scope through his current episodes
OF_WORKER = "of_worker"              # the row belongs to a worker (``worker_id``): in scope with him
ORGANIZATION = "organization"        # the row is an organization
OF_ORGANIZATION = "of_organization"  # the row belongs to an organization (``organization_id``)
#: Audit entries of these tables (user accounts) are read only by roles that read the users.
ACCOUNT_TABLES = ("user", "user_specialty", "user_session")
AUDIT_ENTRY = "audit_entry"          # an audit entry: by its owner's and its actor's organization / region
BETWEEN_ORGANIZATIONS = "between"    # a transfer: either organization (``organization_id``, ``to_organization_id``)
NATIONAL = "national"                # no per-row scope (reference data, users): the matrix decides
RECONCILIATION_RUN = "reconciliation_run"  # a registry file reconciled: its author's (ministry: every one)
SCOPES = (WORKER, OF_WORKER, ORGANIZATION, OF_ORGANIZATION, AUDIT_ENTRY, BETWEEN_ORGANIZATIONS, NATIONAL,
          RECONCILIATION_RUN)

#: Resources of worker data (read logs, masking, the worker page).
WORKER_DATA = frozenset({"worker", "worker_record", "employment", "personnel_document"})


def resource_of(model) -> str:
    """The MATRIX resource a model declares (``__resource__``)."""
    try:
        return model.__resource__
    except AttributeError:
        raise TypeError(f"{model.__name__} declares no __resource__ (profreg/access.py)") from None


def scope_of(model, *, write: bool = False) -> str:
    """How a model's rows fall into a scope (``__scope__``, or ``__write_scope__`` for writes)."""
    if write and hasattr(model, "__write_scope__"):
        return model.__write_scope__
    try:
        return model.__scope__
    except AttributeError:
        raise TypeError(f"{model.__name__} declares no __scope__ (profreg/access.py)") from None


def model_visible(user, model) -> bool:
    """Whether a model's rows are open to the user at all (role + resource; associations read only the
    CPD evidence of rule 4.5: certificates, CPD, education and qualification categories)."""
    resource = resource_of(model)
    if not (can(user, resource, LIST) or can(user, resource, DETAILS)):
        return False
    if _role(user) is Role.ASSOCIATION and resource == "worker_record":
        return bool(getattr(model, "__cpd_evidence__", False))
    return True


# --------------------------------------------------------------------------------- scope clauses
def district_of_user(user) -> int | None:
    """The district a ``region`` coordinator is limited to (rule 4.1), None for the whole region (and
    for every other role)."""
    return getattr(user, "district_id", None) if _role(user) is Role.REGION else None


def district_orgs(district_id: int):
    """SELECT of the ids of the organizations of a district, over its own alias of ``organization``
    (never correlated with an outer query over organizations)."""
    org = _scope_alias(Organization)
    return select(org.id).where(org.district_id == district_id)


def org_ids_select(user):
    """SELECT of organization ids in the user's scope, or None for 'every organization'."""
    role = _role(user)
    if role in (Role.MINISTRY, Role.ADMIN):
        return None
    if role is Role.REGION:
        q = select(Organization.id).where(Organization.region_id == user.region_id)
        district = district_of_user(user)
        return q if district is None else q.where(Organization.district_id == district)
    if role in ORG_ROLES:
        return select(Organization.id).where(Organization.id == user.organization_id)
    return select(Organization.id).where(false())


@functools.cache
def _scope_alias(model):
    """One named alias per model for the scope subqueries, built once (on first use: building it
    configures the mappers, which needs every model imported). When the outer query is itself over
    ``employment`` or ``certificate`` (their views), an unaliased inner table would be correlated with
    the outer row and the condition would leak every row."""
    return aliased(model, name=f"scope_{model.__tablename__}")


def scope_episodes(user, employment=Employment) -> tuple | None:
    """Conditions on ``employment`` (the class or an alias) selecting the current episodes that put a
    worker in a region's or organization's scope; None for roles whose scope is not made of episodes."""
    role = _role(user)
    if role is Role.REGION:
        where = employment.region_id == user.region_id
        district = district_of_user(user)
        if district is not None:
            return where, employment.organization_id.in_(district_orgs(district)), employment.current_on(clock.today())
    elif role in ORG_ROLES:
        where = employment.organization_id == user.organization_id
    else:
        return None
    return where, employment.current_on(clock.today())


def worker_scope_clause(user, worker_id_col):
    """SQL condition on a worker-id column: the worker is in the user's scope."""
    role = _role(user)
    if role is Role.MINISTRY:
        return true()
    emp = _scope_alias(Employment)
    episodes = scope_episodes(user, emp)
    if episodes is not None:
        return exists().where(and_(emp.worker_id == worker_id_col, *episodes))
    if role is Role.ASSOCIATION:
        spec_ids = [s.id for s in user.specialties]
        if not spec_ids:
            return false()
        cert = _scope_alias(Certificate)
        return exists().where(and_(cert.worker_id == worker_id_col, cert.specialty_id.in_(spec_ids)))
    return false()


def _where(model, user, scope: str):
    """The condition ``scoped`` adds for ``model`` under ``scope`` (None: no condition)."""
    if scope == NATIONAL:
        return None
    if scope in (ORGANIZATION, OF_ORGANIZATION):
        ids = org_ids_select(user)
        if ids is None:
            return None
        return (model.id if scope == ORGANIZATION else model.organization_id).in_(ids)
    if scope == AUDIT_ENTRY:
        role = _role(user)
        # user accounts' entries (changes of e-mail, role, scope; sign-ins and two-factor events) only for
        # the system administrator, who reads nothing else of the trail (issue 18)
        if role is Role.ADMIN:
            return model.table_name.in_(ACCOUNT_TABLES)
        accounts = model.table_name.notin_(ACCOUNT_TABLES)
        if role is Role.MINISTRY:
            where = None
        elif role is Role.REGION:
            where = or_(model.region_id == user.region_id, model.actor_region_id == user.region_id)
            if district_of_user(user) is not None:
                # a district coordinator: within the region's entries, those of the district's organizations
                # (as owner or actor) and his own
                orgs = district_orgs(district_of_user(user))
                where = and_(where, or_(model.organization_id.in_(orgs), model.actor_organization_id.in_(orgs),
                                        model.user_id == user.id))
        else:
            where = or_(model.organization_id == user.organization_id,
                        model.actor_organization_id == user.organization_id)
        parts = [c for c in (where, accounts) if c is not None]
        return and_(*parts) if parts else None
    if scope == BETWEEN_ORGANIZATIONS:
        ids = org_ids_select(user)
        return None if ids is None else or_(model.organization_id.in_(ids), model.to_organization_id.in_(ids))
    if scope == RECONCILIATION_RUN:
        return None if _role(user) is Role.MINISTRY else model.user_id == user.id
    if scope == WORKER:
        return worker_scope_clause(user, model.id)
    if scope == OF_WORKER:
        if _role(user) is Role.ASSOCIATION and not getattr(model, "__cpd_evidence__", False):
            return false()
        return worker_scope_clause(user, model.worker_id)
    raise ValueError(f"unknown scope {scope!r} of {model.__name__}")


def _filter(query, condition):
    return query.filter(condition) if hasattr(query, "filter") else query.where(condition)


def scoped(query, model, user):
    """Filter ``query`` (Query or Select over ``model``) to the rows ``user`` may see."""
    if not model_visible(user, model):
        return _filter(query, false())
    where = _where(model, user, scope_of(model))
    return query if where is None else _filter(query, where)


def worker_history_scoped(query, worker, user):
    """The change history of one worker on the worker card (``query`` over the audit trail of that
    worker). Who reads the audit trail sees the entries of its scope there, as in the audit list; an
    organization's HR (which does not read the audit trail) sees the whole history of a worker it
    employs now, since the card itself opens only in its scope (issue 15: "visible to HR for its own
    workers"); anyone else sees none."""
    if can(user, "audit", LIST):
        return scoped(query, AuditLog, user)
    if _role(user) in (Role.HR, Role.HR_CHIEF) and can(user, "worker", DETAILS):
        mine = scoped(select(Worker.id).where(Worker.id == worker.id), Worker, user)
        return _filter(query, AuditLog.worker_id.in_(mine))
    return _filter(query, false())


def options_scoped(query, model, user):
    """Rows offered in a dropdown or an ajax lookup. Reference data (classifiers) is offered to every
    signed-in user, even roles that may not manage it; everything else goes through ``scoped``."""
    if resource_of(model) == "reference":
        if getattr(user, "is_authenticated", False) and getattr(user, "active", False):
            return query
        return _filter(query, false())
    return scoped(query, model, user)


def unrestricted(model, user) -> bool:
    """True when ``scoped`` adds no condition for this user and model (a national view)."""
    if not model_visible(user, model):
        return False
    if _role(user) is Role.MINISTRY:
        return True
    return _where(model, user, scope_of(model)) is None


def in_scope(obj, user) -> bool:
    """Per-object check derived from ``scoped``: is ``obj`` visible to ``user``?"""
    model = type(obj)
    q = scoped(select(model.id).where(model.id == obj.id), model, user)
    return db.session.execute(q).first() is not None


def allowed(user, obj_or_model, action: str) -> bool:
    """Role permission plus, for objects, scope membership."""
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    if not can(user, resource_of(model), action):
        return False
    if isinstance(obj_or_model, type) or getattr(obj_or_model, "id", None) is None:
        return True
    return in_scope(obj_or_model, user)


def write_in_scope(obj, user) -> bool:
    """Scope check for a row being written: like ``in_scope``, except for models whose writes are
    checked another way (``__write_scope__``): an employment episode counts by its organization, so
    ending (dismissing) an episode of one's own organization stays possible even though the worker
    then leaves the user's (current-episode) scope."""
    model = type(obj)
    if scope_of(model, write=True) == OF_ORGANIZATION:
        return org_in_scope(user, obj.organization_id)
    return in_scope(obj, user)


# ------------------------------------------------------------------- corrections of worker records
def worker_ever_in_region(worker_id, region_id, district_id: int | None = None) -> bool:
    """Did the worker ever hold an episode (current or ended) in an organization of the region (of the
    district, when one is given)?"""
    q = select(Employment.id).where(Employment.worker_id == worker_id, Employment.region_id == region_id,
                                    Employment.annulled_at.is_(None))
    if district_id is not None:
        q = q.where(Employment.organization_id.in_(district_orgs(district_id)))
    return db.session.execute(q.limit(1)).first() is not None


def may_correct_record(user, record, now=None) -> bool:
    """May ``user`` correct or annul this worker record (docs/integrity.md)? The organization that
    entered it within ``CORRECTION_DAYS`` of entering it; the region coordinator for a worker who ever
    worked in its region; the ministry always. ``record`` is any ``WorkerRecord``."""
    resource = resource_of(type(record))
    if not can(user, resource, CORRECT):
        return False
    role = _role(user)
    if role is Role.MINISTRY:
        return True
    if role is Role.REGION:
        return worker_ever_in_region(record.worker_id, user.region_id, district_of_user(user))
    if role in ORG_ROLES:
        if record.entered_by_organization_id != user.organization_id or record.entered_at is None:
            return False
        now = now or clock.utcnow_naive()
        days = current_app.config.get("CORRECTION_DAYS", 30)
        return record.entered_at >= now - timedelta(days=days)
    return False


def correctable_ids(user, records, now=None) -> set[int]:
    """The ids of ``records`` (a page of one model's rows) that ``may_correct_record`` allows, with
    one query for a region coordinator (whose rule reads the episodes) instead of one per row."""
    records = [r for r in records if getattr(r, "id", None) is not None]
    if not records:
        return set()
    if _role(user) is Role.REGION:
        if not can(user, resource_of(type(records[0])), CORRECT):
            return set()
        q = select(Employment.worker_id).where(
            Employment.worker_id.in_({r.worker_id for r in records}), Employment.region_id == user.region_id,
            Employment.annulled_at.is_(None))
        if district_of_user(user) is not None:
            q = q.where(Employment.organization_id.in_(district_orgs(district_of_user(user))))
        seen = set(db.session.execute(q.distinct()).scalars())
        return {r.id for r in records if r.worker_id in seen}
    return {r.id for r in records if may_correct_record(user, r, now)}


def may_see_record_history(user, model) -> bool:
    """The superseded and annulled versions of a worker's records on the worker page: for who may
    correct such records or read the audit trail (not a professional association)."""
    return model_visible(user, model) and (can(user, resource_of(model), CORRECT) or can(user, "audit", LIST))


#: Who may extend a certificate's validity or remove its end date by a correction
#: (docs/certificates.md): a correction never lifts a block by itself, so an organization does not
#: lengthen its own worker's admission; the region coordinator and the ministry do.
VALIDITY_ROLES = frozenset({Role.REGION, Role.MINISTRY})


def may_operate(user) -> bool:
    """Operators' pages (``/metrics``): the system administrator only (docs/operations.md)."""
    return can(user, "job_history", LIST) and _role(user) is Role.ADMIN


def totp_roles(config=None) -> frozenset[Role]:
    """The roles that must sign in with a second factor (``TOTP_REQUIRED_ROLES``: a list or a
    comma-separated string of role codes; production: admin, ministry, region; default/demo: none).
    An unknown code fails loudly (a misspelt role would silently leave that role without 2FA)."""
    value = (config if config is not None else current_app.config).get("TOTP_REQUIRED_ROLES") or ()
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(Role(code.strip()) for code in value if code and code.strip())


def totp_required(user) -> bool:
    """Must ``user`` sign in with a TOTP code (enrolling at the first sign-in when not enrolled yet)?"""
    return _role(user) in totp_roles()


def may_extend_validity(user) -> bool:
    """May ``user`` extend or empty a certificate's ``valid_until`` in a correction?"""
    return _role(user) in VALIDITY_ROLES and can(user, "worker_record", CORRECT)


# -------------------------------------------------------------------- departed workers (rule 9)
def correction_window_start(today: date | None = None) -> date:
    """The earliest end date of a last episode whose organization may still correct it on ``today``:
    ``today`` lies at most ``CORRECTION_MONTHS_AFTER_END`` calendar months (``dates.add_months``) after
    the end date."""
    today = today or clock.today()
    months = int(current_app.config.get("CORRECTION_MONTHS_AFTER_END", 12))
    start = add_months(today, -months)
    while add_months(start, months) < today:  # a clamped month end (31 March - 1 month = 28 February)
        start += timedelta(days=1)
    return start


def departed_select(user, today: date | None = None):
    """SELECT of ``(Worker, Employment)``: departed workers the user finds on the departed-workers page,
    each with his **last episode** (the one ending last, then the highest id).

    A worker has departed when he is in the register, has episodes, and none of them is current
    (``Employment.current_on(today)``): his last episode ended before ``today``. Whom a role finds:
    ministry every departed worker; region those whose last episode was in its region (at any time);
    hr_chief / hr / org_head those whose last episode was in their organization and ended within the
    correction window (``correction_window_start``); nobody else. These lists are built on ended
    episodes and stay out of the everyday lists (``worker_scope_clause`` reads current episodes only)."""
    today = today or clock.today()
    last, later = Employment, aliased(Employment, name="later_episode")
    q = (select(Worker, last).join(last, last.worker_id == Worker.id)
         .where(Worker.annulled_at.is_(None), last.annulled_at.is_(None), last.end_date < today,
                ~exists().where(later.worker_id == last.worker_id, later.id != last.id, later.annulled_at.is_(None),
                                or_(later.end_date.is_(None), later.end_date > last.end_date,
                                    and_(later.end_date == last.end_date, later.id > last.id)))))
    role = _role(user)
    if not can(user, "worker", LIST) or role is Role.ASSOCIATION:
        return q.where(false())
    if role is Role.MINISTRY:
        return q
    if role is Role.REGION:
        q = q.where(last.region_id == user.region_id)
        district = district_of_user(user)
        return q if district is None else q.where(last.organization_id.in_(district_orgs(district)))
    if role in ORG_ROLES:
        return q.where(last.organization_id == user.organization_id,
                       last.end_date >= correction_window_start(today))
    return q.where(false())


def may_correct_departed(user, worker, episode=None, today: date | None = None) -> bool:
    """The rule of corrections after dismissal (rule 9, docs/integrity.md), in one place: may ``user``
    correct the personal data of departed ``worker`` (or, with ``episode``, that episode of his)?

    The last employer's hr / hr_chief for ``CORRECTION_MONTHS_AFTER_END`` months after the last episode
    ended, the region coordinator of that last episode's region at any time: the roles holding the
    ``correct`` right on ``worker`` (``employment`` for an episode) who find the worker on the departed
    page (``departed_select``). An episode must also be written by an organization in the user's scope
    (the last employer's own episodes; the region's organizations)."""
    resource = "employment" if episode is not None else "worker"
    if worker is None or getattr(worker, "id", None) is None or not can(user, resource, CORRECT):
        return False
    if episode is not None and (episode.worker_id != worker.id or not org_in_scope(user, episode.organization_id)):
        return False
    found = departed_select(user, today).where(Worker.id == worker.id).limit(1)
    return db.session.execute(found).first() is not None


# ------------------------------------------------------------------------------ reporting scopes
#: Kinds of reporting scope (rules 6-7, 4.1): the whole country, a region, a district of a region, an
#: organization.
COUNTRY, REGION, DISTRICT, ORG = "country", "region", "district", "org"


def report_scope_allowed(user, kind: str, ident: int, action: str = LIST) -> bool:
    """May ``user`` do ``action`` (list / create / submit / export) on reports of this scope?"""
    if not can(user, "monitoring", action):
        return False
    role = _role(user)
    if role is Role.MINISTRY:
        return True
    if role is Role.REGION:
        district = district_of_user(user)
        if kind == REGION:
            # a coordinator limited to a district reads and submits his district's reports, not the region's
            return district is None and ident == user.region_id
        if kind == DISTRICT:
            if district is not None:
                return ident == district
            unit = db.session.get(AdminUnit, ident)
            return unit is not None and unit.level == 2 and unit.parent_id == user.region_id
        if kind == ORG:
            org = db.session.get(Organization, ident)
            return (org is not None and org.region_id == user.region_id
                    and (district is None or org.district_id == district))
        return False
    if role in (Role.ORG_HEAD, Role.HR_CHIEF):
        return kind == ORG and ident == user.organization_id
    return False


def default_report_scope(user) -> tuple[str, int]:
    """The widest reporting scope a user reads by default."""
    role = _role(user)
    if role is Role.MINISTRY:
        return COUNTRY, 0
    if role is Role.REGION:
        if district_of_user(user) is not None:
            return DISTRICT, district_of_user(user)
        return REGION, user.region_id or 0
    return ORG, user.organization_id or 0


def report_regions(user) -> list[int] | None:
    """Regions whose report status the user follows: None = every region (ministry), the user's own
    (region), none for the others."""
    if not can(user, "monitoring", LIST):
        return []
    role = _role(user)
    if role is Role.MINISTRY:
        return None
    if role is Role.REGION and user.region_id and district_of_user(user) is None:
        return [user.region_id]
    return []  # a district coordinator follows his district's report, not the region's


def reporting_scope_allowed(user, kind: str, ident: int, action: str = LIST) -> bool:
    """May ``user`` do ``action`` (list / details / export / receive / create / answer) on the reporting
    calendar's documents and requests of this scope? The authorized body and the national coordinator:
    every scope; a regional coordinator: its region's."""
    if not can(user, "reporting", action):
        return False
    role = _role(user)
    if role in (Role.AUTHORITY, Role.MINISTRY):
        return True
    if role is Role.REGION:
        return kind == REGION and ident == user.region_id
    return False


def reporting_sees_drafts(user) -> bool:
    """The authorized body reads submitted documents only (no draft, no figures computed on demand)."""
    return _role(user) is not Role.AUTHORITY


def coordinators_clause(user_model, kind: str, ident: int):
    """SQL on ``User``: the active coordinators who submit a scope's reports and forecasts and answer its
    requests (rules 6-7): the country → the national coordinator (ministry); a region → its coordinators."""
    active = user_model.active.is_(True)
    if kind == COUNTRY:
        return and_(active, user_model.role == Role.MINISTRY)
    if kind == REGION:
        return and_(active, user_model.role == Role.REGION, user_model.region_id == ident)
    return false()


def escalation_clause(user_model, kind: str, ident: int):
    """SQL on ``User``: the level above a scope's coordinators, told when a due date is missed: a region
    → the national coordinator; the country → the authorized body."""
    active = user_model.active.is_(True)
    if kind == REGION:
        return and_(active, user_model.role == Role.MINISTRY)
    if kind == COUNTRY:
        return and_(active, user_model.role == Role.AUTHORITY)
    return false()


def training_approvers_clause(user_model):
    """SQL on ``User``: who approves an organization's training lists (the head, rule 11)."""
    return and_(user_model.active.is_(True), user_model.role == Role.ORG_HEAD)


def personnel_chiefs_clause(user_model):
    """SQL on ``User``: the chiefs of an organization's personnel service (weekly reminders)."""
    return and_(user_model.active.is_(True), user_model.role == Role.HR_CHIEF)


def cpd_assessment_specialties(user) -> list[int] | None:
    """Specialties whose workers ``user`` may assess (rule 4.5): the association's own; None means
    all (ministry); [] for everyone else."""
    if not can(user, "cpd_assessment", LIST):
        return []
    if _role(user) is Role.ASSOCIATION:
        return [s.id for s in user.specialties]
    return None


# --------------------------------------------------------------------------- the API (docs/api.md)
def api_worker_clause(user, worker_id_col):
    """SQL condition on a worker-id column: the workers the JSON API shows this user. The same rows as
    the panel: who lists workers sees his scope; an association (which reads the CPD evidence of rule
    4.5, not the personal record) the workers holding a certificate in its specialties, IIN masked
    (``mask_for``); anyone else nobody."""
    if can(user, "worker", LIST) or (_role(user) is Role.ASSOCIATION and can(user, "worker_record", LIST)):
        return worker_scope_clause(user, worker_id_col)
    return false()


def api_records_visible(user, model) -> bool:
    """Whether the JSON API shows a worker's records of ``model`` (education, certificates, CPD) or
    episodes to this user: as in the panel (``model_visible``)."""
    return model_visible(user, model)


def fhir_worker_clause(user, worker_id_col):
    """SQL condition on a worker-id column for the FHIR read API: an ``integration`` account reads the
    whole register (a medical information system checks any practitioner); the other roles with the
    ``fhir`` right the rows they see in the panel; everyone else nothing."""
    if not can(user, "fhir", LIST):
        return false()
    if _role(user) is Role.INTEGRATION:
        return true()
    return worker_scope_clause(user, worker_id_col)


def fhir_org_ids(user):
    """Organizations the FHIR API shows: a SELECT of ids, None for every one (the national roles and
    ``integration``), no rows without the ``fhir`` right."""
    if not can(user, "fhir", LIST):
        return select(Organization.id).where(false())
    if _role(user) is Role.INTEGRATION:
        return None
    return org_ids_select(user)


def admission_worker_clause(user, worker_id_col):
    """SQL condition on a worker-id column: whose admission this user may check through the API
    (``integration`` any worker, nationwide; the other roles with the ``admission`` right their scope)."""
    if not can(user, "admission", LIST):
        return false()
    if _role(user) is Role.INTEGRATION:
        return true()
    return worker_scope_clause(user, worker_id_col)


def api_tokens_scoped(query, user):
    """API tokens a user lists and revokes: his own; ``admin`` every user's."""
    if not can(user, "api_token", LIST):
        return _filter(query, false())
    if _role(user) is Role.ADMIN:
        return query
    return _filter(query, ApiToken.user_id == user.id)


# ------------------------------------------------------------------------------------ IIN masking
def mask_iin(iin: str | None) -> str:
    """IIN with all but the last 4 digits hidden (association view)."""
    if not iin:
        return ""
    return "•" * (len(iin) - 4) + iin[-4:]


def mask_iin_sql(iin):
    """``mask_iin`` as SQL over the column ``iin`` (PostgreSQL; the database-rendered exports of worker
    records): the same text for every IIN (tests/panel/test_record_export.py compares them)."""
    from sqlalchemy import func

    return func.concat(func.repeat("\u2022", func.greatest(func.length(iin) - 4, 0)), func.right(iin, 4))


def mask_for(user) -> bool:
    """Whether IINs must be masked for this user (associations see the last 4 digits only)."""
    return _role(user) is Role.ASSOCIATION

