"""training lists cpd

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Placeholder in the revision line: the owning domain writes its schema changes here.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
