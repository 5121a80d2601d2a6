"""API tokens and the integration role (issue 17)

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-30

* api_token: a user's bearer token for /api/v1/ and /fhir/ (only its SHA-256 is stored), with its
  name, creation, expiry, revocation and last use.
* user.role: the check constraint admits the new role ``integration`` (a medical information
  system's service account). Existing users keep their roles.
Downgrade removes the integration accounts that never acted (an account in the audit trail makes the
narrower constraint fail: the downgrade then stops instead of losing who did what), then the table.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_ROLES = ("ministry", "region", "org_head", "hr_chief", "hr", "association", "admin")
NEW_ROLES = OLD_ROLES + ("integration",)


def _roles(roles) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade():
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", name="fk_api_token_user_id_user",
                                                          ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.create_index("ix_api_token_user_id", ["user_id"])
        batch_op.create_index("ix_api_token_user_created", ["user_id", "created_at"])
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", _roles(NEW_ROLES))


def downgrade():
    op.execute("DELETE FROM \"user\" WHERE role = 'integration' AND id NOT IN "
               "(SELECT user_id FROM audit_log WHERE user_id IS NOT NULL)")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", _roles(OLD_ROLES))
    op.drop_table("api_token")
