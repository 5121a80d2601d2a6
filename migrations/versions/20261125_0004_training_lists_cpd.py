"""training lists cpd

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Advanced-training lists (rule 14.3): training_list (one per organization and period, draft/approved)
and training_list_item (worker, reasons, manual additions, removals with reason, completion → CPD record).
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f("ck_training_list_status")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["user.id"], name=op.f("fk_training_list_approved_by_id_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_training_list_created_by_id_user")),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"],
                                name=op.f("fk_training_list_organization_id_organization")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_list")),
        sa.UniqueConstraint("organization_id", "period", name="uq_training_list_org_period"),
    )
    with op.batch_alter_table("training_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_list_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "training_list_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("specialty_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=255), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("added_manually", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("removed", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("removal_reason", sa.String(length=500), nullable=True),
        sa.Column("completed_at", sa.Date(), nullable=True),
        sa.Column("cpd_record_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("NOT removed OR removal_reason IS NOT NULL",
                           name=op.f("ck_training_list_item_removal_reason")),
        sa.ForeignKeyConstraint(["cpd_record_id"], ["cpd_record.id"],
                                name=op.f("fk_training_list_item_cpd_record_id_cpd_record"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["list_id"], ["training_list.id"],
                                name=op.f("fk_training_list_item_list_id_training_list"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["position_id"], ["position.id"],
                                name=op.f("fk_training_list_item_position_id_position")),
        sa.ForeignKeyConstraint(["specialty_id"], ["specialty.id"],
                                name=op.f("fk_training_list_item_specialty_id_specialty")),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"],
                                name=op.f("fk_training_list_item_worker_id_worker"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_list_item")),
        sa.UniqueConstraint("list_id", "worker_id", name="uq_training_list_item_worker"),
    )
    with op.batch_alter_table("training_list_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_list_item_worker_id"), ["worker_id"], unique=False)


def downgrade():
    with op.batch_alter_table("training_list_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_list_item_worker_id"))
    op.drop_table("training_list_item")
    with op.batch_alter_table("training_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_list_organization_id"))
    op.drop_table("training_list")
