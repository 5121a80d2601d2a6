"""Health workers (rule 8) and their employment episodes."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    case,
    event,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship, validates
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..extensions import db
from ..orgs.models import Organization

STATUS_ACTIVE = "active"
STATUS_BLOCKED = "blocked"

#: The analytic category of an episode's ending (issue 20.6): where the worker goes, separate from the
#: Labour Code ground (``reference.models.LabourCodeGround``). Migration and outflow figures read it.
END_IN_SECTOR, END_TRANSFER, END_LEAVES_SECTOR, END_ABROAD, END_RETIREMENT, END_DEATH = (
    "in_sector", "transfer", "leaves_sector", "abroad", "retirement", "death")
END_CATEGORIES = (END_IN_SECTOR, END_TRANSFER, END_LEAVES_SECTOR, END_ABROAD, END_RETIREMENT, END_DEATH)
END_CATEGORY_LABELS = {END_IN_SECTOR: _l("Stays in the health sector"),
                       END_TRANSFER: _l("Moves to another healthcare organization"),
                       END_LEAVES_SECTOR: _l("Leaves the health sector"), END_ABROAD: _l("Leaves for abroad"),
                       END_RETIREMENT: _l("Retirement"), END_DEATH: _l("Death")}

#: Rule 8's personal-data columns a worker is first registered with (with at least one education
#: document in force): the identity document, the place of residence, the place and date of
#: registration. ``workers.services.entry_errors`` requires them at entry; the data-currency figures
#: and worklist (``analytics/currency.py``) list the records that still lack them.
ENTRY_COLUMNS = ("id_doc_type_id", "id_doc_number", "id_doc_issuer", "id_doc_issued", "residence_address",
                 "registration_place", "registration_date")
#: Their names as a reader sees them (the worklist), and "education" for a missing education document.
ENTRY_LABELS = {"id_doc_type_id": _l("Identity document"), "id_doc_number": _l("Document number"),
                "id_doc_issuer": _l("Issued by"), "id_doc_issued": _l("Date of issue"),
                "residence_address": _l("Place of residence"), "registration_place": _l("Place of registration"),
                "registration_date": _l("Date of registration"), "education": _l("Education document")}


def full_name(surname: str | None, name: str | None, patronymic: str | None) -> str:
    """Surname, name and patronymic as one line (the parts that are set)."""
    return " ".join(p for p in (surname, name, patronymic) if p)


def fold(text: str | None) -> str | None:
    """Case-folded form for search: SQLite's lower() folds ASCII only, so we store our own."""
    return text.casefold() if text is not None else None


#: The Kazakh Cyrillic alphabet in its order; the Russian letters keep their own order inside it.
KAZAKH_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_SORT_CODES = {
    **{ch: f"{20 + i:02d}" for i, ch in enumerate(KAZAKH_ALPHABET)},
    **{ch: f"{70 + i:02d}" for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz")},
    **{ch: f"{2 + i:02d}" for i, ch in enumerate("0123456789")},
    " ": "01", "-": "01", "'": "01", "’": "01",
}


def sort_key(text: str | None) -> str | None:
    """A key that orders surnames as the Kazakh alphabet does (Ә after А, Ғ after Г, І after Ы, ...),
    Latin letters after Cyrillic, case ignored. Two digits per character, so every database collation
    orders the keys alike (byte order would put Ә, Ғ, Қ after Я, and І, Ё before А)."""
    if text is None:
        return None
    return "".join(_SORT_CODES.get(ch, "99") for ch in text.casefold())


#: The characters whose sort code is their own (letters and digits; spaces, hyphens and apostrophes share
#: "01", every other character "99").
_OWN_CODES = frozenset(ch for ch, code in _SORT_CODES.items() if code != "01")


def sort_key_is_exact(text: str) -> bool:
    """Whether the surnames whose ``sort_key`` starts with ``sort_key(text)`` are exactly those whose
    case-folded form starts with ``text`` case-folded: every character of it has a code of its own."""
    return all(ch in _OWN_CODES for ch in text.casefold())


class WorkerRecord:
    """What every record of a worker's national file shares (certificates, education, degrees, titles,
    qualification categories, publications, CPD, personnel documents): it is never deleted by an
    organization (docs/integrity.md).

    * ``entered_by_organization_id`` / ``entered_at``: which organization entered it, and when (it may
      correct its own entry for ``CORRECTION_DAYS``; the region and the ministry later).
    * a **correction** is a new version: the old row gets ``superseded_by_id``, the new one carries the
      ``correction_reason``; both stay (the history).
    * an **annulment** (``annulled_at``/``annulled_by_id``/``annul_reason``) takes a wrong entry out of
      every rule and list, keeps it, and can be undone.
    * ``in_force``: neither superseded nor annulled — the rows the rules and lists use.
    """

    entered_at: Mapped[datetime | None] = mapped_column(DateTime, default=clock.utcnow_naive)
    correction_reason: Mapped[str | None] = mapped_column(String(500))
    annulled_at: Mapped[datetime | None] = mapped_column(DateTime)
    annul_reason: Mapped[str | None] = mapped_column(String(500))

    @declared_attr
    def entered_by_organization_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("organization.id"))

    @declared_attr
    def superseded_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"))

    @declared_attr
    def annulled_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user.id"))

    @hybrid_property
    def in_force(self) -> bool:
        """Neither superseded by a correction nor annulled."""
        return self.superseded_by_id is None and self.annulled_at is None

    @in_force.inplace.expression
    @classmethod
    def _in_force(cls):
        return and_(cls.superseded_by_id.is_(None), cls.annulled_at.is_(None))

    @classmethod
    def in_lists(cls):
        """What everyday lists show (the worker page shows the history too)."""
        return cls.in_force


class Worker(db.Model):
    """A health worker's personal record: the 15 fields of rule 8 live here and in related tables."""

    __resource__, __scope__ = "worker", "worker"  # profreg/access.py
    __tablename__ = "worker"
    id: Mapped[int] = mapped_column(primary_key=True)
    iin: Mapped[str] = mapped_column(String(12), unique=True)
    surname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    surname_folded: Mapped[str] = mapped_column(String(100), index=True)
    # ``sort_key(surname)``: lists order by it (Kazakh alphabetical order on every database)
    surname_key: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(255))
    citizenship_id: Mapped[int] = mapped_column(ForeignKey("country.id"))
    id_doc_type_id: Mapped[int | None] = mapped_column(ForeignKey("identity_document_type.id"))
    id_doc_number: Mapped[str | None] = mapped_column(String(32))
    id_doc_issuer: Mapped[str | None] = mapped_column(String(255))
    id_doc_issued: Mapped[date | None] = mapped_column(Date)
    id_doc_expires: Mapped[date | None] = mapped_column(Date)
    residence_address: Mapped[str | None] = mapped_column(String(255))
    registration_place: Mapped[str | None] = mapped_column(String(255))
    registration_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(2))  # language for notices to the worker
    status: Mapped[str] = mapped_column(String(10), default=STATUS_ACTIVE, server_default=STATUS_ACTIVE, index=True)
    blocked_reason: Mapped[str | None] = mapped_column(String(255))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime)
    unblocked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive, onupdate=clock.utcnow_naive)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)  # data currency: "checked, still true"
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # A record entered by mistake (the wrong person) is annulled, never deleted: hidden from lists and
    # reports, kept with its history, restorable (docs/integrity.md).
    annulled_at: Mapped[datetime | None] = mapped_column(DateTime)
    annulled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    annul_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The certificate status (valid / expiring / expired / none) as of ``cert_status_on``, kept by
    # ``certificates.services.refresh_certificate_statuses`` (the daily sweep for everyone, every
    # certificate write for its worker): the list filter reads it through an index when it is today's.
    cert_status: Mapped[str | None] = mapped_column(String(8))
    cert_status_on: Mapped[date | None] = mapped_column(Date)

    citizenship = relationship("Country")
    id_doc_type = relationship("IdentityDocumentType")
    employments = relationship("Employment", back_populates="worker", order_by="Employment.hire_date",
                               cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        CheckConstraint("status IN ('active', 'blocked')", name="status"),
        CheckConstraint("length(iin) = 12", name="iin_len"),
        CheckConstraint("id_doc_expires IS NULL OR id_doc_issued IS NULL OR id_doc_expires >= id_doc_issued",
                        name="id_doc_dates"),
        Index("ix_worker_surname_key_id", "surname_key", "id"),
        # prefix searches (LIKE 'abc%') use these on PostgreSQL whatever the database collation
        Index("ix_worker_surname_folded_prefix", "surname_folded", "id",
              postgresql_ops={"surname_folded": "text_pattern_ops"}),
        Index("ix_worker_iin_prefix", "iin", postgresql_ops={"iin": "text_pattern_ops"}),
        # the certificate-status filter: one day's status, in the list's order
        Index("ix_worker_cert_status", "cert_status_on", "cert_status", "surname_key", "id"),
        # the lists and surname searches of the register (annulled records are out of it): page 1 and
        # a surname's range in order, and their counts from the index alone
        Index("ix_worker_live_surname_key", "surname_key", "id", postgresql_where=text("annulled_at IS NULL"),
              sqlite_where=text("annulled_at IS NULL")),
    )

    @validates("surname")
    def _fold_surname(self, _key, value):
        # The folded copy and the sort key follow the surname on every path (admin, CLI, imports).
        self.surname_folded = fold(value)
        self.surname_key = sort_key(value)
        return value

    @property
    def full_name(self) -> str:
        return full_name(self.surname, self.name, self.patronymic)

    @property
    def short_name(self) -> str:
        """Surname and initials, as a message names the worker: "Ахметова А. Б."."""
        initials = " ".join(f"{p.strip()[0]}." for p in (self.name, self.patronymic) if p and p.strip())
        return f"{self.surname} {initials}".strip()

    @property
    def is_blocked(self) -> bool:
        return self.status == STATUS_BLOCKED

    @hybrid_property
    def in_register(self) -> bool:
        """Not annulled: the record counts in lists and reports."""
        return self.annulled_at is None

    @in_register.inplace.expression
    @classmethod
    def _in_register(cls):
        return cls.annulled_at.is_(None)

    @classmethod
    def in_lists(cls):
        """What everyday lists show: records not annulled (the ministry restores them elsewhere)."""
        return cls.in_register

    # --- data currency (rule 13): when the record was last updated or confirmed as current ---------
    @hybrid_property
    def touched_at(self) -> datetime:
        """The later of ``updated_at`` (the record or any of its records saved) and ``confirmed_at``
        (HR confirmed it is still current)."""
        return max(d for d in (self.updated_at, self.confirmed_at) if d is not None)

    @touched_at.inplace.expression
    @classmethod
    def _touched_at(cls):
        return case((cls.confirmed_at > cls.updated_at, cls.confirmed_at), else_=cls.updated_at)

    @hybrid_method
    def touched_since(self, since: datetime) -> bool:
        """Updated or confirmed at or after ``since`` (the data-currency figures' "current")."""
        return self.touched_at >= since

    @touched_since.expression
    def touched_since(cls, since: datetime):
        return or_(cls.updated_at >= since, cls.confirmed_at >= since)

    def __str__(self) -> str:  # minimal on purpose: dropdowns and ajax lookups show only this
        return self.full_name


class Employment(db.Model):
    """An employment episode. A transfer is an end plus a new start; several may run at once."""

    __resource__, __scope__ = "employment", "of_worker"  # profreg/access.py
    __write_scope__ = "of_organization"  # written by the organization that owns the episode
    __tablename__ = "employment"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    # Region of the organization, copied on save (``sync_employment_region``): region scoping and
    # regional reports then read one indexed column instead of joining organization.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    # The worker's surname sort key, kept in step (``sync_employment_worker_surname``): the region
    # and organization lists walk (scope, surname, worker) in one index instead of probing every
    # worker of the country in surname order (docs/performance.md).
    worker_surname_key: Mapped[str | None] = mapped_column(String(200))
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"))
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialty.id"))
    department: Mapped[str | None] = mapped_column(String(255))
    fte: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("1.00"))
    hire_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Why the episode ended: the Labour Code ground and the analytic category (issue 20.6), set together
    # by ``workers.services.end_employment`` (every path). ``end_reason_id`` is the one list used before
    # (kept readable; the migration 0018 mapped it to the two fields).
    end_ground_id: Mapped[int | None] = mapped_column(ForeignKey("labour_code_ground.id"))
    end_category: Mapped[str | None] = mapped_column(String(16))
    end_reason_id: Mapped[int | None] = mapped_column(ForeignKey("employment_end_reason.id"))
    order_number: Mapped[str | None] = mapped_column(String(64))
    is_main: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)  # 3-working-day rule
    # A post held alongside a current one elsewhere (part-time): its hire opens no transfer.
    concurrent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Rule 14.5 per post: a clinical episode whose specialty has no valid certificate is blocked; the
    # certificate that expired is named (the worker's status is blocked while any current episode is).
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime)
    blocked_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    # Set with the worker's annulment: an annulled record's episodes are not current for anyone.
    annulled_at: Mapped[datetime | None] = mapped_column(DateTime)

    worker = relationship("Worker", back_populates="employments")
    organization = relationship("Organization")
    position = relationship("Position")
    specialty = relationship("Specialty")
    end_ground = relationship("LabourCodeGround")
    end_reason = relationship("EmploymentEndReason")
    blocked_certificate = relationship("Certificate", foreign_keys=[blocked_certificate_id])
    # The transfers this episode is the old (``from``) or the new (``to``) end of; they go with the
    # episode if it is ever deleted (no dangling references).
    transfers_out = relationship("Transfer", foreign_keys="Transfer.from_employment_id",
                                 back_populates="from_employment", cascade="all, delete-orphan")
    transfers_in = relationship("Transfer", foreign_keys="Transfer.to_employment_id",
                                back_populates="to_employment", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= hire_date", name="dates"),
        CheckConstraint("fte > 0 AND fte <= 2", name="fte"),
        CheckConstraint("end_category IS NULL OR end_category IN ("
                        + ", ".join(f"'{c}'" for c in END_CATEGORIES) + ")", name="end_category"),
        # the scope indexes hold the episodes of the register (annulled ones left out: ``current_on``)
        Index("ix_employment_org_current", "organization_id", "end_date", "worker_id",
              sqlite_where=text("annulled_at IS NULL"), postgresql_where=text("annulled_at IS NULL")),
        Index("ix_employment_region_current", "region_id", "end_date", "worker_id",
              sqlite_where=text("annulled_at IS NULL"), postgresql_where=text("annulled_at IS NULL")),
        Index("ix_employment_worker", "worker_id", "end_date", "region_id", "organization_id", "annulled_at"),
        Index("ix_employment_region_surname", "region_id", "worker_surname_key", "worker_id", "end_date",
              sqlite_where=text("annulled_at IS NULL"), postgresql_where=text("annulled_at IS NULL")),
        Index("ix_employment_org_surname", "organization_id", "worker_surname_key", "worker_id", "end_date",
              sqlite_where=text("annulled_at IS NULL"), postgresql_where=text("annulled_at IS NULL")),
        Index("ix_employment_hire", "hire_date"),
        Index("ix_employment_end", "end_date"),
        # the few blocked posts (rule 14.5): the sweep's worker steps read them, not every episode
        Index("ix_employment_blocked", "worker_id", "end_date",
              sqlite_where=text("blocked_at IS NOT NULL"), postgresql_where=text("blocked_at IS NOT NULL")),
    )

    # --- the temporal vocabulary of an episode (docs/architecture.md "Vocabulary") ----------------
    # Each predicate works on an instance (Python) and on the class or an ``aliased(Employment)`` (SQL);
    # tests/test_vocabulary.py checks that both answer alike on the edge days.

    @hybrid_method
    def current_on(self, day) -> bool:
        """The episode has not ended before ``day``: ``end_date`` empty or ``>= day`` (its last day is
        ``end_date``). An episode that starts after ``day`` is current too: the organization has entered
        the hire and is responsible for the worker from then on. This is who sees and acts on a worker
        (access scopes, lists, notices, blocking, training lists). The episodes of an annulled record
        are current for nobody."""
        return self.annulled_at is None and (self.end_date is None or self.end_date >= day)

    @current_on.expression
    def current_on(cls, day):
        # the shape of the partial (region_id | organization_id, end_date, worker_id) indexes
        return and_(cls.annulled_at.is_(None), or_(cls.end_date.is_(None), cls.end_date >= day))

    @hybrid_method
    def running_on(self, day) -> bool:
        """The worker holds the episode on ``day``: hired by ``day`` and current on ``day``. Figures that
        count staff on a day (data currency) use it; an episode starting later is not counted yet."""
        return self.hire_date <= day and self.current_on(day)

    @running_on.expression
    def running_on(cls, day):
        return and_(cls.hire_date <= day, cls.current_on(day))

    @hybrid_method
    def held_at_end_of(self, day: date) -> bool:
        """The episode is in the stock at the end of ``day``: hired by ``day`` and still current on the
        next day (an episode whose last day is ``day`` has left). Monthly report, forecast, charts."""
        return self.hire_date <= day and self.current_on(day + timedelta(days=1))

    @held_at_end_of.expression
    def held_at_end_of(cls, day: date):
        return and_(cls.hire_date <= day, cls.current_on(day + timedelta(days=1)))

    def __str__(self) -> str:
        return f"{self.position} — {self.organization.name if self.organization else ''}"


TRANSFER_OPEN, TRANSFER_ENDED, TRANSFER_CANCELLED = "open", "ended", "cancelled"


class Transfer(db.Model):
    """Organization B hired a worker who still holds a current episode in organization A: A must end
    that episode (docs/integrity.md, "Transfers"). ``organization_id`` is A (who must act), ``region_id``
    A's region (its coordinator ends an overdue episode on A's behalf); ``due_date`` is the last day A
    has (3 working days after the hire was entered)."""

    __resource__, __scope__ = "transfer", "between"  # profreg/access.py
    __tablename__ = "transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    from_employment_id: Mapped[int] = mapped_column(ForeignKey("employment.id"))
    to_employment_id: Mapped[int] = mapped_column(ForeignKey("employment.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    to_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    hire_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=TRANSFER_OPEN, server_default=TRANSFER_OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    worker = relationship("Worker")
    from_employment = relationship("Employment", foreign_keys=[from_employment_id], back_populates="transfers_out")
    to_employment = relationship("Employment", foreign_keys=[to_employment_id], back_populates="transfers_in")
    organization = relationship("Organization", foreign_keys=[organization_id])
    to_organization = relationship("Organization", foreign_keys=[to_organization_id])

    __table_args__ = (
        CheckConstraint("status IN ('open', 'ended', 'cancelled')", name="status"),
        UniqueConstraint("from_employment_id", "to_employment_id", name="uq_transfer_episodes"),
        Index("ix_transfer_org_status", "organization_id", "status"),
        Index("ix_transfer_region_status_due", "region_id", "status", "due_date"),
        # the new organization's side (scope ``between``) and the new episode's (its annulment cancels)
        Index("ix_transfer_to_org_status", "to_organization_id", "status"),
        Index("ix_transfer_to_employment", "to_employment_id"),
    )


def _copied(connection, related, key, current, column):
    """``column`` of the related row: from the loaded object, else read by its key (when not set yet)."""
    if related is not None:
        return getattr(related, column.key)
    if key is not None and current is None:
        return connection.execute(select(column).where(column.class_.id == key)).scalar()
    return current


@event.listens_for(Employment, "before_insert")
@event.listens_for(Employment, "before_update")
def sync_employment_region(_mapper, connection, target) -> None:
    """Copy the organization's region and the worker's surname onto the episode (kept in step on
    every save; a renamed worker's episodes follow in ``sync_employment_worker_surname``)."""

    target.worker_surname_key = _copied(connection, target.worker, target.worker_id, target.worker_surname_key,
                                        Worker.surname_key)
    target.region_id = _copied(connection, target.organization, target.organization_id, target.region_id,
                               Organization.region_id)


@event.listens_for(Worker, "after_update")
def sync_employment_worker_surname(_mapper, connection, target) -> None:
    """A changed surname's sort key is copied onto the worker's episodes (the scoped lists sort by it)."""

    if inspect(target).attrs.surname.history.has_changes():
        connection.execute(update(Employment.__table__).where(Employment.__table__.c.worker_id == target.id)
                           .values(worker_surname_key=target.surname_key))


# --- rule 13: saving any record of a worker updates the worker's ``updated_at`` ----------------------
_TOUCHED = "profreg_touched_workers"


@event.listens_for(Session, "after_flush")
def _collect_touched_workers(session, _ctx) -> None:
    """Note the workers whose records (certificates, education, degrees, titles, categories,
    publications, CPD, personnel documents, employment episodes) this flush wrote, on every path
    (panel, inline form, CLI, import, API, jobs)."""
    dirty = session.dirty
    ids = set()
    for obj in (*session.new, *dirty, *session.deleted):
        if not isinstance(obj, WorkerRecord | Employment):
            continue
        if obj in dirty and not session.is_modified(obj, include_collections=False):
            continue
        worker_id = getattr(obj, "worker_id", None)
        if worker_id is None and getattr(obj, "worker", None) is not None:
            worker_id = obj.worker.id
        if worker_id is not None:
            ids.add(worker_id)
    if ids:
        session.info.setdefault(_TOUCHED, set()).update(ids)


@event.listens_for(Session, "after_flush_postexec")
def _touch_workers(session, _ctx) -> None:
    """Set ``updated_at`` of the noted workers with one UPDATE that leaves the optimistic-lock
    ``version`` alone: a record saved elsewhere is no edit of the personal data, so an HR user's open
    edit form of the worker still saves (no "changed by someone else"). Loaded workers get the new
    value without becoming dirty."""
    ids = session.info.pop(_TOUCHED, None)
    if not ids:
        return
    moment = clock.utcnow_naive()
    table = Worker.__table__
    session.connection().execute(update(table).where(table.c.id.in_(sorted(ids))).values(updated_at=moment))
    for worker_id in ids:
        worker = session.identity_map.get(session.identity_key(Worker, worker_id))
        if worker is not None:
            set_committed_value(worker, "updated_at", moment)
