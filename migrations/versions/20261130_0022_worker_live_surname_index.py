"""The index of the register's surname order without annulled records

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

``ix_worker_live_surname_key`` on ``worker (surname_key, id) WHERE annulled_at IS NULL``: the workers list
and a surname search (a range of the sort key, ``workers.search.surname_prefix_clause``) walk it in
order and count from it alone. Only an index is added; no row changes. Downgrade drops it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_worker_live_surname_key", "worker", ["surname_key", "id"], unique=False,
                    postgresql_where=sa.text("annulled_at IS NULL"), sqlite_where=sa.text("annulled_at IS NULL"))


def downgrade():
    op.drop_index("ix_worker_live_surname_key", table_name="worker")
