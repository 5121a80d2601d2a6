"""API tokens: a user's bearer credential for ``/api/v1/`` and ``/fhir/`` (docs/api.md).

The token itself is shown once, when it is made; only its SHA-256 is stored (a token is 256 bits of
``secrets.token_urlsafe``: a fast hash is enough, nothing to brute-force). It acts with its user's role
and scope (``profreg/access.py``); a revoked or expired token, or one of a disabled user, is refused.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db


class ApiToken(db.Model):
    __resource__, __scope__ = "api_token", "national"  # profreg/access.py (``api_tokens_scoped``)
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))  # the first characters, to tell tokens apart in a list
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow_naive)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User")

    __table_args__ = (Index("ix_api_token_user_created", "user_id", "created_at"),)

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def __str__(self) -> str:
        return self.name
