"""The reporting cycle (rules 6-7), docs/reporting.md.

* **Quarterly forecast submissions** (rule 7): the forecast *of a quarter* Q is the projection from Q on
  (``analytics.forecast.compute_forecast``; base date the day before Q starts). It is drafted once Q has
  begun, frozen with its SHA-256, submitted and resubmitted with a reason exactly like the monthly
  report (``reporting.frozen``). Rule 7 names no day: by analogy with rule 6 ("by the 10th day of the
  month following the reporting month") the forecast of Q is **due on the 10th day of Q's first month**
  (the month after the quarter that ends on its base date), moved to the next working day by
  ``workdays.services.due_day``.
* **The authorized body** (role ``authority``, read-only): reads the submitted monthly reports, forecasts
  and answers nationwide, acknowledges receipt (``receive``), registers **requests** (topic, scope,
  period, due date) that the national (country) or regional (region) coordinator answers with a frozen
  snapshot of the monthly report (a month) or the forecast (a quarter) of that scope, or with a file.
* **The reporting calendar**: ``calendar_items`` lists what is due, late, submitted and received for
  the user's role and scope.
* **Reminders** (``send_reminders``, daily through ``rq cron``): coordinators 3 working days before a
  due date and on the day after a missed one (the level above too); heads about training lists waiting
  for approval and HR chiefs about late entries and transfers to close, weekly. Each reminder is a
  ``Notice`` with a unique ``(kind, event_key)``: sent once, in-app and by mail, in each recipient's
  language, however often the job runs.

Who may do what is policy (``access.reporting_scope_allowed`` and friends). Flush, never commit.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from .. import access, clock
from ..analytics.currency import incomplete_clause
from ..analytics.forecast import Quarter, compute_forecast, parse_quarter
from ..auth.models import User
from ..clock import day_start_utc
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..monitoring import services as monthly
from ..monitoring.models import MonitoringReport
from ..notifications import services as notify
from ..notifications.models import (
    REMINDER_DUE_SOON,
    REMINDER_HR_WEEKLY,
    REMINDER_OVERDUE,
    REMINDER_TRAINING,
)
from ..orgs.models import Organization
from ..reference.models import AdminUnit
from ..training.models import LIST_DRAFT, TrainingList, TrainingListItem
from ..workdays.services import WorkingCalendar, due_day, late_entry_clause
from ..workers.models import TRANSFER_OPEN, Employment, Transfer, Worker
from . import frozen
from .models import ANSWER_FILE, ANSWER_SNAPSHOT, STATUS_SUBMITTED, ForecastSubmission, ReportingRequest

Scope = monthly.Scope
FORECAST_DUE_DAY = 10
#: Kinds of documents in the calendar.
MONTHLY, FORECAST, REQUEST = "monthly", "forecast", "request"
DOCUMENT_KINDS = (MONTHLY, FORECAST, REQUEST)
#: Calendar states: what the page shows.
DUE, OVERDUE, RECEIVED = "due", "overdue", "received"
REMIND_WORKING_DAYS = 3
MAX_FILE_BYTES = 20 * 1024 * 1024


# ------------------------------------------------------------------------------------------ forecasts
def forecast_due_date(quarter: str | Quarter) -> date:
    """The forecast of ``quarter`` is due on the 10th of the quarter's first month, moved to the next
    working day when that is not one (``due_day``)."""
    q = parse_quarter(quarter) if isinstance(quarter, str) else quarter
    return due_day(q.start.replace(day=FORECAST_DUE_DAY))


def current_quarter(today: date | None = None) -> Quarter:
    today = today or clock.today()
    return Quarter(today.year, (today.month - 1) // 3 + 1)


def get_forecast(quarter: str, scope: Scope) -> ForecastSubmission | None:
    return db.session.execute(select(ForecastSubmission).where(
        ForecastSubmission.quarter == quarter, ForecastSubmission.scope == scope.kind,
        ForecastSubmission.scope_id == scope.id)).scalar_one_or_none()


def compute_forecast_snapshot(quarter: Quarter, scope: Scope) -> dict:
    data = compute_forecast(quarter, scope)
    data["due_date"] = forecast_due_date(quarter).isoformat()
    return data


def _quarter_begun(q: Quarter) -> None:
    if clock.today() < q.start:
        raise DomainError(_("The forecast of this quarter can be generated from %(day)s (its base date has "
                            "to pass).", day=q.start.isoformat()))


def generate_forecast_draft(quarter: str, scope: Scope, user) -> ForecastSubmission:
    """Compute the forecast of ``quarter`` for ``scope`` and store it as a draft."""
    monthly.require(user, scope, access.CREATE)
    q = parse_quarter(quarter)
    _quarter_begun(q)
    row = get_forecast(q.label, scope) or ForecastSubmission(quarter=q.label, scope=scope.kind, scope_id=scope.id)
    return frozen.store_draft(row, compute_forecast_snapshot(q, scope), user)


def submit_forecast(quarter: str, scope: Scope, user) -> ForecastSubmission:
    monthly.require(user, scope, access.SUBMIT)
    q = parse_quarter(quarter)
    row = get_forecast(q.label, scope)
    if row is None:
        raise DomainError(_("Generate a draft before submitting."))
    return frozen.freeze(row, user)


def resubmit_forecast(quarter: str, scope: Scope, user, reason: str) -> ForecastSubmission:
    monthly.require(user, scope, access.SUBMIT)
    frozen.clean_reason(reason)
    q = parse_quarter(quarter)
    row = get_forecast(q.label, scope)
    if row is None or row.status != STATUS_SUBMITTED:
        raise DomainError(_("Only a submitted report can be resubmitted."))
    return frozen.refreeze(row, compute_forecast_snapshot(q, scope), user, reason)


def snapshot_of(row) -> dict:
    """The stored figures of a forecast (or any frozen document), verified against the checksum once submitted."""
    return frozen.frozen_snapshot(row)


def forecast_status(row: ForecastSubmission | None, quarter: str, today: date | None = None) -> dict:
    return frozen.state(row, forecast_due_date(quarter), today)


# ------------------------------------------------------------------------------------- the documents
def _model(kind: str):
    return {MONTHLY: MonitoringReport, FORECAST: ForecastSubmission, REQUEST: ReportingRequest}.get(kind)


def get_document(kind: str, ident: int, user, action: str = access.LIST):
    """A monthly report, forecast or request by id, if ``user`` may ``action`` it on the reporting
    calendar (the authorized body: submitted documents only; a request, answered or not)."""
    model = _model(kind)
    row = db.session.get(model, ident) if model is not None else None
    if row is None:
        raise NotAllowed()
    if not access.reporting_scope_allowed(user, row.scope, row.scope_id, action):
        raise NotAllowed()
    if kind != REQUEST and not access.reporting_sees_drafts(user) and row.status != STATUS_SUBMITTED:
        raise NotAllowed()
    return row


def document_snapshot(kind: str, row, user) -> dict | None:
    """The frozen figures of a document (None: a request not answered yet, or a draft the user may not read)."""
    if row.status != STATUS_SUBMITTED and (kind == REQUEST or not access.reporting_sees_drafts(user)):
        return None
    return frozen.frozen_snapshot(row)


def due_of(kind: str, row) -> date:
    if kind == MONTHLY:
        return monthly.due_date(row.period)
    if kind == FORECAST:
        return forecast_due_date(row.quarter)
    return due_day(row.due_date)


def document_state(row, due: date, today: date | None = None) -> dict:
    return frozen.state(row, due, today)


def request_scope_choices(user) -> list[tuple[str, str]]:
    """(value, label) of the scopes a request may be addressed to by ``user``: the country (the national
    coordinator answers) and each region (its coordinator answers)."""
    if not access.reporting_scope_allowed(user, access.COUNTRY, 0, access.CREATE):
        return []
    out = [("country", _("Kazakhstan (whole country)"))]
    for reg in db.session.execute(select(AdminUnit).where(AdminUnit.level == 1).order_by(AdminUnit.code)).scalars():
        out.append((f"region:{reg.id}", f"{reg.code} {reg.name}"))
    return out


def receive(kind: str, ident: int, user):
    """The authorized body acknowledges receipt of a submitted document (status received, who, when)."""
    row = get_document(kind, ident, user, access.RECEIVE)
    return frozen.receive(row, user)


# ---------------------------------------------------------------------------------------- requests
_MONTH = re.compile(r"\d{4}-\d{2}")


def parse_request_period(period: str) -> str:
    """A month ``YYYY-MM`` or a quarter ``YYYYQn`` (normalized); a translated error otherwise."""
    text = (period or "").strip().upper()
    if _MONTH.fullmatch(text):
        monthly.parse_period(text)
        return text
    try:
        return parse_quarter(text).label
    except DomainError:
        raise DomainError(_("The period must be a month (2027-03) or a quarter (2027Q1).")) from None


def register_request(user, topic: str, scope: Scope, period: str, due_date: date) -> ReportingRequest:
    """The authorized body registers a request addressed to the national (country) or a regional
    coordinator (region)."""
    if scope.kind not in (access.COUNTRY, access.REGION):
        raise DomainError(_("A request is addressed to the whole country or to a region."))
    if not access.reporting_scope_allowed(user, scope.kind, scope.id, access.CREATE):
        raise NotAllowed()
    topic = (topic or "").strip()
    if len(topic) < 5:
        raise DomainError(_("Describe the request (at least 5 characters)."))
    if due_date is None or due_date < clock.today():
        raise DomainError(_("The due date cannot be in the past."))
    scope.describe()  # an unknown region is refused
    row = ReportingRequest(topic=topic, scope=scope.kind, scope_id=scope.id, period=parse_request_period(period),
                           due_date=due_date, created_by_id=user.id, created_at=clock.utcnow_naive(),
                           status="draft", snapshot="{}", history="[]", generated_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def _request_head(row: ReportingRequest) -> dict:
    return {"request_id": row.id, "topic": row.topic, "period": row.period,
            "due_date": due_day(row.due_date).isoformat(), "scope": Scope(row.scope, row.scope_id).describe()}


def _answer(row: ReportingRequest, user, data: dict, reason: str | None):
    if row.status == STATUS_SUBMITTED:
        return frozen.refreeze(row, data, user, reason)
    frozen.store_draft(row, data, user)
    return frozen.freeze(row, user)


def answer_with_snapshot(ident: int, user, reason: str | None = None) -> ReportingRequest:
    """Answer a request with the frozen figures of its scope and period: the monthly report of the month
    or the forecast of the quarter, computed now. A second answer replaces the first (with a reason)."""
    row = get_document(REQUEST, ident, user, access.ANSWER)
    scope = Scope(row.scope, row.scope_id)
    if _MONTH.fullmatch(row.period):
        monthly.parse_period(row.period)
        monthly_end = monthly.parse_period(row.period)[1]
        if clock.today() <= monthly_end:
            raise DomainError(_("The period has not ended yet: the report can be generated from %(day)s.",
                                day=(monthly_end + timedelta(days=1)).isoformat()))
        figures, what = monthly.compute_report(row.period, scope), MONTHLY
    else:
        q = parse_quarter(row.period)
        _quarter_begun(q)
        figures, what = compute_forecast_snapshot(q, scope), FORECAST
    row.answer_kind, row.file_name, row.file_type, row.file_data = ANSWER_SNAPSHOT, None, None, None
    return _answer(row, user, {"request": _request_head(row), "answer": what, "figures": figures}, reason)


def answer_with_file(ident: int, user, file_name: str, content: bytes, content_type: str | None = None,
                     reason: str | None = None) -> ReportingRequest:
    """Answer a request with an attached file; its SHA-256 is part of the frozen snapshot."""
    row = get_document(REQUEST, ident, user, access.ANSWER)
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name or not content:
        raise DomainError(_("Attach a file to answer with."))
    if len(content) > MAX_FILE_BYTES:
        raise DomainError(_("The file is too large (at most %(mb)s MB).", mb=MAX_FILE_BYTES // (1024 * 1024)))
    row.answer_kind, row.file_name = ANSWER_FILE, name
    row.file_type, row.file_data = (content_type or "application/octet-stream")[:100], content
    data = {"request": _request_head(row), "answer": ANSWER_FILE,
            "file": {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}}
    return _answer(row, user, data, reason)


def answer_file(row: ReportingRequest) -> tuple[str, str, bytes]:
    """(name, type, content) of a file answer, checked against the SHA-256 frozen with it."""
    snap = frozen.frozen_snapshot(row)
    if row.answer_kind != ANSWER_FILE or row.file_data is None:
        raise DomainError(_("This answer has no file."))
    if hashlib.sha256(row.file_data).hexdigest() != snap["file"]["sha256"]:
        raise DomainError(_("The submitted report does not match its checksum."))
    return row.file_name, row.file_type or "application/octet-stream", row.file_data


# --------------------------------------------------------------------------------- the calendar
@dataclass
class Item:
    kind: str
    row: object | None
    period: str
    scope: Scope
    due: date
    state: str          # DUE / OVERDUE / frozen.ON_TIME / frozen.LATE / RECEIVED
    submitted_on: date | None
    topic: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.period}:{self.scope.kind}:{self.scope.id}" + (
            f":{self.row.id}" if self.kind == REQUEST and self.row is not None else "")


def _item(kind, row, period, scope, due, today, topic="") -> Item:
    st = frozen.state(row, due, today)
    if st["received"]:
        code = RECEIVED
    elif st["status"] in (frozen.ON_TIME, frozen.LATE):
        code = st["status"]
    else:
        code = OVERDUE if st["overdue"] else DUE
    return Item(kind, row, period, scope, due, code, st["submitted_on"], topic)


def _calendar_scopes(user) -> list[Scope]:
    """The scopes whose obligations the user follows: the country and every region for the national
    roles, the own region for a regional coordinator."""
    regions = db.session.execute(select(AdminUnit.id).where(AdminUnit.level == 1).order_by(AdminUnit.code)).scalars()
    scopes = [Scope(access.COUNTRY)] + [Scope(access.REGION, r) for r in regions]
    return [s for s in scopes if access.reporting_scope_allowed(user, s.kind, s.id)]


def recent_periods(today: date, months: int = 3) -> list[str]:
    """The last ``months`` ended months, newest first."""
    out, d = [], today.replace(day=1)
    for _i in range(months):
        d = (d - timedelta(days=1)).replace(day=1)
        out.append(f"{d:%Y-%m}")
    return out


def calendar_items(user, today: date | None = None, months: int = 3) -> list[Item]:
    """What is due, late, submitted and received for ``user``: the monthly reports of the last
    ``months`` ended months (the country's and the regions'), the forecasts of this quarter and the
    previous one (the country's, and any region's stored one), and the requests; newest due first."""
    today = today or clock.today()
    scopes = _calendar_scopes(user)
    if not scopes:
        return []
    periods = recent_periods(today, months)
    reports = {(r.period, r.scope, r.scope_id): r for r in db.session.execute(
        select(MonitoringReport).where(MonitoringReport.period.in_(periods),
                                       MonitoringReport.scope.in_((access.COUNTRY, access.REGION)))).scalars()}
    items = [_item(MONTHLY, reports.get((p, s.kind, s.id)), p, s, monthly.due_date(p), today)
             for p in periods for s in scopes]
    q = current_quarter(today)
    quarters = [q.label, q.next(-1).label]
    forecasts = {(f.quarter, f.scope, f.scope_id): f for f in db.session.execute(
        select(ForecastSubmission).where(ForecastSubmission.quarter.in_(quarters))).scalars()}
    for label in quarters:
        for s in scopes:
            row = forecasts.get((label, s.kind, s.id))
            if s.kind == access.COUNTRY or row is not None:  # rule 7 binds the national coordinator
                items.append(_item(FORECAST, row, label, s, forecast_due_date(label), today))
    allowed = {(s.kind, s.id) for s in scopes}
    for r in db.session.execute(select(ReportingRequest).order_by(ReportingRequest.due_date.desc())).scalars():
        if (r.scope, r.scope_id) in allowed:
            items.append(_item(REQUEST, r, r.period, Scope(r.scope, r.scope_id), due_day(r.due_date), today, r.topic))
    items.sort(key=lambda i: (i.due, i.kind, i.scope.kind != access.COUNTRY, i.scope.id), reverse=True)
    return items


# --------------------------------------------------------------------------------------- reminders
def working_days_before(day: date, n: int, cal: WorkingCalendar) -> date:
    """The n-th working day before ``day``."""
    d, left = day, n
    while left:
        d -= timedelta(days=1)
        if cal.is_working_day(d):
            left -= 1
    return d


@dataclass
class Obligation:
    kind: str
    period: str
    scope: Scope
    due: date
    submitted: bool
    topic: str = ""
    ident: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.period}:{self.scope.kind}:{self.scope.id}" + (
            f":{self.ident}" if self.kind == REQUEST else "")

    def payload(self) -> dict:
        return {"document": self.kind, "period": self.period, "due": self.due.isoformat(),
                "scope": self.scope.describe(), "topic": self.topic}


def obligations(today: date) -> list[Obligation]:
    """What coordinators owe now: the previous month's monthly reports (the country's and each coordinated
    region's),
    this quarter's forecast of the country, and every request not answered yet."""
    period = monthly.previous_period(today)
    submitted = {(r.scope, r.scope_id) for r in db.session.execute(
        select(MonitoringReport).where(MonitoringReport.period == period,
                                       MonitoringReport.status == STATUS_SUBMITTED)).scalars()}
    # regions with an active coordinator (nobody else submits a region's report; the calendar still
    # shows every region's status to the national roles)
    coordinated = select(User.region_id).where(access.coordinators_clause(User, access.REGION, User.region_id))
    regions = db.session.execute(select(AdminUnit.id).where(AdminUnit.level == 1, AdminUnit.id.in_(coordinated))
                                 .order_by(AdminUnit.id)).scalars()
    due = monthly.due_date(period)
    out = [Obligation(MONTHLY, period, s, due, (s.kind, s.id) in submitted)
           for s in [Scope(access.COUNTRY)] + [Scope(access.REGION, r) for r in regions]]
    q = current_quarter(today)
    fc = get_forecast(q.label, Scope(access.COUNTRY))
    out.append(Obligation(FORECAST, q.label, Scope(access.COUNTRY), forecast_due_date(q),
                          fc is not None and fc.status == STATUS_SUBMITTED))
    for r in db.session.execute(select(ReportingRequest).where(ReportingRequest.status != STATUS_SUBMITTED)
                                .order_by(ReportingRequest.id)).scalars():
        out.append(Obligation(REQUEST, r.period, Scope(r.scope, r.scope_id), due_day(r.due_date), False, r.topic,
                              r.id))
    return out


def iso_week(today: date) -> str:
    y, w, _d = today.isocalendar()
    return f"{y}-W{w:02d}"


def send_reminders(today: date | None = None) -> dict:
    """Every reminder due on ``today``, each sent once (a unique notice key per reminder):

    * ``soon``: an obligation not submitted, from the 3rd working day before its due date to the due
      date: its coordinators (``access.coordinators_clause``);
    * ``missed``: not submitted after its due date: its coordinators and the level above
      (``access.escalation_clause``), on the first run after the due date;
    * ``training``: an organization has training lists with employees waiting for the head's approval
      (drafts): its heads, once a week (ISO week);
    * ``hr``: entries made late in the last 7 days, incomplete records of the workers in post (rule 8's
      entry fields, ``analytics.currency.incomplete_clause``), transfers to close: the organization's
      HR chiefs, once a week.
    Returns {'reminders': notices created, 'notifications': n, 'mails_queued': m}."""
    today = today or clock.today()
    cal = WorkingCalendar.load()
    counts = {"reminders": 0, "notifications": 0, "mails_queued": 0}

    def add(result):
        for k in counts:
            counts[k] += result[k]

    for ob in obligations(today):
        if ob.submitted:
            continue
        if ob.scope.kind == access.REGION and db.session.get(AdminUnit, ob.scope.id) is None:
            continue
        payload = ob.payload()
        if today > ob.due:
            add(notify.send_reminder(REMINDER_OVERDUE, f"missed:{ob.key}", payload,
                                     [access.coordinators_clause(User, ob.scope.kind, ob.scope.id),
                                      access.escalation_clause(User, ob.scope.kind, ob.scope.id)]))
        elif working_days_before(ob.due, REMIND_WORKING_DAYS, cal) <= today:
            add(notify.send_reminder(REMINDER_DUE_SOON, f"soon:{ob.key}", payload,
                                     [access.coordinators_clause(User, ob.scope.kind, ob.scope.id)]))
    week = iso_week(today)
    waiting = db.session.execute(
        select(TrainingList.organization_id, func.count(func.distinct(TrainingList.id)))
        .join(TrainingListItem, TrainingListItem.list_id == TrainingList.id)
        .where(TrainingList.status == LIST_DRAFT, TrainingListItem.removed.is_(False))
        .group_by(TrainingList.organization_id)).all()
    for org_id, n in waiting:
        add(notify.send_reminder(REMINDER_TRAINING, f"training:{org_id}:{week}", {"lists": n, "org": org_id},
                                 [and_(access.training_approvers_clause(User), User.organization_id == org_id)]))
    for org_id, late, incomplete, transfers in hr_weekly_figures(today, cal):
        add(notify.send_reminder(REMINDER_HR_WEEKLY, f"hr:{org_id}:{week}",
                                 {"late": late, "incomplete": incomplete, "transfers": transfers, "org": org_id},
                                 [and_(access.personnel_chiefs_clause(User), User.organization_id == org_id)]))
    return counts


def hr_weekly_figures(today: date, cal: WorkingCalendar | None = None) -> list[tuple[int, int, int, int]]:
    """(organization id, entries made late in the 7 days before ``today``, incomplete records of the
    workers in post there, open transfers to close) for every organization with something to report.
    "Incomplete" is the dashboard's and the data-currency figures' rule
    (``analytics.currency.incomplete_clause``)."""
    start, end = day_start_utc(today - timedelta(days=7)), day_start_utc(today)
    in_week = and_(Employment.entered_at >= start, Employment.entered_at < end, Employment.annulled_at.is_(None))
    late_sql = late_entry_clause(select(Employment.hire_date).where(in_week).distinct(), calendar=cal)
    late = dict(db.session.execute(select(Employment.organization_id, func.count()).where(in_week, late_sql)
                                   .group_by(Employment.organization_id)).all())
    incomplete = dict(db.session.execute(
        select(Employment.organization_id, func.count(func.distinct(Employment.worker_id)))
        .join(Worker, Worker.id == Employment.worker_id)
        .where(Employment.current_on(today), incomplete_clause())
        .group_by(Employment.organization_id)).all())
    transfers = dict(db.session.execute(select(Transfer.organization_id, func.count())
                                        .where(Transfer.status == TRANSFER_OPEN)
                                        .group_by(Transfer.organization_id)).all())
    orgs = sorted(set(late) | set(incomplete) | set(transfers))
    known = set(db.session.execute(select(Organization.id).where(Organization.id.in_(orgs))).scalars()) if orgs else set()
    return [(o, late.get(o, 0), incomplete.get(o, 0), transfers.get(o, 0)) for o in orgs if o in known]
