"""security hardening (issue 18): server-side revocable sessions

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30

* user_session: one row per signed-in session (the SHA-256 of the random id the signed cookie
  carries, when it began, when it was ended). Existing data is untouched; sessions signed in before
  the upgrade carry no server-side id and are asked to sign in again.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", name="fk_user_session_user_id_user",
                                                          ondelete="CASCADE"), nullable=False),
        sa.Column("sid_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
        sa.UniqueConstraint("sid_hash", name="uq_user_session_sid_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])


def downgrade():
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
