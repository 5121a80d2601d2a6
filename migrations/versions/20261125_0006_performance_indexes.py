"""performance: region on employment episodes, prefix-search indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

* employment.region_id (copied from the organization on save) with an index (region_id, end_date,
  worker_id): region scoping and regional counts read one index instead of joining organization.
* text_pattern_ops indexes for prefix searches (LIKE 'abc%') on worker.surname_folded, worker.iin and
  certificate.number: plain b-tree indexes serve LIKE only under the C collation.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_employment_region_id_admin_unit"), "admin_unit",
                                    ["region_id"], ["id"])
        batch_op.create_index("ix_employment_region_current", ["region_id", "end_date", "worker_id"], unique=False)
    op.execute("UPDATE employment SET region_id = (SELECT organization.region_id FROM organization "
               "WHERE organization.id = employment.organization_id)")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.create_index("ix_worker_surname_folded_prefix", ["surname_folded", "id"], unique=False,
                              postgresql_ops={"surname_folded": "text_pattern_ops"})
        batch_op.create_index("ix_worker_iin_prefix", ["iin"], unique=False,
                              postgresql_ops={"iin": "text_pattern_ops"})
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index("ix_certificate_number_prefix", ["number"], unique=False,
                              postgresql_ops={"number": "text_pattern_ops"})


def downgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_number_prefix")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_index("ix_worker_iin_prefix")
        batch_op.drop_index("ix_worker_surname_folded_prefix")
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index("ix_employment_region_current")
        batch_op.drop_constraint(batch_op.f("fk_employment_region_id_admin_unit"), type_="foreignkey")
        batch_op.drop_column("region_id")
