"""background list exports: the export_file table and the export-ready notice

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

* export_file: a list export made in the background (who asked, which list and filters, format,
  language, state and progress, the file and when it expires).
* notice: worker_id becomes optional and export_id is added (an "export ready" notice concerns a file,
  not a worker). Existing notices keep their worker; nothing stored changes.
Downgrade drops the export notices first (they have no worker), then what this revision added.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", name="fk_export_file_user_id_user",
                                                          ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("query_string", sa.String(2000), nullable=False),
        sa.Column("export_type", sa.String(8), nullable=False),
        sa.Column("locale", sa.String(2)),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(500)),
        sa.Column("size", sa.BigInteger()),
        sa.Column("error", sa.String(500)),
        sa.Column("rq_job_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_export_file_user_created", "export_file", ["user_id", "created_at"])
    op.create_index("ix_export_file_expires", "export_file", ["expires_at"])
    with op.batch_alter_table("notice") as batch:
        batch.alter_column("worker_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("export_id", sa.Integer()))
        batch.create_foreign_key("fk_notice_export_id_export_file", "export_file", ["export_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade():
    op.execute("DELETE FROM notice WHERE worker_id IS NULL")
    with op.batch_alter_table("notice") as batch:
        batch.drop_constraint("fk_notice_export_id_export_file", type_="foreignkey")
        batch.drop_column("export_id")
        batch.alter_column("worker_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_export_file_expires", table_name="export_file")
    op.drop_index("ix_export_file_user_created", table_name="export_file")
    op.drop_table("export_file")
