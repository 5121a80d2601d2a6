"""Personnel documents (rule 14.6): metadata in the database, the file under UPLOAD_FOLDER."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..workers.models import WorkerRecord


class PersonnelDocument(WorkerRecord, db.Model):
    __resource__, __scope__ = "personnel_document", "of_worker"  # profreg/access.py
    __tablename__ = "personnel_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    doc_type_id: Mapped[int] = mapped_column(ForeignKey("personnel_document_type.id"))
    number: Mapped[str | None] = mapped_column(String(64))
    doc_date: Mapped[date | None] = mapped_column(Date)
    original_name: Mapped[str | None] = mapped_column(String(255))
    # a correction of a document's data is a new version pointing to the same stored file
    stored_name: Mapped[str | None] = mapped_column(String(255), index=True)
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)

    worker = relationship("Worker", backref="personnel_documents")
    organization = relationship("Organization", foreign_keys=[organization_id])
    doc_type = relationship("PersonnelDocumentType")

    def __str__(self) -> str:
        return f"{self.doc_type} {self.number or ''}"
