"""Users of the panel and their role scope (see DESIGN.md roles and profreg/access.py)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..access import Role
from ..extensions import db

ROLES = tuple(Role)
ROLE_LABELS = {
    Role.MINISTRY: _l("National coordinator (ministry)"),
    Role.REGION: _l("Regional health department"),
    Role.ORG_HEAD: _l("Head of organization"),
    Role.HR_CHIEF: _l("Chief of personnel service"),
    Role.HR: _l("Personnel service specialist"),
    Role.ASSOCIATION: _l("Professional medical association"),
    Role.ADMIN: _l("System administrator"),
    Role.INTEGRATION: _l("Medical information system (API)"),
    Role.AUTHORITY: _l("Authorized body (receives reports)"),
}

user_specialty = Table(
    "user_specialty",
    db.Model.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("specialty_id", Integer, ForeignKey("specialty.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __resource__, __scope__ = "user", "national"  # profreg/access.py
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    # A ``region`` coordinator limited to one district of the region (rule 4.1); None = the whole region.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    locale: Mapped[str | None] = mapped_column(String(2))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    # Two-factor sign-in (TOTP, RFC 6238; auth.services): the shared secret (base32), set when the user
    # enrols and in force from ``totp_enabled_at`` (confirmed with a code); the last time step accepted
    # (a code is good once); the SHA-256 of the unused recovery codes (each good once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_recovery: Mapped[list | None] = mapped_column(JSON)

    organization = relationship("Organization")
    region = relationship("AdminUnit", foreign_keys=[region_id])
    district = relationship("AdminUnit", foreign_keys=[district_id])
    specialties = relationship("Specialty", secondary=user_specialty)

    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in Role) + ")", name="role"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot sign in
        return bool(self.active)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret and self.totp_enabled_at)

    def __str__(self) -> str:
        return self.email


class UserSession(db.Model):
    """A signed-in session, kept on the server so that it can be ended (issue 18): the signed cookie
    carries a random id whose SHA-256 is ``sid_hash``; a session is alive while its row exists, is not
    ``ended_at`` and is younger than the absolute lifetime. Sign-out ends its row; a password change
    ends the user's others; disabling the user or an administrator's new password ends them all."""

    __resource__, __scope__ = "user", "national"  # profreg/access.py (never listed in the panel)
    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
