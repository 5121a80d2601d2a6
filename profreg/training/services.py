"""Rules of professional development: the CPD ledger, the advanced-training list (rule 14.3) and the
associations' CPD assessment (rule 4.5).

Definitions (see docs/training.md):

* **Current certificate** of a worker in a specialty: the latest certificate in that specialty among those
  issued by today (``Certificate.latest_per_specialty(known_on=today)``: the one ending last; a renewal is
  a new certificate, so it supersedes the old one once issued).
* **Certification cycle**: from the issue date of the current certificate to its ``valid_until``
  (an open-ended certificate counts until today, with a nominal length of five years).
* **CPD in the cycle**: the worker's CPD records (any activity type, advanced training included) whose
  end date falls within the cycle and whose specialty is the certificate's or is not set.
* **Requirement**: ``Specialty.cpd_hours_required`` / ``cpd_credits_required`` per cycle.

Everything over more than one worker is one SQL statement with GROUP BY (no per-worker loops).
Services flush, never commit; the request or CLI command commits.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from .. import access, clock
from ..auth.models import User
from ..certificates.models import Certificate
from ..dates import add_months, days_after, days_between
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, fmt_number
from ..identity import mask_iin
from ..orgs.models import Organization
from ..reference.models import AdminUnit, Position, Specialty, TrainingActivityType
from ..workers.models import Employment, Worker, full_name
from ..workers.search import matching_worker_ids
from .models import LIST_APPROVED, LIST_DRAFT, CpdRecord, TrainingList, TrainingListItem

NOMINAL_CYCLE_DAYS = 5 * 365 + 1
COURSE_LOOKBACK_DAYS = 365  # a certification course up to a year before a new post still counts
PERIOD_RE = re.compile(r"^(\d{4})(?:Q([1-4]))?$")


def parse_period(value: str) -> str:
    """Validate a list period: ``2027Q1`` (quarter) or ``2027`` (year)."""
    value = (value or "").strip().upper()
    m = PERIOD_RE.match(value)
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise DomainError(_("The period must look like 2027Q1 (a quarter) or 2027 (a year)."))
    return value


# --- CPD ledger -----------------------------------------------------------------------------------


def current_certificates(today: date, *, worker_ids=None, specialty_ids=None, running_only=False):
    """Subquery of current certificates (the latest issued by ``today``), one row per (worker, specialty):
    ``certificate_id, worker_id, specialty_id, cycle_start, cycle_end``.

    ``worker_ids`` is a SELECT (or list) of worker ids to restrict to; ``specialty_ids`` a list;
    ``running_only`` keeps cycles that have not ended by ``today`` (the certificate is valid today).
    """

    latest = aliased(Certificate, Certificate.latest_per_specialty(worker_ids=worker_ids, specialty_ids=specialty_ids,
                                                                   known_on=today))
    q = select(latest.id.label("certificate_id"), latest.worker_id.label("worker_id"),
               latest.specialty_id.label("specialty_id"), latest.issue_date.label("cycle_start"),
               latest.valid_until.label("cycle_end"))
    if running_only:
        q = q.where(latest.valid_on(today))
    return q.subquery("cert_current")


def ledger_select(certs, today: date):
    """GROUP BY aggregate of CPD per current certificate: the ledger rows for ``certs``
    (a subquery shaped like :func:`current_certificates`).

    Columns: certificate_id, worker_id, specialty_id, cycle_start, cycle_end, hours_required,
    credits_required, hours, credits, elapsed_days, cycle_days.
    """
    cycle_end = func.coalesce(certs.c.cycle_end, today)
    hours = func.coalesce(func.sum(CpdRecord.hours), 0)
    credits = func.coalesce(func.sum(CpdRecord.credits), 0)
    join_cpd = and_(CpdRecord.worker_id == certs.c.worker_id, CpdRecord.in_force,
                    CpdRecord.end_date >= certs.c.cycle_start,
                    CpdRecord.end_date <= cycle_end,
                    or_(CpdRecord.specialty_id.is_(None), CpdRecord.specialty_id == certs.c.specialty_id))
    cycle_days = func.coalesce(days_between(certs.c.cycle_end, certs.c.cycle_start), NOMINAL_CYCLE_DAYS)
    elapsed = days_between(literal(today), certs.c.cycle_start)
    return (select(certs.c.certificate_id, certs.c.worker_id, certs.c.specialty_id, certs.c.cycle_start,
                   certs.c.cycle_end, Specialty.cpd_hours_required.label("hours_required"),
                   Specialty.cpd_credits_required.label("credits_required"), hours.label("hours"),
                   credits.label("credits"), elapsed.label("elapsed_days"), cycle_days.label("cycle_days"))
            .select_from(certs.join(Specialty, Specialty.id == certs.c.specialty_id).outerjoin(CpdRecord, join_cpd))
            .group_by(certs.c.certificate_id, certs.c.worker_id, certs.c.specialty_id, certs.c.cycle_start,
                      certs.c.cycle_end, Specialty.cpd_hours_required, Specialty.cpd_credits_required))


def deficit_clause(led, *, pro_rata: bool = False):
    """SQL condition on a ledger subquery: CPD below the requirement (or, ``pro_rata``, below the share of
    the requirement expected by now: required × elapsed days / cycle days)."""
    if pro_rata:
        elapsed = case((led.c.elapsed_days > led.c.cycle_days, led.c.cycle_days), else_=led.c.elapsed_days)
        hours_short = led.c.hours * led.c.cycle_days < led.c.hours_required * elapsed
        credits_short = led.c.credits * led.c.cycle_days < led.c.credits_required * elapsed
    else:
        hours_short = led.c.hours < led.c.hours_required
        credits_short = led.c.credits < led.c.credits_required
    return or_(and_(led.c.hours_required.is_not(None), hours_short),
               and_(led.c.credits_required.is_not(None), credits_short))


@dataclass
class LedgerRow:
    """One cycle of one worker: what is required, what is earned, what is missing."""

    worker_id: int
    specialty_id: int
    certificate_id: int
    cycle_start: date
    cycle_end: date | None
    hours_required: int | None
    credits_required: int | None
    hours: Decimal
    credits: Decimal
    elapsed_days: int
    cycle_days: int

    @property
    def hours_deficit(self) -> Decimal:
        return max(Decimal(self.hours_required or 0) - Decimal(self.hours), Decimal(0))

    @property
    def credits_deficit(self) -> Decimal:
        return max(Decimal(self.credits_required or 0) - Decimal(self.credits), Decimal(0))

    @property
    def progress(self) -> int | None:
        """Percent of the hours (else credits) requirement earned, capped at 100."""
        if self.hours_required:
            return min(100, int(Decimal(self.hours) * 100 / self.hours_required))
        if self.credits_required:
            return min(100, int(Decimal(self.credits) * 100 / self.credits_required))
        return None

    @property
    def expected_hours(self) -> Decimal | None:
        """Hours expected by today at an even pace through the cycle."""
        if not self.hours_required or not self.cycle_days:
            return None
        share = Decimal(min(max(self.elapsed_days, 0), self.cycle_days)) / Decimal(self.cycle_days)
        return (Decimal(self.hours_required) * share).quantize(Decimal("0.1"))

    @property
    def has_deficit(self) -> bool:
        return self.hours_deficit > 0 or self.credits_deficit > 0


def _ledger_row(r) -> LedgerRow:
    return LedgerRow(r.worker_id, r.specialty_id, r.certificate_id, r.cycle_start, r.cycle_end,
                     r.hours_required, r.credits_required, Decimal(r.hours or 0), Decimal(r.credits or 0),
                     int(r.elapsed_days or 0), int(r.cycle_days or NOMINAL_CYCLE_DAYS))


def worker_ledger(worker_id: int, today: date | None = None) -> list[LedgerRow]:
    """The CPD ledger of one worker: one row per specialty with a current certificate."""
    today = today or clock.today()
    certs = current_certificates(today, worker_ids=[worker_id])
    rows = db.session.execute(ledger_select(certs, today).order_by(certs.c.specialty_id)).all()
    return [_ledger_row(r) for r in rows]


def ledger_rows(worker_ids, today: date | None = None, *, specialty_ids=None) -> list[LedgerRow]:
    """Ledger rows of many workers (``worker_ids``: a SELECT or a list) in one GROUP BY query."""
    today = today or clock.today()
    certs = current_certificates(today, worker_ids=worker_ids, specialty_ids=specialty_ids)
    rows = db.session.execute(ledger_select(certs, today).order_by(certs.c.worker_id, certs.c.specialty_id))
    return [_ledger_row(r) for r in rows]


# --- advanced-training list: rules ----------------------------------------------------------------

RULE_CODES = ("cert_expiring", "cpd_deficit", "no_training", "new_role")


@dataclass
class Rules:
    """Switchable, parametrized rules for building an advanced-training list."""

    cert_expiring: bool = True
    cert_months: int = 6              # certificate ends within N months
    include_expired: bool = False     # also certificates that have already ended
    cpd_deficit: bool = True
    cpd_pro_rata: bool = True         # behind the even pace (True) or below the whole requirement (False)
    no_training: bool = True
    no_training_years: int = 5        # no advanced training for Y years
    new_role: bool = True
    new_role_months: int = 12         # employment started within M months

    def validate(self) -> Rules:
        for name, lo, hi in (("cert_months", 1, 60), ("no_training_years", 1, 30), ("new_role_months", 1, 60)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise DomainError(_("The parameter must be a whole number from %(lo)s to %(hi)s.", lo=lo, hi=hi))
        if not any((self.cert_expiring, self.cpd_deficit, self.no_training, self.new_role)):
            raise DomainError(_("Switch on at least one rule."))
        return self

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> Rules:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass
class Filters:
    """Narrow the list by the worker's post in the organization."""

    position_id: int | None = None
    specialty_id: int | None = None
    department: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


@dataclass
class Candidate:
    worker_id: int
    surname: str
    name: str
    patronymic: str | None
    iin: str
    position_id: int | None
    specialty_id: int | None
    department: str | None
    reasons: list[dict] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


def _employment_filters(q, filters: Filters | None):
    if filters is None:
        return q
    if filters.position_id:
        q = q.where(Employment.position_id == filters.position_id)
    if filters.specialty_id:
        q = q.where(Employment.specialty_id == filters.specialty_id)
    if filters.department:
        q = q.where(Employment.department == filters.department)
    return q


def staff_subquery(org_id: int, today: date, filters: Filters | None = None):
    """The organization's current staff, one row per worker (main post first) after the filters."""
    rn = func.row_number().over(partition_by=Employment.worker_id,
                                order_by=(Employment.is_main.desc(), Employment.hire_date.desc(),
                                          Employment.id.desc()))
    q = select(Employment.worker_id, Employment.position_id, Employment.specialty_id, Employment.department,
               rn.label("rn")).where(Employment.organization_id == org_id, Employment.current_on(today))
    inner = _employment_filters(q, filters).subquery("staff_ranked")
    return select(inner.c.worker_id, inner.c.position_id, inner.c.specialty_id, inner.c.department) \
        .where(inner.c.rn == 1).subquery("staff")


def _is_advanced():
    return CpdRecord.activity_type_id.in_(
        select(TrainingActivityType.id).where(TrainingActivityType.is_advanced_training.is_(True)))


def _rule_cert_expiring(staff, rules: Rules, today: date):
    # The latest certificate on file, as the sweep's warning: a renewal already on file, even one
    # starting later, means the worker has been re-certified and is not listed.
    expired = Certificate.expired_on(today)
    q = (select(Certificate.worker_id, Certificate.specialty_id, Certificate.valid_until, expired.label("expired"))
         .where(Certificate.worker_id.in_(select(staff.c.worker_id)), Certificate.is_latest(),
                Certificate.valid_until <= add_months(today, rules.cert_months),
                *([] if rules.include_expired else [~expired]))
         .order_by(Certificate.worker_id, Certificate.valid_until))
    for r in db.session.execute(q):
        yield r.worker_id, {"code": "cert_expired" if r.expired else "cert_expiring", "specialty_id": r.specialty_id,
                            "valid_until": r.valid_until.isoformat(), "months": rules.cert_months}


def _rule_cpd_deficit(staff, rules: Rules, today: date):
    certs = current_certificates(today, worker_ids=select(staff.c.worker_id), running_only=True)
    led = ledger_select(certs, today).subquery("ledger")
    q = select(led).where(deficit_clause(led, pro_rata=rules.cpd_pro_rata)) \
        .order_by(led.c.worker_id, led.c.specialty_id)
    for r in db.session.execute(q):
        row = _ledger_row(r)
        yield r.worker_id, {"code": "cpd_deficit", "specialty_id": r.specialty_id,
                            "hours": float(row.hours), "hours_required": row.hours_required,
                            "credits": float(row.credits), "credits_required": row.credits_required,
                            "expected_hours": float(row.expected_hours) if row.expected_hours is not None else None,
                            "cycle_start": row.cycle_start.isoformat(),
                            "cycle_end": row.cycle_end.isoformat() if row.cycle_end else None,
                            "pro_rata": rules.cpd_pro_rata}


def _rule_no_training(staff, rules: Rules, today: date):
    cutoff = add_months(today, -12 * rules.no_training_years)
    last = func.max(CpdRecord.end_date)
    q = (select(staff.c.worker_id, last.label("last"))
         .select_from(staff.outerjoin(CpdRecord, and_(CpdRecord.worker_id == staff.c.worker_id, CpdRecord.in_force,
                                                      _is_advanced(),
                                                      CpdRecord.end_date <= today)))
         .group_by(staff.c.worker_id)
         .having(or_(last.is_(None), last < cutoff))
         .order_by(staff.c.worker_id))
    for r in db.session.execute(q):
        yield r.worker_id, {"code": "no_training", "years": rules.no_training_years,
                            "last": r.last.isoformat() if r.last else None}


def _rule_new_role(org_id: int, filters: Filters | None, rules: Rules, today: date):
    since = add_months(today, -rules.new_role_months)
    earlier = Employment.__table__.alias("earlier")
    same_specialty = or_(and_(earlier.c.specialty_id.is_(None), Employment.specialty_id.is_(None)),
                         earlier.c.specialty_id == Employment.specialty_id)
    before = and_(earlier.c.worker_id == Employment.worker_id, earlier.c.hire_date < Employment.hire_date)
    held_same_post = exists().where(before, earlier.c.position_id == Employment.position_id, same_specialty)
    held_specialty = exists().where(before, same_specialty)
    # The course counts when it ended at most a year before the appointment (taken in preparation) or after.
    course = exists().where(
        CpdRecord.worker_id == Employment.worker_id, CpdRecord.in_force, _is_advanced(), CpdRecord.end_date <= today,
        or_(Employment.specialty_id.is_(None), CpdRecord.specialty_id == Employment.specialty_id),
        CpdRecord.end_date >= days_after(Employment.hire_date, literal(-COURSE_LOOKBACK_DAYS)))
    q = (select(Employment.worker_id, Employment.position_id, Employment.specialty_id, Employment.hire_date,
                held_specialty.label("held_specialty"))
         .where(Employment.organization_id == org_id, Employment.running_on(today), Employment.hire_date >= since,
                ~held_same_post, ~course)
         .order_by(Employment.worker_id, Employment.hire_date))
    for r in db.session.execute(_employment_filters(q, filters)):
        yield r.worker_id, {"code": "new_role", "kind": "position" if r.held_specialty else "specialty",
                            "position_id": r.position_id, "specialty_id": r.specialty_id,
                            "hire_date": r.hire_date.isoformat(), "months": rules.new_role_months}


def build_candidates(org_id: int, rules: Rules, filters: Filters | None = None,
                     today: date | None = None) -> list[Candidate]:
    """Run the switched-on rules over the organization's current staff; one candidate per worker with
    every reason that applies. Ordered by surname, name."""
    today = today or clock.today()
    rules.validate()
    staff = staff_subquery(org_id, today, filters)
    found: dict[int, list[dict]] = {}
    sources = []
    if rules.cert_expiring:
        sources.append(_rule_cert_expiring(staff, rules, today))
    if rules.cpd_deficit:
        sources.append(_rule_cpd_deficit(staff, rules, today))
    if rules.no_training:
        sources.append(_rule_no_training(staff, rules, today))
    if rules.new_role:
        sources.append(_rule_new_role(org_id, filters, rules, today))
    for source in sources:
        for worker_id, reason in source:
            found.setdefault(worker_id, []).append(reason)
    if not found:
        return []
    q = (select(Worker.id, Worker.surname, Worker.name, Worker.patronymic, Worker.iin, staff.c.position_id,
                staff.c.specialty_id, staff.c.department)
         .join(staff, staff.c.worker_id == Worker.id)
         .where(Worker.id.in_(list(found)))
         .order_by(Worker.surname_key, Worker.name, Worker.id))
    return [Candidate(r.id, r.surname, r.name, r.patronymic, r.iin, r.position_id, r.specialty_id, r.department,
                      found[r.id]) for r in db.session.execute(q)]


# --- reasons in words -----------------------------------------------------------------------------


def _fmt_date(value: str | None) -> str:
    """An ISO date from a stored reason, written the locale's way (Babel)."""

    if not value:
        return ""
    return fmt_date(date.fromisoformat(value))


def _fmt_num(value) -> str:
    """Hours or credits of a stored reason with the locale's decimal mark ("116,6" in kk/ru)."""
    if value is None:
        return "0"
    return fmt_number(Decimal(str(value)).normalize())


def reason_text(reason: dict, names: dict[tuple[str, int], str] | None = None) -> str:
    """One reason in the current language, e.g. "Certificate (Nursing) ends on 01.02.2027"."""
    names = names or {}
    spec = names.get(("specialty", reason.get("specialty_id")), "") if reason.get("specialty_id") else ""
    code = reason.get("code")
    if code == "cert_expiring":
        return _("Certificate (%(specialty)s) ends on %(date)s, within %(months)s months",
                 specialty=spec, date=_fmt_date(reason.get("valid_until")), months=reason.get("months"))
    if code == "cert_expired":
        return _("Certificate (%(specialty)s) ended on %(date)s",
                 specialty=spec, date=_fmt_date(reason.get("valid_until")))
    if code == "cpd_deficit":
        if reason.get("hours_required"):
            text = _("CPD deficit (%(specialty)s): %(hours)s of %(required)s hours in the cycle",
                     specialty=spec, hours=_fmt_num(reason.get("hours")), required=reason.get("hours_required"))
            if reason.get("pro_rata") and reason.get("expected_hours") is not None:
                text += " " + _("(%(expected)s expected by now)", expected=_fmt_num(reason.get("expected_hours")))
            return text
        return _("CPD deficit (%(specialty)s): %(credits)s of %(required)s credits in the cycle",
                 specialty=spec, credits=_fmt_num(reason.get("credits")), required=reason.get("credits_required"))
    if code == "no_training":
        if reason.get("last"):
            return _("No advanced training for %(years)s years (last completed %(date)s)",
                     years=reason.get("years"), date=_fmt_date(reason.get("last")))
        return _("No advanced training on record (required every %(years)s years)", years=reason.get("years"))
    if code == "new_role":
        pos = names.get(("position", reason.get("position_id")), "")
        if reason.get("kind") == "specialty":
            return _("New specialty %(specialty)s since %(date)s without a certification course",
                     specialty=spec, date=_fmt_date(reason.get("hire_date")))
        return _("New position %(position)s since %(date)s without a certification course",
                 position=pos, date=_fmt_date(reason.get("hire_date")))
    if code == "manual":
        return _("Added by hand: %(note)s", note=reason.get("note") or "")
    return str(code)


def reference_names() -> dict[tuple[str, int], str]:
    """Specialty and position names in the current language (small reference tables)."""
    names: dict[tuple[str, int], str] = {}
    for kind, model in (("specialty", Specialty), ("position", Position)):
        for rid, name in db.session.execute(select(model.id, model.name_column())):
            names[(kind, rid)] = name
    return names


def reasons_text(reasons: list[dict] | None, names=None, sep: str = "; ") -> str:
    return sep.join(reason_text(r, names) for r in (reasons or []))


# --- advanced-training list: the list itself ------------------------------------------------------


def lists_query(user):
    """SELECT of the training lists ``user`` may see (by the organizations in the user's scope)."""
    return access.scoped(select(TrainingList), TrainingList, user)


def get_list(user, list_id) -> TrainingList | None:
    """The list with this id if ``user`` may see it, else None (the caller answers 404)."""
    try:
        list_id = int(list_id)
    except (TypeError, ValueError):
        return None
    return db.session.execute(lists_query(user).where(TrainingList.id == list_id)).scalar_one_or_none()


def _require(actor, action: str, lst: TrainingList | None = None, org_id: int | None = None):
    access.require(actor, "training_list", action, org_id=lst.organization_id if lst is not None else org_id)


def _require_draft(lst: TrainingList):
    if lst.status != LIST_DRAFT:
        raise DomainError(_("The list is approved and can no longer be changed."))


def create_draft(org_id: int, period: str, rules: Rules, filters: Filters | None, actor,
                 today: date | None = None) -> TrainingList:
    """Build the list by the rules and save it as a draft for ``period`` (one list per org and period)."""
    today = today or clock.today()
    period = parse_period(period)
    _require(actor, access.CREATE, org_id=org_id)
    rules.validate()
    if db.session.execute(select(TrainingList.id).where(TrainingList.organization_id == org_id,
                                                        TrainingList.period == period)).first():
        raise DomainError(_("A list for this period already exists."))
    candidates = build_candidates(org_id, rules, filters, today)
    lst = TrainingList(organization_id=org_id, period=period, status=LIST_DRAFT,
                       rules={"rules": rules.to_json(), "filters": (filters or Filters()).to_json(),
                              "built_on": today.isoformat()},
                       created_by_id=getattr(actor, "id", None))
    db.session.add(lst)
    for c in candidates:
        lst.items.append(TrainingListItem(worker_id=c.worker_id, position_id=c.position_id,
                                          specialty_id=c.specialty_id, department=c.department,
                                          reasons=c.reasons))
    db.session.flush()
    return lst


def _worker_post(org_id: int, worker_id: int, today: date):
    staff = staff_subquery(org_id, today)
    return db.session.execute(select(staff).where(staff.c.worker_id == worker_id)).first()


def find_staff_by_iin(org_id: int, iin: str, today: date | None = None) -> Worker | None:
    """A current employee of the organization by IIN, else None."""
    today = today or clock.today()
    staff = staff_subquery(org_id, today)
    return db.session.execute(select(Worker).join(staff, staff.c.worker_id == Worker.id)
                              .where(Worker.iin == (iin or "").strip())).scalar_one_or_none()


def add_worker(lst: TrainingList, worker_id: int, note: str, actor, today: date | None = None) -> TrainingListItem:
    """Put a current employee on a draft list by hand, with the reason why."""
    today = today or clock.today()
    _require(actor, access.EDIT, lst)
    _require_draft(lst)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Give the reason for adding the worker."))
    post = _worker_post(lst.organization_id, worker_id, today)
    if post is None:
        raise DomainError(_("No current employee of the organization with this IIN."))
    item = next((i for i in lst.items if i.worker_id == worker_id), None)
    if item is not None and not item.removed:
        raise DomainError(_("The worker is already on the list."))
    if item is None:
        item = TrainingListItem(worker_id=worker_id, position_id=post.position_id, specialty_id=post.specialty_id,
                                department=post.department, reasons=[])
        lst.items.append(item)
    item.added_manually = True
    item.note = note[:500]
    item.removed = False
    item.removal_reason = None
    item.reasons = [r for r in (item.reasons or []) if r.get("code") != "manual"] + [{"code": "manual", "note": note}]
    db.session.flush()
    return item


def _item(lst: TrainingList, item_id) -> TrainingListItem:
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        item_id = None
    item = next((i for i in lst.items if i.id == item_id), None)
    if item is None:
        raise DomainError(_("No such row on this list."))
    return item


def remove_worker(lst: TrainingList, item_id, reason: str, actor) -> TrainingListItem:
    """Take a worker off a draft list; the row stays, struck out, with the reason."""
    _require(actor, access.EDIT, lst)
    _require_draft(lst)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for removing the worker."))
    item = _item(lst, item_id)
    item.removed = True
    item.removal_reason = reason[:500]
    db.session.flush()
    return item


def approve(lst: TrainingList, actor, now=None) -> TrainingList:
    """The head of the organization approves the list; from then on it is frozen."""
    _require(actor, access.APPROVE, lst)
    _require_draft(lst)
    if not any(not i.removed for i in lst.items):
        raise DomainError(_("An empty list cannot be approved."))
    lst.status = LIST_APPROVED
    lst.approved_by_id = actor.id
    lst.approved_at = now or clock.utcnow_naive()
    db.session.flush()
    return lst


def signatory(lst: TrainingList):
    """Who signs the list (rule 11: the first head of the organization): the head who approved it; a
    draft, the organization's active head in the register's users (None when it has none)."""
    if lst.approved_by is not None:
        return lst.approved_by
    return db.session.execute(
        select(User).where(User.organization_id == lst.organization_id, User.role == access.Role.ORG_HEAD,
                           User.active.is_(True)).order_by(User.id)).scalars().first()


def delete_draft(lst: TrainingList, actor) -> None:
    _require(actor, access.DELETE, lst)
    _require_draft(lst)
    db.session.delete(lst)
    db.session.flush()


@dataclass
class Completion:
    activity_type_id: int
    provider: str
    topic: str
    start_date: date
    end_date: date
    hours: Decimal
    credits: Decimal | None = None
    certificate_number: str | None = None
    specialty_id: int | None = None


def complete_item(lst: TrainingList, item_id, data: Completion, actor, today: date | None = None) -> CpdRecord:
    """Mark a worker of an approved list as trained: creates the CPD record on the worker (no re-keying)."""
    today = today or clock.today()
    _require(actor, access.EDIT, lst)
    if lst.status != LIST_APPROVED:
        raise DomainError(_("Completion is recorded on an approved list."))
    item = _item(lst, item_id)
    if item.removed:
        raise DomainError(_("The worker was removed from the list."))
    if item.completed_at is not None:
        raise DomainError(_("Completion is already recorded for this worker."))
    if db.session.get(TrainingActivityType, data.activity_type_id) is None:
        raise DomainError(_("Choose the kind of training."))
    if not (data.provider or "").strip() or not (data.topic or "").strip():
        raise DomainError(_("Give the provider and the topic."))
    if data.end_date < data.start_date:
        raise DomainError(_("The end date is before the start date."))
    if data.end_date > today:
        raise DomainError(_("The end date is in the future."))
    if data.hours is None or Decimal(data.hours) <= 0 or (data.credits is not None and Decimal(data.credits) < 0):
        raise DomainError(_("Hours must be a positive number."))
    rec = CpdRecord(worker_id=item.worker_id, activity_type_id=data.activity_type_id,
                    specialty_id=data.specialty_id or item.specialty_id, provider=data.provider.strip()[:255],
                    topic=data.topic.strip()[:255], start_date=data.start_date, end_date=data.end_date,
                    hours=Decimal(data.hours), credits=Decimal(data.credits) if data.credits is not None else None,
                    certificate_number=(data.certificate_number or "").strip() or None)
    db.session.add(rec)
    db.session.flush()
    item.cpd_record_id = rec.id
    item.completed_at = data.end_date
    db.session.flush()
    return rec


def organization_choices(org_id: int):
    """Positions, specialties and departments present among the organization's current staff."""
    today = clock.today()
    base = select(Employment).where(Employment.organization_id == org_id, Employment.current_on(today))
    sub = base.subquery()
    positions = db.session.execute(select(Position.id, Position.name_column()).where(
        Position.id.in_(select(sub.c.position_id))).order_by(Position.name_column())).all()
    specialties = db.session.execute(select(Specialty.id, Specialty.name_column()).where(
        Specialty.id.in_(select(sub.c.specialty_id))).order_by(Specialty.name_column())).all()
    departments = [d for (d,) in db.session.execute(select(sub.c.department).where(sub.c.department.is_not(None))
                                                    .distinct().order_by(sub.c.department))]
    return positions, specialties, departments


# --- association: CPD assessment across the country ----------------------------------------------


@dataclass
class AssessmentFilters:
    region_id: int | None = None
    specialty_id: int | None = None
    deficit: bool | None = None  # True: only with a deficit; False: only without; None: all
    search: str = ""  # surnames (prefix, any case) or IINs, as the worker lists search (workers.search)


def assessment_specialties(user) -> list[int] | None:
    """Specialties whose workers ``user`` may assess (``access.cpd_assessment_specialties``)."""
    return access.cpd_assessment_specialties(user)


def _region_workers(region_id: int, today: date):
    """SELECT of the workers with a current episode in an organization of the region (a semi-join: the
    planner hashes it once instead of probing employments per certificate row)."""
    return (select(Employment.worker_id)
            .join(Organization, Organization.id == Employment.organization_id)
            .where(Organization.region_id == region_id, Employment.current_on(today)))


def _assessment_certs(user, f: AssessmentFilters, today: date):
    specs = assessment_specialties(user)
    if f.specialty_id:
        specs = [f.specialty_id] if specs is None or f.specialty_id in specs else []
    terms = assessment_terms(user, f.search)
    workers = None
    if terms:  # the workers the search finds (each term narrows), probed through their own indexes
        workers = select(Worker.id).where(*(Worker.id.in_(matching_worker_ids(t)) for t in terms))
    elif terms is None:
        workers = []
    certs = current_certificates(today, worker_ids=workers, specialty_ids=specs)
    return certs


def assessment_terms(user, text: str) -> list[str] | None:
    """The search terms of the assessment: each a surname prefix or an IIN prefix, as every worker list
    searches. A reader who sees IINs masked (``access.mask_for``: associations) searches by a whole IIN
    only, so that prefixes cannot spell out the digits the mask hides; None: a term that finds nobody."""
    terms = (text or "").split()
    if access.mask_for(user) and any(t.isdigit() and len(t) != 12 for t in terms):
        return None
    return terms


def assessment_page(user, f: AssessmentFilters, page: int = 1, per_page: int = 50,
                    today: date | None = None) -> tuple[list[dict], int]:
    """One page of the CPD assessment (rows of worker × specialty) and the total count.

    Without the deficit filter only the page's certificates are aggregated; with it, one GROUP BY over
    the filtered certificates runs in the database. The total comes with the page (``count(*) OVER ()``),
    so a page is one statement (plus the region names of its 50 rows).
    """
    today = today or clock.today()
    page = max(1, int(page or 1))
    offset = (page - 1) * per_page
    certs = _assessment_certs(user, f, today)
    where = []
    if f.region_id:
        where.append(certs.c.worker_id.in_(_region_workers(f.region_id, today)))
    if f.deficit is None:
        paged = (select(certs, func.count().over().label("total")).join(Worker, Worker.id == certs.c.worker_id)
                 .where(*where).order_by(Worker.surname_key, Worker.name, Worker.id, certs.c.specialty_id)
                 .limit(per_page).offset(offset)).subquery("cert_page")
        led = ledger_select(paged, today).add_columns(paged.c.total).group_by(paged.c.total).subquery("ledger")
        q = select(led, Worker.iin, Worker.surname, Worker.name, Worker.patronymic)
    else:
        inner = ledger_select(certs, today).where(*where).subquery("ledger")
        cond = deficit_clause(inner) if f.deficit else ~deficit_clause(inner)
        led = select(inner, func.count().over().label("total")).where(cond).subquery("ledger_f")
        q = select(led, Worker.iin, Worker.surname, Worker.name, Worker.patronymic)
    q = (q.join(Worker, Worker.id == led.c.worker_id)
         .order_by(Worker.surname_key, Worker.name, Worker.id, led.c.specialty_id))
    if f.deficit is not None:
        q = q.limit(per_page).offset(offset)
    rows = db.session.execute(q).all()
    if rows:
        total = rows[0].total
    elif page == 1:
        total = 0
    else:  # past the last page: count without the page
        return [], assessment_page(user, f, 1, per_page, today)[1]
    regions = _regions_of([r.worker_id for r in rows], today)
    return [_assessment_row(r, regions) for r in rows], int(total or 0)


def _regions_of(worker_ids: list[int], today: date) -> dict[int, str]:
    if not worker_ids:
        return {}
    q = (select(Employment.worker_id, AdminUnit.name_column())
         .join(Organization, Organization.id == Employment.organization_id)
         .join(AdminUnit, AdminUnit.id == Organization.region_id)
         .where(Employment.worker_id.in_(worker_ids), Employment.current_on(today))
         .order_by(Employment.worker_id, Employment.is_main.desc(), Employment.hire_date.desc()))
    out: dict[int, str] = {}
    for wid, name in db.session.execute(q):
        out.setdefault(wid, name)
    return out


def _assessment_row(r, regions: dict[int, str]) -> dict:
    """A row of the assessment: the IIN is always masked here (the view serves associations)."""

    row = _ledger_row(r)
    return {"worker_id": r.worker_id, "iin": mask_iin(r.iin),
            "full_name": full_name(r.surname, r.name, r.patronymic),
            "region": regions.get(r.worker_id, ""), "specialty_id": r.specialty_id,
            "cycle_start": row.cycle_start, "cycle_end": row.cycle_end,
            "hours": row.hours, "hours_required": row.hours_required, "credits": row.credits,
            "credits_required": row.credits_required, "hours_deficit": row.hours_deficit,
            "credits_deficit": row.credits_deficit, "progress": row.progress, "has_deficit": row.has_deficit}


def assessment_rows(user, f: AssessmentFilters, today: date | None = None, chunk: int = 2000):
    """Every row of the assessment (for the xlsx export): one streamed statement (server-side cursor on
    PostgreSQL), region names looked up per chunk of ``chunk`` rows."""
    today = today or clock.today()
    certs = _assessment_certs(user, f, today)
    led = ledger_select(certs, today)
    if f.region_id:
        led = led.where(certs.c.worker_id.in_(_region_workers(f.region_id, today)))
    led = led.subquery("ledger")
    q = (select(led, Worker.iin, Worker.surname, Worker.name, Worker.patronymic)
         .join(Worker, Worker.id == led.c.worker_id)
         .order_by(Worker.surname_key, Worker.name, Worker.id, led.c.specialty_id))
    if f.deficit is not None:
        q = q.where(deficit_clause(led) if f.deficit else ~deficit_clause(led))
    result = db.session.execute(q.execution_options(yield_per=chunk))
    for part in result.partitions():
        regions = _regions_of([r.worker_id for r in part], today)
        for r in part:
            yield _assessment_row(r, regions)


def training_totals(lst: TrainingList) -> dict:
    active = [i for i in lst.items if not i.removed]
    return {"workers": len(active), "completed": sum(1 for i in active if i.completed_at is not None),
            "removed": len(lst.items) - len(active)}

