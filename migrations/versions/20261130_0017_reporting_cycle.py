"""The reporting cycle: quarterly forecast submissions, the authorized body, requests, reminders (issue 20)

Revision ID: 0017
Revises: 0013
Create Date: 2026-11-30

* forecast_submission: a quarter's forecast (rule 7) frozen with its SHA-256, submitted, received;
* reporting_request: the authorized body's requests (topic, scope, period, due date) and their answers
  (a frozen snapshot or an attached file);
* monitoring_report: the authorized body's receipt (received_at, received_by_id), empty for existing
  reports (none was acknowledged);
* notice.payload: what a reminder says (JSON), empty for existing notices;
* user.role: the check constraint admits the new role ``authority``. Existing users keep their roles.
Downgrade drops the new tables and columns and removes the authority accounts that never acted.
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD_ROLES = ("ministry", "region", "org_head", "hr_chief", "hr", "association", "admin", "integration")
NEW_ROLES = OLD_ROLES + ("authority",)


def _roles(roles) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def _frozen_columns(table):
    return [
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
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f(f"ck_{table}_status")),
        sa.ForeignKeyConstraint(["generated_by_id"], ["user.id"], name=op.f(f"fk_{table}_generated_by_id_user")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["user.id"], name=op.f(f"fk_{table}_submitted_by_id_user")),
        sa.ForeignKeyConstraint(["received_by_id"], ["user.id"], name=op.f(f"fk_{table}_received_by_id_user")),
    ]


def upgrade():
    op.create_table(
        "forecast_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        *_frozen_columns("forecast_submission"),
        sa.CheckConstraint("scope IN ('country', 'region', 'org')", name=op.f("ck_forecast_submission_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_submission")),
        sa.UniqueConstraint("quarter", "scope", "scope_id", name="uq_forecast_submission_quarter_scope"),
    )
    op.create_table(
        "reporting_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("answer_kind", sa.String(length=10), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_type", sa.String(length=100), nullable=True),
        sa.Column("file_data", sa.LargeBinary(), nullable=True),
        *_frozen_columns("reporting_request"),
        sa.CheckConstraint("scope IN ('country', 'region')", name=op.f("ck_reporting_request_scope")),
        sa.CheckConstraint("answer_kind IS NULL OR answer_kind IN ('snapshot', 'file')",
                           name=op.f("ck_reporting_request_answer_kind")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_reporting_request_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_request")),
    )
    with op.batch_alter_table("monitoring_report") as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("received_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_monitoring_report_received_by_id_user"), "user",
                                    ["received_by_id"], ["id"])
    with op.batch_alter_table("notice") as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", _roles(NEW_ROLES))


def downgrade():
    op.execute("DELETE FROM \"user\" WHERE role = 'authority' AND id NOT IN "
               "(SELECT user_id FROM audit_log WHERE user_id IS NOT NULL)")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", _roles(OLD_ROLES))
    with op.batch_alter_table("notice") as batch_op:
        batch_op.drop_column("payload")
    with op.batch_alter_table("monitoring_report") as batch_op:
        batch_op.drop_constraint(op.f("fk_monitoring_report_received_by_id_user"), type_="foreignkey")
        batch_op.drop_column("received_by_id")
        batch_op.drop_column("received_at")
    op.drop_table("reporting_request")
    op.drop_table("forecast_submission")
