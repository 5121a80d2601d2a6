"""Specialist certificates for admission to clinical practice (rules 8.14, 14.4, 14.5).

Renewal adds a new certificate; dates of an existing certificate are never overwritten.

The certificate vocabulary (docs/architecture.md "Vocabulary") lives here, each predicate once, usable
on an instance (Python) and on the class or an ``aliased(Certificate)`` (SQL): ``issued_by``,
``expired_on``, ``valid_on``, ``open_ended``, ``is_latest`` / ``latest_per_specialty`` (one definition
of "the latest certificate"), ``warning_date`` and ``expiring_on`` (the warning window).
"""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from .. import clock
from ..dates import add_months
from ..extensions import db
from ..workers.models import WorkerRecord

DEFAULT_WARNING_MONTHS = 2


def warning_months() -> int:
    """The lead time N of the expiry warning, in months: the app's ``CERT_WARNING_MONTHS`` (default 2)."""

    try:
        return int(current_app.config.get("CERT_WARNING_MONTHS", DEFAULT_WARNING_MONTHS))
    except RuntimeError:  # outside an application context
        return DEFAULT_WARNING_MONTHS


def warning_date(today: date) -> date:
    """The first day *outside* the warning window on ``today``: ``today + N months`` (calendar months,
    the day clamped to the month's end). A certificate whose last valid day is before it expires
    (on ``valid_until + 1 day``) within N months."""
    return add_months(today, warning_months())


class Certificate(WorkerRecord, db.Model):
    __resource__, __scope__ = "worker_record", "of_worker"  # profreg/access.py
    __cpd_evidence__ = True  # read by professional associations (rule 4.5)
    __tablename__ = "certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))  # unique among certificates in force (an index below)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
    issuer: Mapped[str | None] = mapped_column(String(255))
    issue_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)

    worker = relationship("Worker", backref="certificates")
    specialty = relationship("Specialty")

    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_until >= issue_date", name="dates"),
        Index("ix_certificate_worker", "worker_id", "specialty_id", "valid_until"),
        Index("ix_certificate_valid_until", "valid_until"),
        Index("ix_certificate_number_prefix", "number", postgresql_ops={"number": "text_pattern_ops"}),
        # a certificate number is one certificate; a corrected or annulled version keeps its number
        Index("uq_certificate_number_in_force", "number", unique=True,
              sqlite_where=text("superseded_by_id IS NULL AND annulled_at IS NULL"),
              postgresql_where=text("superseded_by_id IS NULL AND annulled_at IS NULL")),
    )

    def __str__(self) -> str:
        return self.number

    # --- validity on a day --------------------------------------------------------------------------
    @hybrid_property
    def open_ended(self) -> bool:
        """No ``valid_until``: the certificate never expires."""
        return self.valid_until is None

    @open_ended.expression
    def open_ended(cls):
        return cls.valid_until.is_(None)

    @hybrid_method
    def issued_by(self, day) -> bool:
        """On file as of ``day``: in force (neither superseded by a correction nor annulled) and issued on
        or before ``day`` ("as known on day D"). Every rule below builds on it."""
        return self.in_force and self.issue_date <= day

    @issued_by.expression
    def issued_by(cls, day):
        return and_(cls.in_force, cls.issue_date <= day)

    @hybrid_method
    def expired_on(self, day) -> bool:
        """Ended before ``day``: ``valid_until`` (the last valid day) is before ``day``."""
        return self.valid_until is not None and self.valid_until < day

    @expired_on.expression
    def expired_on(cls, day):
        return and_(cls.valid_until.is_not(None), cls.valid_until < day)

    @hybrid_method
    def valid_on(self, day) -> bool:
        """Valid on ``day``: issued by ``day`` and not expired on it (``valid_until`` empty or ``>= day``)."""
        return self.issued_by(day) and not self.expired_on(day)

    @valid_on.expression
    def valid_on(cls, day):
        return and_(cls.issued_by(day), or_(cls.open_ended, cls.valid_until >= day))

    # --- "the latest certificate" of a worker in a specialty -------------------------------------------
    # The latest is the one ending last: an open-ended certificate counts as ending last; ties go to the
    # later issue date, then to the higher id. So a renewal on file, even one starting later, is the
    # latest, and the certificate it renews is not. ``known_on`` = D restricts the comparison to the
    # certificates issued by D (a report "as known at the end of the month").

    def recency(self) -> tuple:
        """Python sort key of the order above (the greatest is the latest); ``latest_first`` in SQL."""
        return (self.valid_until is None, self.valid_until or date.min, self.issue_date, self.id or 0)

    @classmethod
    def latest_first(cls, c=None) -> tuple:
        """ORDER BY terms putting the latest first (the order of ``recency``)."""
        c = c if c is not None else cls
        return (c.valid_until.is_(None).desc(), c.valid_until.desc(), c.issue_date.desc(), c.id.desc())

    @hybrid_method
    def is_latest(self, known_on=None) -> bool:
        """This is the latest certificate of its worker in its specialty (among those issued by
        ``known_on`` when given). Python form: compares with ``worker.certificates``."""
        if known_on is not None and not self.issued_by(known_on):
            return False
        if not self.in_force:
            return False
        siblings = [c for c in (self.worker.certificates if self.worker is not None else [self])
                    if c.specialty_id == self.specialty_id and c.in_force
                    and (known_on is None or c.issued_by(known_on))]
        return max(siblings, key=Certificate.recency) is self

    @is_latest.expression
    def is_latest(cls, known_on=None):
        # the first of its worker and specialty in ``latest_first`` order: per candidate one probe of
        # ix_certificate_worker (worker_id, specialty_id, valid_until), a few rows sorted; an anti-join
        # ("no later sibling") made the planner hash the whole certificate table for a few thousand rows
        other = aliased(Certificate)
        first = select(other.id).where(other.worker_id == cls.worker_id, other.specialty_id == cls.specialty_id,
                                       other.in_force)
        if known_on is not None:
            first = first.where(other.issued_by(known_on))
        first = first.order_by(*Certificate.latest_first(other)).limit(1).correlate_except(other).scalar_subquery()
        if known_on is None:
            return and_(cls.in_force, cls.id == first)
        return and_(cls.issued_by(known_on), cls.id == first)

    @classmethod
    def latest_per_specialty(cls, *, worker_ids=None, specialty_ids=None, known_on=None,
                             name: str = "latest_certificate"):
        """Subquery, one row per (worker, specialty): ``certificate_id, worker_id, specialty_id, issue_date,
        valid_until`` of the latest certificate (the order of ``latest_first``; the same rows as ``is_latest``).

        ``worker_ids`` (a list or a SELECT) and ``specialty_ids`` restrict the workers and specialties;
        ``known_on`` = D considers only certificates issued by D. ``aliased(Certificate, subquery)`` applies
        the vocabulary to its rows (``.valid_on(D)``, ...). One window over the chosen certificates: for
        every latest certificate of many workers; ``is_latest`` suits a few filtered candidates."""
        rn = func.row_number().over(partition_by=(cls.worker_id, cls.specialty_id), order_by=cls.latest_first())
        q = select(cls.id.label("certificate_id"), cls.worker_id.label("worker_id"),
                   cls.specialty_id.label("specialty_id"), cls.issue_date.label("issue_date"),
                   cls.valid_until.label("valid_until"), cls.superseded_by_id.label("superseded_by_id"),
                   cls.annulled_at.label("annulled_at"), rn.label("rn")).where(cls.in_force)
        if known_on is not None:
            q = q.where(cls.issued_by(known_on))
        if worker_ids is not None:
            q = q.where(cls.worker_id.in_(worker_ids))
        if specialty_ids is not None:
            q = q.where(cls.specialty_id.in_(list(specialty_ids)))
        ranked = q.subquery(f"{name}_ranked")
        # (in force, as every row here is: its columns let ``aliased(Certificate, subquery)`` apply ``in_force``)
        return (select(ranked.c.certificate_id, ranked.c.worker_id, ranked.c.specialty_id, ranked.c.issue_date,
                       ranked.c.valid_until, ranked.c.superseded_by_id, ranked.c.annulled_at)
                .where(ranked.c.rn == 1).subquery(name))

    # --- the warning window --------------------------------------------------------------------------
    @hybrid_method
    def expiring_on(self, day: date, known_on=None) -> bool:
        """In the warning window on ``day``: valid on ``day``, last valid day before
        ``warning_date(day)``, and the latest of its worker and specialty (so a renewal on file, even one
        starting later, means no warning). The sweep warns these; the dashboard, the worker list and the
        monthly report count them."""
        return (self.valid_on(day) and self.valid_until is not None and self.valid_until < warning_date(day)
                and self.is_latest(known_on))

    @expiring_on.expression
    def expiring_on(cls, day: date, known_on=None):
        # ``valid_on(day)`` of a certificate with an end, written as one range on valid_until: the planner
        # then reads ix_certificate_valid_until and checks ``is_latest`` per candidate (with "open-ended OR
        # >= day" in the condition it misjudged the number of candidates)
        return and_(cls.issued_by(day), cls.valid_until >= day, cls.valid_until < warning_date(day),
                    cls.is_latest(known_on))
