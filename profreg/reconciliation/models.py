"""Reconciliation runs, the contracts of the latest labour-contract extract, and the discrepancies found.

A ``Discrepancy`` belongs to one organization (``organization_id``): it is a worklist item of that
organization's HR, scoped like any organization's row (``access.py``: resource ``reconciliation``).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db

SOURCE_ESUTD, SOURCE_CERTIFICATES = "esutd", "certificates"
SOURCES = (SOURCE_ESUTD, SOURCE_CERTIFICATES)
SOURCE_LABELS = {SOURCE_ESUTD: _l("Labour contracts (ESUTD)"),
                 SOURCE_CERTIFICATES: _l("Certificate issuer's registry")}

#: What a discrepancy is: a contract with no episode in the register; a current episode with no contract;
#: a contract ended in the registry while the episode is still open; a certificate of the issuer's registry
#: missing from the register, or recorded differently.
CONTRACT_MISSING, NO_CONTRACT, DISMISSAL_MISSING = "contract_missing", "no_contract", "dismissal_missing"
CERTIFICATE_MISSING, CERTIFICATE_DIFFERS = "certificate_missing", "certificate_differs"
KINDS = (CONTRACT_MISSING, NO_CONTRACT, DISMISSAL_MISSING, CERTIFICATE_MISSING, CERTIFICATE_DIFFERS)
KIND_LABELS = {CONTRACT_MISSING: _l("Contract not entered in the register"),
               NO_CONTRACT: _l("Employment without a labour contract"),
               DISMISSAL_MISSING: _l("Dismissal not entered in the register"),
               CERTIFICATE_MISSING: _l("Certificate missing from the register"),
               CERTIFICATE_DIFFERS: _l("Certificate differs from the issuer's registry")}

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
STATUSES = (OPEN, RESOLVED, CLOSED)
STATUS_LABELS = {OPEN: _l("Open"), RESOLVED: _l("Resolved"), CLOSED: _l("No longer in the registry")}


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class ReconciliationRun(db.Model):
    """One reconciliation of one file: who, when, which source and file, what it found."""

    __resource__, __scope__ = "reconciliation", "reconciliation_run"  # profreg/access.py
    __tablename__ = "reconciliation_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    as_of: Mapped[date] = mapped_column(Date)  # the day the register was compared on
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_outside: Mapped[int] = mapped_column(Integer, default=0)  # employers or workers outside the scope
    organizations: Mapped[int] = mapped_column(Integer, default=0)  # organizations reconciled
    items_found: Mapped[int] = mapped_column(Integer, default=0)
    items_closed: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[str | None] = mapped_column(Text)  # the rejected rows: "row N: reason", one a line

    user = relationship("User")

    __table_args__ = (CheckConstraint(_in("source", SOURCES), name="source"),)


class RegistryContract(db.Model):
    """A labour contract of the latest ESUTD extract of its employer (an organization of the register):
    the monthly report measures the 3-working-day rule against them. A new extract of an employer
    replaces its rows."""

    __resource__, __scope__ = "reconciliation", "of_organization"  # profreg/access.py
    __tablename__ = "registry_contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_run.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    iin: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    position: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_registry_contract_org_start", "organization_id", "start_date"),
                      Index("ix_registry_contract_start", "start_date"))


class Discrepancy(db.Model):
    """A difference between a state registry and the register: a worklist item of the organization's HR
    with its one-click action (``reconciliation.services.action_of``)."""

    __resource__, __scope__ = "reconciliation", "of_organization"  # profreg/access.py
    __tablename__ = "discrepancy"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_run.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(10), default=OPEN, server_default=OPEN)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    iin: Mapped[str] = mapped_column(String(12))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id", ondelete="SET NULL"))
    employment_id: Mapped[int | None] = mapped_column(ForeignKey("employment.id", ondelete="SET NULL"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id", ondelete="SET NULL"))
    # what the registry says (a contract: start, end, position; a certificate: number, specialty, dates)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    position: Mapped[str | None] = mapped_column(String(255))
    number: Mapped[str | None] = mapped_column(String(64))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    issuer: Mapped[str | None] = mapped_column(String(255))
    differences: Mapped[str | None] = mapped_column(String(255))  # the fields that differ, comma-separated
    found_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    run = relationship("ReconciliationRun")
    organization = relationship("Organization")
    worker = relationship("Worker")
    employment = relationship("Employment")
    certificate = relationship("Certificate")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        Index("ix_discrepancy_org_status", "organization_id", "status"),
        Index("ix_discrepancy_region_status", "region_id", "status"),
    )

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, ""))
