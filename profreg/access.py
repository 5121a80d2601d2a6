"""WHO SEES WHAT. The one module that scopes every query path by role.

* ``MATRIX``: role × resource → allowed actions (list, details, create, edit, delete, export).
* ``scoped(query, model, user)``: filters any query (ORM ``Query`` or ``select()``) on ``model``
  down to the rows ``user`` may see. Admin views, exports, ajax lookups, reports and jobs call it.
* ``in_scope(obj, user)`` / ``can(user, resource, action, obj)``: the per-object check, derived
  from ``scoped`` so the two cannot disagree.

Scope of worker data:
  ministry → everything; region → workers with a current episode in an organization of the region;
  org_head / hr_chief / hr → workers with a current episode in their organization;
  association → workers holding a certificate in one of the association's specialties (read-only);
  admin → no worker data (users and reference data only).
"""
from __future__ import annotations

import json

from sqlalchemy import and_, exists, false, select, true

from . import clock

LIST, DETAILS, CREATE, EDIT, DELETE, EXPORT = "list", "details", "create", "edit", "delete", "export"
READ = frozenset({LIST, DETAILS, EXPORT})
ALL = frozenset({LIST, DETAILS, CREATE, EDIT, DELETE, EXPORT})
NONE: frozenset = frozenset()

# Resources: worker (personal record), worker_record (education, certificates, CPD, degrees, ...),
# employment, personnel_document, organization, staffing, reference, user, audit.
MATRIX: dict[str, dict[str, frozenset]] = {
    "ministry": {"worker": READ, "worker_record": READ, "employment": READ, "personnel_document": READ,
                 "organization": ALL, "staffing": READ, "reference": ALL, "user": NONE, "audit": READ},
    "region": {"worker": READ, "worker_record": READ, "employment": READ, "personnel_document": READ,
               "organization": READ, "staffing": READ, "reference": NONE, "user": NONE, "audit": READ},
    "org_head": {"worker": READ, "worker_record": READ, "employment": READ, "personnel_document": READ,
                 "organization": READ, "staffing": READ, "reference": NONE, "user": NONE, "audit": READ},
    "hr_chief": {"worker": ALL, "worker_record": ALL, "employment": ALL, "personnel_document": ALL,
                 "organization": READ, "staffing": ALL, "reference": NONE, "user": NONE, "audit": READ},
    "hr": {"worker": ALL - {DELETE}, "worker_record": ALL, "employment": ALL - {DELETE},
           "personnel_document": ALL - {DELETE}, "organization": READ - {EXPORT}, "staffing": READ,
           "reference": NONE, "user": NONE, "audit": NONE},
    "association": {"worker": NONE, "worker_record": frozenset({LIST, DETAILS}), "employment": NONE,
                    "personnel_document": NONE, "organization": NONE, "staffing": NONE,
                    "reference": NONE, "user": NONE, "audit": NONE},
    "admin": {"worker": NONE, "worker_record": NONE, "employment": NONE, "personnel_document": NONE,
              "organization": ALL, "staffing": NONE, "reference": ALL, "user": ALL, "audit": NONE},
}

# Resources of the later domains (custom views): one entry per role, same vocabulary.
APPROVE = "approve"  # org_head approves training lists; region/ministry submit monitoring reports
SUBMIT = "submit"
_EXTRA = {
    #              training_list                        monitoring                                   job_history  cpd_assessment
    "ministry":    (READ,                               ALL | {SUBMIT},                              READ,        READ),
    "region":      (READ,                               READ | {CREATE, SUBMIT},                     NONE,        NONE),
    "org_head":    (READ | {APPROVE},                   READ,                                        NONE,        NONE),
    "hr_chief":    (ALL,                                READ,                                        NONE,        NONE),
    "hr":          (ALL - {DELETE},                     NONE,                                        NONE,        NONE),
    "association": (NONE,                               NONE,                                        NONE,        frozenset({LIST, DETAILS, EXPORT})),
    "admin":       (NONE,                               NONE,                                        READ,        NONE),
}
for _role, (_tl, _mon, _jobs, _cpd) in _EXTRA.items():
    MATRIX[_role].update({"training_list": frozenset(_tl), "monitoring": frozenset(_mon),
                          "job_history": frozenset(_jobs), "cpd_assessment": frozenset(_cpd),
                          # every signed-in user reads and marks their own notifications
                          "notification": frozenset({LIST, DETAILS, EDIT})})

# Worker records an association may read (rule 4.5: CPD assessment). Others stay hidden from it.
ASSOCIATION_MODELS = {"Certificate", "CpdRecord", "EducationDocument", "QualificationCategory"}


def can(user, resource: str, action: str) -> bool:
    """Role-level permission (no object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return False
    return action in MATRIX.get(user.role, {}).get(resource, NONE)


def _models():
    from . import models as m

    return m


_ALIASES: dict = {}


def _scope_alias(model):
    """One named alias per model for the scope subqueries (see ``worker_scope_clause``); built once:
    an alias is an immutable construct, and building one per query cost more than the query."""
    from sqlalchemy.orm import aliased

    if model not in _ALIASES:
        _ALIASES[model] = aliased(model, name=f"scope_{model.__tablename__}")
    return _ALIASES[model]


def org_ids_select(user):
    """SELECT of organization ids in the user's scope, or None for 'every organization'."""
    m = _models()
    if user.role in ("ministry", "admin"):
        return None
    if user.role == "region":
        return select(m.Organization.id).where(m.Organization.region_id == user.region_id)
    if user.role in ("org_head", "hr_chief", "hr"):
        return select(m.Organization.id).where(m.Organization.id == user.organization_id)
    return select(m.Organization.id).where(false())


def current_episode_clause(today=None):
    """SQL condition: the employment episode is current on ``today`` (``Employment.current_on``)."""
    return _models().Employment.current_on(today or clock.today())


def worker_scope_clause(user, worker_id_col):
    """SQL condition on a worker-id column: the worker is in the user's scope.

    The subqueries use aliases: when the outer query is itself over ``employment`` or
    ``certificate`` (the employment and certificate views), an unaliased inner table would be
    correlated with the outer row and the condition would leak every row."""
    m = _models()
    role = getattr(user, "role", None)
    if role == "ministry":
        return true()
    if role in ("region", "org_head", "hr_chief", "hr"):
        emp = _scope_alias(m.Employment)
        org_filter = (emp.organization_id == user.organization_id if role != "region"
                      else emp.region_id == user.region_id)
        today = clock.today()
        return exists().where(and_(emp.worker_id == worker_id_col, org_filter, emp.current_on(today)))
    if role == "association":
        spec_ids = [s.id for s in user.specialties]
        if not spec_ids:
            return false()
        cert = _scope_alias(m.Certificate)
        return exists().where(and_(cert.worker_id == worker_id_col, cert.specialty_id.in_(spec_ids)))
    return false()


def resource_of(model) -> str:
    """Which MATRIX resource a model belongs to."""
    name = model.__name__
    if name == "Worker":
        return "worker"
    if name == "Employment":
        return "employment"
    if name == "PersonnelDocument":
        return "personnel_document"
    if name == "Organization":
        return "organization"
    if name == "StaffingPosition":
        return "staffing"
    if name == "User":
        return "user"
    if name == "AuditLog":
        return "audit"
    if hasattr(model, "worker_id"):
        return "worker_record"
    return "reference"


def scoped(query, model, user):
    """Filter ``query`` (Query or Select over ``model``) to the rows ``user`` may see."""
    m = _models()
    role = getattr(user, "role", None)
    resource = resource_of(model)
    if not can(user, resource, LIST) and not can(user, resource, DETAILS):
        return query.filter(false()) if hasattr(query, "filter") else query.where(false())
    where = _where(model, user, role, resource, m)
    if where is None:
        return query
    return query.filter(where) if hasattr(query, "filter") else query.where(where)


def _where(model, user, role, resource, m):
    if resource == "reference" or resource == "user":
        return None
    if resource == "organization":
        ids = org_ids_select(user)
        return None if ids is None else model.id.in_(ids)
    if resource == "staffing":
        ids = org_ids_select(user)
        return None if ids is None else model.organization_id.in_(ids)
    if resource == "audit":
        if role == "ministry":
            return None
        if role == "region":
            return model.region_id == user.region_id
        return model.organization_id == user.organization_id
    if resource == "worker":
        return worker_scope_clause(user, model.id)
    if role == "association" and model.__name__ not in ASSOCIATION_MODELS:
        return false()
    return worker_scope_clause(user, model.worker_id)


def options_scoped(query, model, user):
    """Rows offered in a dropdown or an ajax lookup. Reference data (classifiers) is offered to every
    signed-in user, even roles that may not manage it; everything else goes through ``scoped``."""
    if resource_of(model) == "reference":
        if getattr(user, "is_authenticated", False) and getattr(user, "active", False):
            return query
        return query.filter(false()) if hasattr(query, "filter") else query.where(false())
    return scoped(query, model, user)


def unrestricted(model, user) -> bool:
    """True when ``scoped`` adds no condition for this user and model (a national view)."""
    role = getattr(user, "role", None)
    resource = resource_of(model)
    if not (can(user, resource, LIST) or can(user, resource, DETAILS)):
        return False
    if role == "ministry" and resource in ("worker", "worker_record", "employment", "personnel_document",
                                           "organization", "staffing", "audit"):
        return True
    return _where(model, user, role, resource, _models()) is None


def _scope_episodes(model, user):
    """Conditions on ``Employment`` selecting the current episodes that put a worker in a scoped
    role's list (the same condition as ``worker_scope_clause``); None for other models and roles."""
    m = _models()
    role = getattr(user, "role", None)
    if model is not m.Worker or role not in ("region", "org_head", "hr_chief", "hr"):
        return None
    emp = m.Employment
    where = emp.region_id == user.region_id if role == "region" else emp.organization_id == user.organization_id
    return where, emp.current_on(clock.today())


_ESTIMATES: dict = {}
ESTIMATE_SECONDS = 60


def cached_estimate(key, compute):
    """A planner estimate, kept for ``ESTIMATE_SECONDS``: it is approximate by nature (and labelled
    so), and asking the planner on every page cost a round trip and a plan."""
    import time

    now = time.monotonic()
    hit = _ESTIMATES.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_ESTIMATES) > 1000:  # keys carry the day: drop the stale ones now and then
        for old in [k for k, (expires, _v) in _ESTIMATES.items() if expires <= now]:
            _ESTIMATES.pop(old, None)
    _ESTIMATES[key] = (now + ESTIMATE_SECONDS, value)
    return value


def forget_estimates() -> None:
    _ESTIMATES.clear()


def fast_scope_count(model, user, estimate_above: int | None = None) -> tuple[int, bool] | None:
    """(number of workers in a scoped role's list, estimated?) from the employment indexes alone;
    None where there is no shortcut. With ``estimate_above`` (PostgreSQL), a list the planner expects
    to hold more workers than that gets the planner's estimate instead of an exact count, which
    would read the whole scope (a region of 20,000 workers: 2–3 ms on every page)."""
    from sqlalchemy import distinct, func

    from .extensions import db

    conditions = _scope_episodes(model, user)
    if conditions is None:
        return None
    emp = _models().Employment
    # Only a region can be that big; an organization (a few thousand workers at most) counts exactly.
    if estimate_above is not None and user.role == "region" and db.engine.dialect.name == "postgresql":
        def planner_rows():
            compiled = select(emp.worker_id).distinct().where(*conditions).compile(dialect=db.engine.dialect)
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
            return int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])

        rows = cached_estimate(("region_workers", user.region_id, clock.today()), planner_rows)
        if rows > estimate_above:
            return rows, True
    n = db.session.execute(select(func.count(distinct(emp.worker_id))).where(*conditions)).scalar()
    return int(n or 0), False


def scope_page(model, user, offset: int, limit: int, desc: bool = False) -> list | None:
    """One page of a scoped role's worker list in surname order (then id): the page's worker ids come
    from the scope's (region or organization, worker_surname_key, worker_id) employment index — the same
    rows and order as the list query under ``worker_scope_clause`` — and the workers are joined to
    them in the same statement. None where there is no such shortcut."""
    from .extensions import db

    conditions = _scope_episodes(model, user)
    if conditions is None:
        return None
    emp = _models().Employment
    order = (emp.worker_surname_key.desc(), emp.worker_id.desc()) if desc else (emp.worker_surname_key,
                                                                                  emp.worker_id)
    page = (select(emp.worker_surname_key, emp.worker_id).distinct().where(*conditions)
            .order_by(*order).offset(offset).limit(limit).subquery("page"))
    outer = (page.c.worker_surname_key.desc(), page.c.worker_id.desc()) if desc else (page.c.worker_surname_key,
                                                                                        page.c.worker_id)
    q = select(model).join(page, page.c.worker_id == model.id).order_by(*outer)
    return list(db.session.execute(q).scalars())


def in_scope(obj, user) -> bool:
    """Per-object check derived from ``scoped``: is ``obj`` visible to ``user``?"""
    from .extensions import db

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


ORG_ROLES = ("org_head", "hr_chief", "hr")


def model_visible(user, model) -> bool:
    """Whether a model's view is open to the user at all (role + resource; associations see only the
    worker records of rule 4.5: certificates, CPD, education and qualification categories)."""
    resource = resource_of(model)
    if not (can(user, resource, LIST) or can(user, resource, DETAILS)):
        return False
    if getattr(user, "role", None) == "association" and resource == "worker_record":
        return model.__name__ in ASSOCIATION_MODELS
    return True


def write_in_scope(obj, user) -> bool:
    """Scope check for a row being written. Like ``in_scope``, except that an employment episode
    counts by its organization, so ending (dismissing) an episode of one's own organization stays
    possible even though the worker then leaves the user's (current-episode) scope."""
    m = _models()
    if isinstance(obj, m.Employment):
        ids = org_ids_select(user)
        if ids is None:
            return True
        from .extensions import db

        return db.session.execute(ids.where(m.Organization.id == obj.organization_id)).first() is not None
    return in_scope(obj, user)


def mask_iin(iin: str | None) -> str:
    """IIN with all but the last 4 digits hidden (association view)."""
    if not iin:
        return ""
    return "•" * (len(iin) - 4) + iin[-4:]


def mask_for(user) -> bool:
    """Whether IINs must be masked for this user (associations see the last 4 digits only)."""
    return getattr(user, "role", None) == "association"
