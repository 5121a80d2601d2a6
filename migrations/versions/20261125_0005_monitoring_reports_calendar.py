"""monitoring reports calendar

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Issue 7: transferred days off (working_day_override) and monthly monitoring reports.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "working_day_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_day_override")),
        sa.UniqueConstraint("day", name=op.f("uq_working_day_override_day")),
    )
    op.create_table(
        "monitoring_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("first_submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("resubmission_reason", sa.Text(), nullable=True),
        sa.Column("history", sa.Text(), nullable=False),
        sa.CheckConstraint("scope IN ('country', 'region', 'org')", name=op.f("ck_monitoring_report_scope")),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f("ck_monitoring_report_status")),
        sa.ForeignKeyConstraint(["generated_by_id"], ["user.id"],
                                name=op.f("fk_monitoring_report_generated_by_id_user")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["user.id"],
                                name=op.f("fk_monitoring_report_submitted_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_report")),
        sa.UniqueConstraint("period", "scope", "scope_id", name="uq_monitoring_report_period_scope"),
    )


def downgrade():
    op.drop_table("monitoring_report")
    op.drop_table("working_day_override")
