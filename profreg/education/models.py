"""Education (general, additional, postgraduate), academic degrees and titles, qualification
categories and publications (rule 14.2)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workers.models import WorkerRecord

EDUCATION_KINDS = ("general", "additional", "postgraduate")


class EducationInstitution(db.Model):
    """An education or science organization (in Kazakhstan with a BIN, or abroad)."""

    __resource__, __scope__ = "reference", "national"  # profreg/access.py
    __tablename__ = "education_institution"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="education")  # education / science
    country_id: Mapped[int] = mapped_column(ForeignKey("country.id"))
    bin: Mapped[str | None] = mapped_column(String(12), unique=True)
    city: Mapped[str | None] = mapped_column(String(100))
    country = relationship("Country")

    def __str__(self) -> str:
        return self.name


class EducationDocument(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __cpd_evidence__ = True  # read by professional associations (rule 4.5)
    __tablename__ = "education_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    level_id: Mapped[int] = mapped_column(ForeignKey("education_level.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("education_institution.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    qualification: Mapped[str | None] = mapped_column(String(255))
    series: Mapped[str | None] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(32))
    issue_date: Mapped[date | None] = mapped_column(Date)
    graduation_year: Mapped[int | None] = mapped_column(Integer)

    worker = relationship("Worker", backref="education_documents")
    level = relationship("EducationLevel")
    institution = relationship("EducationInstitution")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint("kind IN ('general', 'additional', 'postgraduate')", name="kind"),
        # "has an education document in force" for every worker at once (the data-currency ranking):
        # an index-only scan in worker order instead of reading and de-duplicating the table
        Index("ix_education_document_in_force_worker", "worker_id",
              postgresql_where=text("superseded_by_id IS NULL AND annulled_at IS NULL"),
              sqlite_where=text("superseded_by_id IS NULL AND annulled_at IS NULL")),
    )

    def __str__(self) -> str:
        return f"{self.level} {self.series or ''}{self.number}"


class AcademicDegree(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __tablename__ = "academic_degree"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    degree_type_id: Mapped[int] = mapped_column(ForeignKey("academic_degree_type.id"))
    field: Mapped[str | None] = mapped_column(String(255))
    award_date: Mapped[date | None] = mapped_column(Date)
    diploma_number: Mapped[str | None] = mapped_column(String(32))
    worker = relationship("Worker", backref="academic_degrees")
    degree_type = relationship("AcademicDegreeType")

    def __str__(self) -> str:
        return str(self.degree_type)


class AcademicTitle(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __tablename__ = "academic_title"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    title_type_id: Mapped[int] = mapped_column(ForeignKey("academic_title_type.id"))
    field: Mapped[str | None] = mapped_column(String(255))
    award_date: Mapped[date | None] = mapped_column(Date)
    certificate_number: Mapped[str | None] = mapped_column(String(32))
    worker = relationship("Worker", backref="academic_titles")
    title_type = relationship("AcademicTitleType")

    def __str__(self) -> str:
        return str(self.title_type)


class QualificationCategory(WorkerRecord, db.Model):
    """A qualification category awarded to a worker in a specialty."""

    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __cpd_evidence__ = True  # read by professional associations (rule 4.5)
    __tablename__ = "qualification_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("qualification_category_type.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    award_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    order_number: Mapped[str | None] = mapped_column(String(64))
    worker = relationship("Worker", backref="qualification_categories")
    category = relationship("QualificationCategoryType")
    specialty = relationship("Specialty")

    __table_args__ = (CheckConstraint("valid_until IS NULL OR valid_until >= award_date", name="dates"),)

    def __str__(self) -> str:
        return str(self.category)


class Publication(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __tablename__ = "publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("publication_type.id"))
    title: Mapped[str] = mapped_column(Text)
    journal: Mapped[str | None] = mapped_column(String(255))
    year: Mapped[int] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(String(128))
    isbn: Mapped[str | None] = mapped_column(String(32))
    coauthors: Mapped[str | None] = mapped_column(Text)
    scopus: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    wos: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    worker = relationship("Worker", backref="publications")
    type = relationship("PublicationType")

    def __str__(self) -> str:
        return self.title[:80]
