"""What ``profreg demo`` adds on top of the synthetic country so that every screen has something to show:
a certificate of the demo organization in the warning window, a draft and an approved advanced-training
list, and a submitted monthly report. Everything goes through the domain services (flush only; the
command commits); every function is idempotent (a second ``profreg demo`` changes nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update

from .. import access, clock
from ..auth.models import User
from ..certificates.models import Certificate
from ..extensions import db
from ..monitoring import services as monitoring
from ..monitoring.models import SCOPE_REGION, STATUS_SUBMITTED
from ..orgs.models import Organization
from ..reconciliation import services as reconciliation
from ..reconciliation.adapters import file_adapter
from ..reference.models import AdminUnit
from ..training import services as training
from ..training.models import LIST_APPROVED, TrainingList
from ..workers.models import Employment
from . import extracts

ASTANA_KATO = "710000000"
WARNING_DAYS = 30  # the demo certificate ends a month from today: inside the (2-month) warning window


def demo_region() -> AdminUnit:
    return db.session.execute(select(AdminUnit).where(AdminUnit.code == ASTANA_KATO)).scalar_one()


def demo_organization() -> Organization | None:
    """The organization of the demo org users (head, HR chief, HR): the first one of Astana."""
    return db.session.execute(select(Organization).where(Organization.region_id == demo_region().id)
                              .order_by(Organization.id)).scalars().first()


def reconcile_demo_extracts(folder: Path, today: date | None = None) -> list[str]:
    """Write the demo's registry extracts (``demo.extracts``) for the first two organizations of Astana into
    ``folder`` and reconcile them nationwide, as ``profreg reconcile esutd|certificates FILE`` does. The same
    register gives the same files and the same items (idempotent). Returns what to print."""
    orgs = db.session.execute(select(Organization).where(Organization.region_id == demo_region().id)
                              .order_by(Organization.id).limit(2)).scalars().all()
    folder.mkdir(parents=True, exist_ok=True)
    esutd, certs = folder / "esutd-extract.csv", folder / "certificate-registry.csv"
    extracts.esutd_extract(orgs, esutd, today)
    extracts.certificates_extract(orgs[0], certs, today)
    out = []
    for source, path in (("esutd", esutd), ("certificates", certs)):
        run = reconciliation.reconcile(file_adapter(source, path), actor=access.CommandLineActor(), today=today)
        out.append(f"Reconciled {path} ({source}): {run.items_found} discrepancies in {run.organizations} "
                   f"organizations")
    return out


def quarter_after(day: date, n: int = 1) -> str:
    """The period (``2027Q1``) ``n`` quarters after the quarter of ``day``."""
    q = (day.month - 1) // 3 + n
    return f"{day.year + q // 4}Q{q % 4 + 1}"


def ensure_expiring_certificate(org: Organization, today: date | None = None) -> Certificate | None:
    """Make sure a current clinical employee of ``org`` holds a certificate in the warning window, so the
    sweep has a warning for the demo's HR: if none does, the first (by id) valid certificate of such an
    employee in the specialty of the post is made to end in a month (deterministic). Returns it, or None."""
    today = today or clock.today()
    candidates = (select(Certificate)
                  .join(Employment, (Employment.worker_id == Certificate.worker_id)
                        & (Employment.specialty_id == Certificate.specialty_id))
                  .where(Employment.organization_id == org.id, Employment.current_on(today))
                  .order_by(Certificate.id))
    for cert in db.session.execute(candidates).scalars().unique():
        if cert.expiring_on(today):
            return cert
    for cert in db.session.execute(candidates.where(Certificate.valid_until >= today)).scalars().unique():
        if not cert.is_latest():
            continue
        # generator data, written like the generator writes (Core): saved records are not edited in the ORM
        until = today + timedelta(days=WARNING_DAYS)
        db.session.execute(update(Certificate).where(Certificate.id == cert.id)
                           .values(valid_until=until, issue_date=until - timedelta(days=5 * 365))
                           .execution_options(synchronize_session=False))
        db.session.expire(cert)
        return cert
    return None


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


@dataclass
class ListInfo:
    period: str
    status: str
    workers: int


def _list(org: Organization, period: str, hr: User) -> TrainingList:
    lst = db.session.execute(select(TrainingList).where(TrainingList.organization_id == org.id,
                                                        TrainingList.period == period)).scalar_one_or_none()
    if lst is None:
        lst = training.create_draft(org.id, period, training.Rules(), None, hr)
        if not lst.items:  # a tiny organization: widen the rules rather than leave the list empty
            training.delete_draft(lst, _user("hrchief@profreg.kz"))
            wide = training.Rules(cert_months=60, include_expired=True, cpd_pro_rata=False, no_training_years=1,
                                  new_role_months=60)
            lst = training.create_draft(org.id, period, wide, None, hr)
    return lst


def training_lists(org: Organization, today: date | None = None) -> list[ListInfo]:
    """An approved list for the next quarter (approved by the head) and a draft for the quarter after it
    (one list per organization and period), made by the demo HR user through the training services."""
    today = today or clock.today()
    hr, head = _user("hr@profreg.kz"), _user("head@profreg.kz")
    approved = _list(org, quarter_after(today, 1), hr)
    if approved.status != LIST_APPROVED and any(not i.removed for i in approved.items):
        training.approve(approved, head)
    draft = _list(org, quarter_after(today, 2), hr)
    return [ListInfo(lst.period, lst.status, sum(1 for i in lst.items if not i.removed))
            for lst in (approved, draft)]


def monthly_report(today: date | None = None):
    """The demo region's monthly report for the previous month, generated and submitted by the demo
    region user through the monitoring services. Returns (period, region, report)."""
    today = today or clock.today()
    region, user = demo_region(), _user("region@profreg.kz")
    period = monitoring.previous_period(today)
    scope = monitoring.Scope(SCOPE_REGION, region.id)
    report = monitoring.get_report(period, scope)
    if report is None or report.status != STATUS_SUBMITTED:
        monitoring.generate_draft(period, scope, user)
        report = monitoring.submit(period, scope, user)
    return period, region, report
