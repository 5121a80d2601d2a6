"""The shapes of the JSON API (pydantic models): spectree validates requests against them and builds
the OpenAPI document at ``/api/v1/openapi.json`` from them (docs/api.md)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------------------- errors
class FieldError(BaseModel):
    field: str | None = Field(None, description="the request field (None: the whole request)")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``), in the language of Accept-Language."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


# ----------------------------------------------------------------------------------------- queries
class WorkersQuery(Strict):
    iin: str | None = Field(None, max_length=12, description="exact IIN")
    surname: str | None = Field(None, max_length=100, description="surname prefix (case ignored)")
    org: str | None = Field(None, max_length=12, description="BIN of an organization of a current episode")
    region: str | None = Field(None, max_length=9, description="KATO code of the region of a current episode")
    status: Literal["active", "blocked"] | None = None
    updated_since: datetime | None = Field(None, description="records saved or confirmed at or after (UTC)")
    cursor: str | None = Field(None, max_length=40, description="from next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=500)


class AdmissionQuery(Strict):
    iin: str = Field(..., min_length=1, max_length=12)
    specialty: str | None = Field(None, max_length=32, description="specialty code; none: any specialty")
    on: date | None = Field(None, description="the day (default today)")


class PageQuery(Strict):
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=500)


class ChangesQuery(Strict):
    since: str | None = Field(None, max_length=40, description="next_cursor of the previous answer")
    limit: int = Field(100, ge=1, le=1000)


# ---------------------------------------------------------------------------------------- answers
class CertificateRef(BaseModel):
    number: str
    specialty: str | None = None
    valid_until: date | None = None


class AdmissionOut(BaseModel):
    admitted: bool
    reason: str | None = None
    blocked: bool = Field(description="the worker is blocked (rule 14.5: a current post without a certificate)")
    certificate: CertificateRef | None = None


class WorkerOut(BaseModel):
    iin: str = Field(description="masked to the last 4 digits for an association")
    surname: str
    name: str
    patronymic: str | None = None
    sex: Literal["M", "F"] | None = None
    birth_date: date | None = None
    status: Literal["active", "blocked"]
    updated_at: datetime | None = None
    etag: str


class EpisodeOut(BaseModel):
    id: int
    organization: str = Field(description="BIN")
    organization_name: str
    position: str
    specialty: str | None = None
    hire_date: date
    end_date: date | None = None
    end_ground: str | None = Field(None, description="Labour Code ground code (reference labour_code_grounds)")
    end_category: str | None = Field(None, description="analytic category of the ending: in_sector, transfer, "
                                     "leaves_sector, abroad, retirement, death")
    end_reason: str | None = Field(None, description="the reason for leaving entered before the ground and "
                                   "the category were separate (kept for reading)")
    fte: float
    concurrent: bool
    blocked: bool


class EducationOut(BaseModel):
    id: int
    kind: str
    level: str
    institution: str
    specialty: str | None = None
    qualification: str | None = None
    number: str
    issue_date: date | None = None
    graduation_year: int | None = None


class CertificateOut(BaseModel):
    id: int
    number: str
    specialty: str
    issuer: str | None = None
    issue_date: date
    valid_until: date | None = None


class CpdOut(BaseModel):
    id: int
    activity_type: str
    specialty: str | None = None
    provider: str
    topic: str
    start_date: date
    end_date: date
    hours: float
    credits: float | None = None


class WorkerDetail(WorkerOut):
    episodes: list[EpisodeOut] = []
    education: list[EducationOut] = []
    certificates: list[CertificateOut] = []
    cpd: list[CpdOut] = []


class WorkersPage(BaseModel):
    items: list[WorkerOut]
    next_cursor: str | None = None


class OrganizationOut(BaseModel):
    bin: str
    name: str
    name_kk: str
    name_ru: str
    name_en: str
    type: str | None = None
    region: str | None = Field(None, description="KATO code")
    unit: str | None = Field(None, description="KATO code")
    parent: str | None = Field(None, description="BIN of the parent organization")


class OrganizationsPage(BaseModel):
    items: list[OrganizationOut]
    next_cursor: str | None = None


class ChangeOut(BaseModel):
    cursor: str
    at: datetime
    type: str = Field(description="worker.registered | worker.updated | worker.blocked | worker.unblocked | "
                                  "episode.started | episode.updated | episode.ended | certificate.added | "
                                  "certificate.updated")
    iin: str
    record: str
    record_id: int | None = None


class ChangesPage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str


# ------------------------------------------------------------------------------------------ writes
class ContactsIn(Strict):
    email: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=32)
    residence_address: str | None = Field(None, max_length=255)


class HireIn(Strict):
    surname: str = Field(..., min_length=1, max_length=100, description="as in the identity document")
    birth_date: date
    position: str = Field(..., min_length=1, max_length=32, description="position code")
    specialty: str | None = Field(None, max_length=32, description="specialty code")
    hire_date: date
    fte: float | None = Field(None, gt=0, le=2)
    department: str | None = Field(None, max_length=255)
    order_number: str | None = Field(None, max_length=64)
    concurrent: bool = False


class EndIn(Strict):
    end_date: date
    end_ground: str = Field(..., min_length=1, max_length=32, description="Labour Code ground code")
    end_category: str = Field(..., min_length=1, max_length=16,
                              description="in_sector, transfer, leaves_sector, abroad, retirement or death")


class CertificateIn(Strict):
    number: str = Field(..., min_length=1, max_length=64)
    specialty: str = Field(..., min_length=1, max_length=32, description="specialty code")
    issuer: str | None = Field(None, max_length=255)
    issue_date: date
    valid_until: date | None = None


class IdDocumentIn(Strict):
    type: str = Field(..., min_length=1, max_length=32, description="identity document type code")
    number: str = Field(..., min_length=1, max_length=32)
    issuer: str = Field(..., min_length=1, max_length=255)
    issued: date


class EducationIn(Strict):
    kind: Literal["general", "additional", "postgraduate"] = "general"
    level: str = Field(..., min_length=1, max_length=32, description="education level code")
    institution: str = Field(..., min_length=1, max_length=255, description="BIN or exact name")
    number: str = Field(..., min_length=1, max_length=32)
    series: str | None = Field(None, max_length=16)
    issue_date: date | None = None
    specialty: str | None = Field(None, max_length=32)
    qualification: str | None = Field(None, max_length=255)


class RegisterIn(Strict):
    iin: str = Field(..., min_length=12, max_length=12)
    surname: str = Field(..., min_length=1, max_length=100)
    name: str = Field(..., min_length=1, max_length=100)
    patronymic: str | None = Field(None, max_length=100)
    sex: Literal["M", "F"]
    birth_date: date
    birth_place: str = Field(..., min_length=1, max_length=255)
    citizenship: str = Field("KZ", max_length=8, description="country code")
    id_document: IdDocumentIn
    residence_address: str = Field(..., min_length=1, max_length=255)
    registration_place: str = Field(..., min_length=1, max_length=255)
    registration_date: date
    email: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=32)
    education: list[EducationIn] = Field(..., min_length=1, max_length=20)
    position: str = Field(..., min_length=1, max_length=32)
    specialty: str | None = Field(None, max_length=32)
    hire_date: date
    fte: float | None = Field(None, gt=0, le=2)
    department: str | None = Field(None, max_length=255)
    order_number: str | None = Field(None, max_length=64)


class EpisodeCreated(BaseModel):
    worker: WorkerOut
    episode: EpisodeOut

