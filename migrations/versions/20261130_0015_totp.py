"""Two-factor sign-in (issue 18): TOTP secret, enrolment time, last accepted step, recovery codes

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-30

* user.totp_secret: the shared TOTP secret (base32) of a user who enrolled (or is enrolling);
* user.totp_enabled_at: when the enrolment was confirmed with a code (two-factor sign-in in force);
* user.totp_last_step: the last 30-second time step whose code was accepted (a code is good once);
* user.totp_recovery: the SHA-256 of the user's unused recovery codes (JSON list).
Existing users keep their rows: the new columns are empty (no second factor until they enrol).
Downgrade drops the columns (the users then sign in with their password alone).
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0018b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("totp_recovery", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("totp_recovery")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret")
