"""panel users audit documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The panel (issue 3: sign-in, roles, audit trail, personnel documents) needs no schema change: the
user, user_specialty, audit_log and personnel_document tables and the worker version column came with
0001. The revision stays in the line so that 0003+ keep their parents.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
