"""Per-role dashboard: tiles that lead to their lists, the "needs attention" worklist, a 12-month trend.

Every figure is a single scoped SQL aggregate, and every tile is a **named list filter** (``TILES``):
the tile's count is ``count(*)`` of the list's own query (``access.scoped`` + the list's ``in_lists``)
with the tile's clause, and its link opens the list with ``?tile=<key>`` (optionally ``&tile_org=<id>``
for one organization of a region's table): ``ScopedModelView._listed`` adds the same clause
(``apply_tile``). So a tile and its list show exactly the same rows, by construction.

The clauses are the register's vocabulary, never re-implemented here: expiring certificates are
``Certificate.expiring_on(today)`` (the sweep's warning window, ``CERT_WARNING_MONTHS``), late entries
``workdays.services.late_entry_clause`` (rule 8's three working days), incomplete records
``analytics.currency.incomplete_clause`` (rule 8's fields at entry), the transfers to act on
``workers.services.transfers_to_act_on``, the report status ``monitoring.services.submission_status``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_request_context, request, url_for
from flask_babel import format_date, format_decimal, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from .. import access, clock
from ..analytics.currency import incomplete_clause
from ..audit.models import AuditLog
from ..auth.models import User
from ..certificates.models import Certificate, warning_months
from ..dates import add_months
from ..extensions import db
from ..i18n import fmt_date
from ..memo import Memo
from ..monitoring import services as monitoring
from ..monitoring.sql import year_month
from ..orgs.models import Organization
from ..reconciliation import services as reconciliation
from ..training.models import LIST_DRAFT, TrainingList
from ..workdays.services import days, late_entry_clause
from ..workers.models import Employment, Worker
from ..workers.services import transfers_to_act_on

TREND_MONTHS = 12
ORG_TABLE_ROWS = 15  # a region's "needs attention" table: the organizations with the most items


def scope_label(user) -> str:
    if user.role == access.Role.REGION and user.region is not None:
        return user.region.name
    if user.organization is not None:
        return user.organization.name
    return ""


# ------------------------------------------------------------------------------------ named filters
def _held(worker_id_col, today: date, org_id: int | None):
    """The worker holds a current episode (in ``org_id`` when given): "in post"."""
    cond = [Employment.worker_id == worker_id_col, Employment.current_on(today)]
    if org_id is not None:
        cond.append(Employment.organization_id == org_id)
    return exists().where(*cond)


def _year(today: date):
    return date(today.year, 1, 1), date(today.year + 1, 1, 1)


def _hires(user, today: date, org_id: int | None) -> list:
    """Episodes started this year in the user's organizations (a clinic counts its own hires, not
    those of its workers' other employers); ``access.org_ids_select`` is the user's organizations."""
    first, nxt = _year(today)
    cond = [Employment.hire_date >= first, Employment.hire_date < nxt]
    ids = access.org_ids_select(user)
    if ids is not None:
        cond.append(Employment.organization_id.in_(ids))
    if org_id is not None:
        cond.append(Employment.organization_id == org_id)
    return cond


def _late(user, today: date, org_id: int | None) -> list:
    first, _nxt = _year(today)
    # a hire after today cannot be late yet: the cutoffs cover this year up to today
    return [*_hires(user, today, org_id), late_entry_clause(days(first, today))]


@dataclass(frozen=True)
class Tile:
    key: str
    model: type
    endpoint: str  # the list view
    label: Callable[[], str]
    clause: Callable  # (user, today, org_id | None) -> [conditions]
    resource: str  # the tile shows for roles with L on this resource
    danger: bool = False


def _expiring_label():
    months = warning_months()
    return lazy_ngettext("Certificates expiring within %(num)d month", "Certificates expiring within %(num)d months",
                         months)


TILES: dict[str, Tile] = {t.key: t for t in (
    Tile("active", Worker, "workers.index_view", lambda: _l("Active workers"),
         lambda u, d, o: [_held(Worker.id, d, o), Worker.status == "active"], "worker"),
    Tile("blocked", Worker, "workers.index_view", lambda: _l("Blocked workers"),
         lambda u, d, o: [_held(Worker.id, d, o), Worker.status == "blocked"], "worker", danger=True),
    Tile("incomplete", Worker, "workers.index_view", lambda: _l("Incomplete records (rule 8 fields missing)"),
         lambda u, d, o: [_held(Worker.id, d, o), incomplete_clause()], "worker", danger=True),
    Tile("expiring", Certificate, "certificates.index_view", _expiring_label,
         lambda u, d, o: [Certificate.expiring_on(d)] + ([_held(Certificate.worker_id, d, o)] if o else []),
         "worker_record", danger=True),
    Tile("hires", Employment, "employment.index_view", lambda: _l("Hires this year"), _hires, "employment"),
    Tile("late", Employment, "employment.index_view",
         lambda: _l("Hires entered late this year (after 3 working days)"), _late, "employment", danger=True),
)}


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


def requested_tile(model=None) -> Tile | None:
    """The tile named by the request's ``?tile=`` for a list of ``model`` (None: no tile)."""
    if not has_request_context():
        return None
    tile = TILES.get(request.args.get("tile", ""))
    if tile is None or (model is not None and tile.model is not model):
        return None
    return tile


def apply_tile(model, query, user):
    """The list's query narrowed to the requested tile's rows (``ScopedModelView._listed``)."""
    tile = requested_tile(model)
    if tile is None:
        return query
    return query.filter(*tile.clause(user, clock.today(), _int_arg("tile_org")))


def active_tile(view) -> dict | None:
    """What the list page says about its tile filter (label, organization), or None."""
    tile = requested_tile(getattr(view, "model", None))
    if tile is None:
        return None
    org_id = _int_arg("tile_org")
    org = db.session.get(Organization, org_id) if org_id is not None else None
    return {"label": tile.label(), "organization": org.name if org is not None else None}


def _listed(model, user, *columns):
    """SELECT ``columns`` over ``model`` as its list sees it: scoped, and without the rows lists leave out."""
    q = access.scoped(select(*columns).select_from(model), model, user)
    in_lists = getattr(model, "in_lists", None)
    return q.where(in_lists()) if in_lists is not None else q


def _tile_count(tile: Tile, user, today: date, org_id: int | None = None, memo: dict | None = None) -> int:
    """The tile's count; ``memo`` (one page's) spares counting twice what the tiles and the worklist share."""
    memo = {} if memo is None else memo
    key = (tile.key, user.id, today, org_id)
    if key not in memo:
        user_id = user.id

        def count():  # (may run in a refresh thread: the user is read again there)
            who = _as_user(user_id)
            q = _listed(tile.model, who, func.count()).where(*tile.clause(who, today, org_id))
            return db.session.execute(q).scalar() or 0

        memo[key] = _BIG_COUNTS.get(key, count) if counts_kept(user) else count()
    return memo[key]


def tile_url(key: str, org_id: int | None = None) -> str:
    return url_for(TILES[key].endpoint, tile=key, tile_org=org_id)


def _card(key: str, user, today: date, memo: dict | None = None) -> dict:
    tile = TILES[key]
    return {"key": key, "label": tile.label(), "value": _tile_count(tile, user, today, memo=memo), "danger": tile.danger,
            "url": tile_url(key)}


def _visible(user, key: str) -> bool:
    return access.can(user, TILES[key].resource, access.LIST)


def _transfers(user, today: date) -> dict | None:
    if not access.can(user, "transfer", access.END):
        return None
    # transfers waiting on this user: its organization's episodes to end, or the region's overdue ones
    own = getattr(user, "organization_id", None) is not None
    act = transfers_to_act_on(user, today).with_only_columns(func.count(), maintain_column_froms=True)
    return {"key": "transfers", "label": _l("Transfers: episodes to end") if own else _l("Transfers past their due date"),
            "value": db.session.execute(act).scalar() or 0, "danger": True,
            "url": url_for("transfers.index", show="open" if own else "overdue")}


def dashboard_cards(user, memo: dict | None = None) -> list[dict]:
    """The headline tiles of ``user``'s role, each with the link to its list."""
    today = clock.today()
    cards = [_card(k, user, today, memo) for k in ("active", "blocked", "expiring", "hires", "late") if _visible(user, k)]
    transfers = _transfers(user, today)
    if transfers is not None:
        cards.append(transfers)
    if access.can(user, "user", access.LIST):
        users = select(func.count()).select_from(User)
        cards.append({"label": _l("Active users"), "url": url_for("users.index_view"),
                      "value": db.session.execute(users.where(User.active.is_(True))).scalar() or 0})
        locked = (db.session.execute(users.where(User.active.is_(True), User.locked_until > clock.utcnow_naive()))
                  .scalar() or 0) + (db.session.execute(users.where(User.active.is_(False))).scalar() or 0)
        cards.append({"label": _l("Locked or disabled users"), "value": locked, "url": url_for("users.index_view")})
    return cards


# ------------------------------------------------------------------------------------------ worklist
WORKLIST_TILES = ("late", "expiring", "blocked", "incomplete")


def _report_item(user, today: date) -> dict | None:
    """The region's monthly report of the last month, while it is not submitted (due on the 10th)."""
    if user.role != access.Role.REGION or not user.region_id:
        return None
    period = monitoring.previous_period(today)
    scope = monitoring.Scope(monitoring.SCOPE_REGION, user.region_id)
    if not monitoring.authorize(user, scope, access.SUBMIT):
        return None
    status = monitoring.submission_status(monitoring.get_report(period, scope), period, today)
    if status["status"] not in (monitoring.NOT_STARTED, monitoring.DRAFT):
        return None
    label = (_("Monthly report for %(period)s is overdue (due %(date)s)", period=period, date=fmt_date(status["due"]))
             if status["overdue"] else
             _("Monthly report for %(period)s is due on %(date)s", period=period, date=fmt_date(status["due"])))
    return {"key": "report", "label": label, "value": 1, "danger": status["overdue"],
            "url": url_for("monitoring.index", period=period, scope=f"region:{user.region_id}")}


def _approval_item(user) -> dict | None:
    """Training lists of the head's organization waiting for the head's approval."""
    if not access.can(user, "training_list", access.APPROVE):
        return None
    q = access.scoped(select(func.count()).select_from(TrainingList), TrainingList, user)
    n = db.session.execute(q.where(TrainingList.status == LIST_DRAFT)).scalar() or 0
    return {"key": "approve", "label": _l("Advanced-training lists waiting for approval"), "value": n,
            "danger": False, "url": url_for("training_lists.index")}


def _registry_item(user) -> dict | None:
    """The open discrepancies with state registries in the user's scope (issue 20.7): contracts,
    dismissals and certificates the register lacks, episodes without a contract."""
    if not access.can(user, "reconciliation", access.LIST):
        return None
    n = reconciliation.open_count(user)
    return {"key": "registries", "label": _l("Discrepancies with state registries (contracts, certificates)"),
            "value": n, "danger": n > 0, "url": url_for("reconciliation.index")}


def worklist(user, memo: dict | None = None) -> list[dict]:
    """What needs the user's attention (HR, heads, region): late entries, expiring certificates, blocked
    workers, incomplete records, transfers to close, discrepancies with state registries, and the reports
    or approvals due."""
    if user.role not in (*access.ORG_ROLES, access.Role.REGION):
        return []
    today = clock.today()
    items = [_card(k, user, today, memo) for k in WORKLIST_TILES if _visible(user, k)]
    for extra in (_transfers(user, today), _registry_item(user), _report_item(user, today), _approval_item(user)):
        if extra is not None:
            items.append(extra)
    return items


def organization_table(user) -> dict | None:
    """A region's worklist per organization: the organizations with the most items, each count a link
    to the list of that organization's rows (``tile_org``)."""
    if user.role != access.Role.REGION:
        return None
    today = clock.today()
    if counts_kept(user):
        user_id = user.id
        per_key = _BIG_COUNTS.get(("organization_table", user_id, today),
                                  lambda: _org_counts(_as_user(user_id), today))
    else:
        per_key = _org_counts(user, today)
    totals: dict[int, int] = {}
    for counts in per_key.values():
        for org_id, n in counts.items():
            totals[org_id] = totals.get(org_id, 0) + n
    top = sorted(totals, key=lambda o: -totals[o])[:ORG_TABLE_ROWS]
    names = {o.id: o.name for o in db.session.execute(select(Organization).where(Organization.id.in_(top))).scalars()}
    rows = []
    for org_id in top:
        cells = [{"value": per_key[k].get(org_id, 0), "url": tile_url(k, org_id)} for k in WORKLIST_TILES]
        cells.append({"value": per_key["transfers"].get(org_id, 0), "url": url_for("transfers.index", show="overdue")})
        cells.append({"value": per_key["registries"].get(org_id, 0), "url": url_for("reconciliation.index", org=org_id)})
        rows.append({"organization": names.get(org_id, ""), "cells": cells})
    headers = [TILES[k].label() for k in WORKLIST_TILES] + [_l("Transfers past their due date"),
                                                            _l("Discrepancies with state registries")]
    return {"headers": headers, "rows": rows, "more": max(len(totals) - len(top), 0)}


def _org_counts(user, today: date) -> dict[str, dict[int, int]]:
    """Per worklist tile (and transfers), the count of each organization of the region."""
    emp = Employment
    per_key: dict[str, dict[int, int]] = {}
    for key in WORKLIST_TILES:
        tile = TILES[key]
        if tile.model is Employment:
            q = (_listed(emp, user, emp.organization_id, func.count())
                 .where(*tile.clause(user, today, None)).group_by(emp.organization_id))
        else:  # a worker (or his certificate) counts once in each organization of the region he is in post
            worker_id = Worker.id if tile.model is Worker else Certificate.worker_id
            ep = aliased(Employment, name="in_post")
            q = (_listed(tile.model, user, ep.organization_id, func.count(func.distinct(tile.model.id)))
                 .join(ep, and_(ep.worker_id == worker_id, *access.scope_episodes(user, ep)))
                 .where(*tile.clause(user, today, None)).group_by(ep.organization_id))
        per_key[key] = dict(db.session.execute(q).all())
    act = transfers_to_act_on(user, today).subquery()
    per_key["transfers"] = dict(db.session.execute(select(act.c.organization_id, func.count())
                                                   .group_by(act.c.organization_id)).all())
    registries = reconciliation.open_items(user).subquery()
    per_key["registries"] = dict(db.session.execute(select(registries.c.organization_id, func.count())
                                                    .group_by(registries.c.organization_id)).all())
    return per_key


def region_reports(user) -> dict | None:
    """The ministry's view of the last month's regional reports: due, late, per region."""
    if user.role != access.Role.MINISTRY:
        return None
    today = clock.today()
    period = monitoring.previous_period(today)
    rows = monitoring.region_statuses(period, user, today)
    for r in rows:
        r["label"] = monitoring.status_label(r["status"])
    pending = [r for r in rows if r["status"] in (monitoring.NOT_STARTED, monitoring.DRAFT)]
    return {"period": period, "due": rows[0]["due"] if rows else monitoring.due_date(period),
            "rows": rows, "pending": len(pending), "overdue": sum(1 for r in pending if r["overdue"]),
            "late": sum(1 for r in rows if r["status"] == monitoring.LATE)}


# ------------------------------------------------------------------------------------------- trend
def _month_starts(today: date, months: int) -> list[date]:
    first = add_months(today.replace(day=1), -(months - 1))
    return [add_months(first, k) for k in range(months)]


def trend(user, months: int = TREND_MONTHS) -> dict | None:
    """The headline numbers month by month: workers in post at each month end (the last: today),
    hires and dismissals (episodes started / ended in the month) and workers blocked in the month
    (the sweep's ``block`` audit entries), all in the user's organizations."""
    if not access.can(user, "worker", access.LIST):
        return None
    today = clock.today()
    starts = _month_starts(today, months)
    user_id = user.id
    values = _TRENDS.get((access.default_report_scope(user), today, months),
                         lambda: _trend_values(_as_user(user_id), today, starts))
    month_names = [format_date(s, "LLL yy") for s in starts]
    names = (_("Workers in post"), _("Hires"), _("Dismissals"), _("Blocked in the month"))
    return {"months": month_names, "series": [{"name": n, "values": v, "svg": sparkline(n, month_names, v)}
                                              for n, v in zip(names, values, strict=True)]}


#: The trend is history (a whole scan of the episodes for the ministry): kept this long per scope and
#: day for every process (profreg/memo.py), refreshed in a thread.
TREND_SECONDS = 600
_TRENDS = Memo("dashboard trend", TREND_SECONDS, max_keys=500, shared=True, background=True)
#: The counts of a region's or the country's tiles and per-organization table: ~1 s of counting over
#: 20,000–300,000 workers, kept ``BIG_SCOPE_CACHE_SECONDS`` per user (the page says so). An
#: organization's counts (HR, heads) are always live: they act on them and expect to see it at once.
_BIG_COUNTS = Memo("dashboard counts of big scopes", "BIG_SCOPE_CACHE_SECONDS", shared=True, background=True)


def _as_user(user_id: int) -> User:
    """The user, in the session of whoever computes: a kept figure may be refreshed in a thread of its
    own (``memo.Memo(background=True)``), which must not touch the request's session or its objects."""
    return db.session.get(User, user_id)


def forget_trends() -> None:
    _TRENDS.forget()
    _BIG_COUNTS.forget()


def counts_kept(user) -> bool:
    """Whether ``user``'s dashboard counts may be up to ``BIG_SCOPE_CACHE_SECONDS`` old (no
    organization of his own: a region's or the country's figures)."""
    return getattr(user, "organization_id", None) is None and bool(current_app.config.get("BIG_SCOPE_CACHE_SECONDS"))


def _trend_values(user, today: date, starts: list[date]) -> tuple[list[int], ...]:
    ends = [min(add_months(s, 1) - timedelta(days=1), today) for s in starts]
    ids = access.org_ids_select(user)

    def in_orgs(col):
        return [col.in_(ids)] if ids is not None else []

    # workers in post at each month end (``Employment.held_at_end_of``, as the monthly report and the
    # charts count them): one pass over the episodes that can be held at any of those ends
    stock = list(db.session.execute(
        select(*(func.count(func.distinct(Employment.worker_id)).filter(Employment.held_at_end_of(me)) for me in ends))
        .where(Employment.hire_date <= ends[-1], Employment.current_on(ends[0] + timedelta(days=1)),
               *in_orgs(Employment.organization_id))).one())
    stock = [int(n or 0) for n in stock]
    labels = [f"{s:%Y-%m}" for s in starts]

    def monthly(col, *where):
        rows = db.session.execute(select(year_month(col), func.count())
                                  .where(col >= starts[0], col <= today, *where).group_by(year_month(col))).all()
        got = dict(rows)
        return [int(got.get(lab, 0)) for lab in labels]

    hires = monthly(Employment.hire_date, *in_orgs(Employment.organization_id))
    dismissals = monthly(Employment.end_date, Employment.annulled_at.is_(None), *in_orgs(Employment.organization_id))
    blocked = monthly(AuditLog.at, AuditLog.action == "block", AuditLog.table_name == "worker",
                      *in_orgs(AuditLog.organization_id))
    return stock, hires, dismissals, blocked


def sparkline(title: str, labels: list[str], values: list[int], width: int = 240, height: int = 64) -> Markup:
    """A small server-rendered SVG chart (no script): bars per month, the last value and the peak labelled
    with the locale's number format; each bar's tooltip says its month and value."""
    top = max(values, default=0) or 1
    n = max(len(values), 1)
    slot = width / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 14}" role="img" '
             f'aria-label="{escape(title)}" class="dashboard-trend">']
    for i, v in enumerate(values):
        h = (height - 4) * v / top
        parts.append(f'<rect x="{i * slot + 1:.1f}" y="{height - h:.1f}" width="{slot - 2:.1f}" height="{h:.1f}" '
                     f'fill="{"#2e6da4" if i < n - 1 else "#c0392b"}"><title>{escape(labels[i])}: '
                     f'{escape(format_decimal(v))}</title></rect>')
    parts.append(f'<text x="0" y="{height + 12}" font-size="10">{escape(labels[0] if labels else "")}</text>')
    parts.append(f'<text x="{width}" y="{height + 12}" font-size="10" text-anchor="end">'
                 f'{escape(labels[-1] if labels else "")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
