"""certificate lifecycle notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Placeholder in the revision line: the owning domain writes its schema changes here.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
