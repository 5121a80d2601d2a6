"""Healthcare entities (organizations) and their staffing tables."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import current_lang


class Organization(db.Model):
    """A healthcare entity (or an education / science institution acting as employer) with its BIN."""

    __resource__, __scope__ = "organization", "organization"  # profreg/access.py
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    bin: Mapped[str] = mapped_column(String(12), unique=True)
    name_kk: Mapped[str] = mapped_column(String(255))
    name_ru: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    # Top-level region (level-1 KATO unit) of ``unit``: kept by the service so scoping is one column.
    region_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    # District or city of regional significance (level-2 KATO unit) of the region, rule 4.1: reports,
    # scopes and filters break down by it; None = not set (reports show it on a "district not set" line).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    type_id: Mapped[int | None] = mapped_column(ForeignKey("organization_type.id"))
    ownership_id: Mapped[int | None] = mapped_column(ForeignKey("ownership_form.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    address: Mapped[str | None] = mapped_column(String(255))

    unit = relationship("AdminUnit", foreign_keys=[unit_id])
    region = relationship("AdminUnit", foreign_keys=[region_id])
    district = relationship("AdminUnit", foreign_keys=[district_id])
    type = relationship("OrganizationType")
    ownership = relationship("OwnershipForm")
    parent = relationship("Organization", remote_side="Organization.id")

    __table_args__ = (CheckConstraint("length(bin) = 12", name="bin_len"),)

    @property
    def name(self) -> str:
        return getattr(self, f"name_{current_lang()}") or self.name_ru

    def __str__(self) -> str:
        return f"{self.name} ({self.bin})"


class StaffingPosition(db.Model):
    """One line of an organization's staffing table: position × specialty × approved FTE."""

    __resource__, __scope__ = "staffing", "of_organization"  # profreg/access.py
    __tablename__ = "staffing_position"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    department: Mapped[str | None] = mapped_column(String(255))
    approved_fte: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    valid_from: Mapped[date | None] = mapped_column(Date)

    organization = relationship("Organization")
    position = relationship("Position")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint("approved_fte >= 0", name="fte_nonneg"),
        Index("ix_staffing_org_pos_spec", "organization_id", "position_id", "specialty_id"),
    )

    def __str__(self) -> str:
        return f"{self.position} / {self.specialty or '-'}: {self.approved_fte}"
