"""Two partial indexes for the slow paths at national scale

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

* ``ix_worker_live_surname_key`` on ``worker (surname_key, id) WHERE annulled_at IS NULL``: the workers list
  and a surname search (a range of the sort key, ``workers.search.surname_prefix_clause``) walk it in
  order and count from it alone.
* ``ix_education_document_in_force_worker`` on ``education_document (worker_id)`` for the documents in
  force: "has an education document" for every worker of the data-currency ranking, read in order.

Only indexes are added; no row changes. Downgrade drops them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

IN_FORCE = "superseded_by_id IS NULL AND annulled_at IS NULL"


def upgrade():
    op.create_index("ix_worker_live_surname_key", "worker", ["surname_key", "id"], unique=False,
                    postgresql_where=sa.text("annulled_at IS NULL"), sqlite_where=sa.text("annulled_at IS NULL"))
    op.create_index("ix_education_document_in_force_worker", "education_document", ["worker_id"], unique=False,
                    postgresql_where=sa.text(IN_FORCE), sqlite_where=sa.text(IN_FORCE))


def downgrade():
    op.drop_index("ix_education_document_in_force_worker", table_name="education_document")
    op.drop_index("ix_worker_live_surname_key", table_name="worker")
