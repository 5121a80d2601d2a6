"""Reference data (classifiers) with kk/ru/en names. Data, not code: seeded from seeds/*.csv, edited by admin."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import current_lang


class ReferenceMixin:
    """code + trilingual name; ``name`` follows the current locale."""

    __resource__, __scope__ = "reference", "national"  # profreg/access.py

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_kk: Mapped[str] = mapped_column(String(255))
    name_ru: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    @property
    def name(self) -> str:
        return getattr(self, f"name_{current_lang()}") or self.name_ru

    def __str__(self) -> str:  # minimal: shown in dropdowns and ajax lookups
        return self.name

    @classmethod
    def name_column(cls):
        """The SQL column holding the name in the current locale (for sorting and exports)."""
        return getattr(cls, f"name_{current_lang()}")


class AdminUnit(ReferenceMixin, db.Model):
    """Administrative-territorial unit (KATO). Level 1: the 17 regions and 3 cities of republican significance;
    level 2: their districts and cities of regional significance (seeds/kato_districts.csv); level 3: the
    cities of district significance (seeds/kato_cities.csv)."""

    __tablename__ = "admin_unit"
    code: Mapped[str] = mapped_column(String(9), unique=True)  # KATO code
    level: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    is_city: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    population: Mapped[int | None] = mapped_column(Integer)
    parent = relationship("AdminUnit", remote_side="AdminUnit.id")


class Country(ReferenceMixin, db.Model):
    __tablename__ = "country"


class Specialty(ReferenceMixin, db.Model):
    """Specialty (level 0) or specialization (parent set). CPD requirement per certification cycle."""

    __tablename__ = "specialty"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"), index=True)
    is_clinical: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    cpd_hours_required: Mapped[int | None] = mapped_column(Integer)
    cpd_credits_required: Mapped[int | None] = mapped_column(Integer)
    parent = relationship("Specialty", remote_side="Specialty.id")


class Position(ReferenceMixin, db.Model):
    __tablename__ = "position"
    group: Mapped[str] = mapped_column(String(32), default="other")  # doctor / nurse / pharmacist / manager / other
    is_clinical: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class EducationLevel(ReferenceMixin, db.Model):
    __tablename__ = "education_level"
    kind: Mapped[str] = mapped_column(String(16), default="general")  # general / additional / postgraduate


class IdentityDocumentType(ReferenceMixin, db.Model):
    __tablename__ = "identity_document_type"


class AcademicDegreeType(ReferenceMixin, db.Model):
    __tablename__ = "academic_degree_type"


class AcademicTitleType(ReferenceMixin, db.Model):
    __tablename__ = "academic_title_type"


class QualificationCategoryType(ReferenceMixin, db.Model):
    __tablename__ = "qualification_category_type"


class PublicationType(ReferenceMixin, db.Model):
    __tablename__ = "publication_type"


class TrainingActivityType(ReferenceMixin, db.Model):
    """CPD / training activity kind; ``is_advanced_training`` marks certification courses (біліктілікті арттыру)."""

    __tablename__ = "training_activity_type"
    is_advanced_training: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class LabourCodeGround(ReferenceMixin, db.Model):
    """The Labour Code ground on which an employment contract ended (Labour Code of the Republic of
    Kazakhstan of 23.11.2015 No. 414-V), with its article: ``article`` is ``52`` (an article) or
    ``52.1.24`` (article 52, paragraph 1, subparagraph 24). The analytic category of the ending (where the
    worker goes) is a separate field of the episode (``workers.models.END_CATEGORIES``)."""

    __tablename__ = "labour_code_ground"
    article: Mapped[str] = mapped_column(String(32), default="", server_default="")

    @property
    def article_label(self) -> str:
        return _("Labour Code, art. %(article)s", article=self.article) if self.article else ""

    def __str__(self) -> str:
        return f"{self.name} ({self.article_label})" if self.article else self.name


class EmploymentEndReason(ReferenceMixin, db.Model):
    """The reasons for leaving used before issue 20 (one list mixing the Labour Code ground with where the
    worker goes). Kept so that the value entered then stays readable; ``ground_code`` and ``category`` are
    the mapping the migration applied to the episodes (``LabourCodeGround.code``, ``END_CATEGORIES``).
    New endings record the ground and the category instead."""

    __tablename__ = "employment_end_reason"
    ground_code: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(16))
    voluntary: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    leaves_sector: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    abroad: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    retirement: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    death: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    transfer: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class PersonnelDocumentType(ReferenceMixin, db.Model):
    __tablename__ = "personnel_document_type"


class OrganizationType(ReferenceMixin, db.Model):
    __tablename__ = "organization_type"


class OwnershipForm(ReferenceMixin, db.Model):
    __tablename__ = "ownership_form"


# Seed file name -> model; loaded in this order (parents first).
REFERENCE_MODELS = {
    "admin_units": AdminUnit,
    "countries": Country,
    "specialties": Specialty,
    "positions": Position,
    "education_levels": EducationLevel,
    "identity_document_types": IdentityDocumentType,
    "academic_degree_types": AcademicDegreeType,
    "academic_title_types": AcademicTitleType,
    "qualification_category_types": QualificationCategoryType,
    "publication_types": PublicationType,
    "training_activity_types": TrainingActivityType,
    "labour_code_grounds": LabourCodeGround,
    "employment_end_reasons": EmploymentEndReason,
    "personnel_document_types": PersonnelDocumentType,
    "organization_types": OrganizationType,
    "ownership_forms": OwnershipForm,
}


