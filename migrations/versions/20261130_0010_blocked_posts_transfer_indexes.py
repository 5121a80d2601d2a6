"""indexes for blocking per post and for the new organization's side of transfers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

* employment: a partial index on the blocked posts (``blocked_at IS NOT NULL``): the sweep's worker
  steps and the worker page read the few blocked posts instead of every episode.
* transfer: (to_organization_id, status), the new organization's side of the ``between`` scope, and
  to_employment_id (an annulled or ended new episode finds its transfer).
Nothing stored changes; downgrade drops the three indexes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BLOCKED = sa.text("blocked_at IS NOT NULL")


def upgrade():
    op.create_index("ix_employment_blocked", "employment", ["worker_id", "end_date"],
                    sqlite_where=BLOCKED, postgresql_where=BLOCKED)
    op.create_index("ix_transfer_to_org_status", "transfer", ["to_organization_id", "status"])
    op.create_index("ix_transfer_to_employment", "transfer", ["to_employment_id"])


def downgrade():
    op.drop_index("ix_transfer_to_employment", table_name="transfer")
    op.drop_index("ix_transfer_to_org_status", table_name="transfer")
    op.drop_index("ix_employment_blocked", table_name="employment")
