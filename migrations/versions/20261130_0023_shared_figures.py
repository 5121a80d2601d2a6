"""Figures of big scopes shared by every process

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30

The table ``shared_figure`` (profreg/memo.py): the heavy aggregates of a region or of the country (the
dashboard's counts, the data-currency ranking, the live monthly report, the CPD assessment, the trend)
kept once for every app process, with the moment they go out of date and a claim of the process that
refreshes them. It holds nothing that is not recomputed on demand: a new, empty table; downgrade drops it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shared_figure",
        sa.Column("memo", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("refreshing_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("memo", "key", name=op.f("pk_shared_figure")),
    )


def downgrade():
    op.drop_table("shared_figure")
