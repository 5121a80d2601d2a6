"""Reconciliation with state registries (issue 20.7): runs, contracts of the latest extracts, discrepancies

Revision ID: 0018b
Revises: 0018
Create Date: 2026-11-30

* reconciliation_run: one registry file reconciled (source, who, when, the file's name and SHA-256, counts,
  the rejected rows).
* registry_contract: the labour contracts (ESUTD) of each employer's latest extract (the monthly report's
  "registered within 3 working days, measured against contracts").
* discrepancy: a worklist item of an organization's HR (kind, status, what the registry says).
New tables only: nothing stored changes; downgrade drops them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018b"
down_revision = "0018"
branch_labels = None
depends_on = None

SOURCES = ("esutd", "certificates")
KINDS = ("contract_missing", "no_contract", "dismissal_missing", "certificate_missing", "certificate_differs")
STATUSES = ("open", "resolved", "closed")


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    op.create_table(
        "reconciliation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_outside", sa.Integer(), nullable=False),
        sa.Column("organizations", sa.Integer(), nullable=False),
        sa.Column("items_found", sa.Integer(), nullable=False),
        sa.Column("items_closed", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.CheckConstraint(_in("source", SOURCES), name=op.f("ck_reconciliation_run_source")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_reconciliation_run_user_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_run")),
    )
    with op.batch_alter_table("reconciliation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_run_user_id"), ["user_id"], unique=False)

    op.create_table(
        "registry_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("position", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"],
                                name=op.f("fk_registry_contract_organization_id_organization")),
        sa.ForeignKeyConstraint(["run_id"], ["reconciliation_run.id"],
                                name=op.f("fk_registry_contract_run_id_reconciliation_run"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_contract")),
    )
    with op.batch_alter_table("registry_contract", schema=None) as batch_op:
        batch_op.create_index("ix_registry_contract_org_start", ["organization_id", "start_date"], unique=False)
        batch_op.create_index("ix_registry_contract_start", ["start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_contract_run_id"), ["run_id"], unique=False)

    op.create_table(
        "discrepancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("employment_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("position", sa.String(length=255), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("specialty_id", sa.Integer(), nullable=True),
        sa.Column("issuer", sa.String(length=255), nullable=True),
        sa.Column("differences", sa.String(length=255), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_discrepancy_kind")),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_discrepancy_status")),
        sa.CheckConstraint(_in("source", SOURCES), name=op.f("ck_discrepancy_source")),
        sa.ForeignKeyConstraint(["run_id"], ["reconciliation_run.id"],
                                name=op.f("fk_discrepancy_run_id_reconciliation_run"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"],
                                name=op.f("fk_discrepancy_organization_id_organization")),
        sa.ForeignKeyConstraint(["region_id"], ["admin_unit.id"], name=op.f("fk_discrepancy_region_id_admin_unit")),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], name=op.f("fk_discrepancy_worker_id_worker"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["employment_id"], ["employment.id"],
                                name=op.f("fk_discrepancy_employment_id_employment"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificate.id"],
                                name=op.f("fk_discrepancy_certificate_id_certificate"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["specialty_id"], ["specialty.id"], name=op.f("fk_discrepancy_specialty_id_specialty")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"], name=op.f("fk_discrepancy_resolved_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancy")),
    )
    with op.batch_alter_table("discrepancy", schema=None) as batch_op:
        batch_op.create_index("ix_discrepancy_org_status", ["organization_id", "status"], unique=False)
        batch_op.create_index("ix_discrepancy_region_status", ["region_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_discrepancy_run_id"), ["run_id"], unique=False)


def downgrade():
    op.drop_table("discrepancy")
    op.drop_table("registry_contract")
    op.drop_table("reconciliation_run")
