"""bulk import: the import_run table (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

* import_run: one import or dry run of a file (who, when, the file's name, size and SHA-256, kind,
  language, dry run / atomic, state and progress, counts per outcome, the uploaded file and the report).
Nothing stored changes; downgrade drops the table.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", name="fk_import_run_user_id_user",
                                                          ondelete="SET NULL")),
        sa.Column("organization_id", sa.Integer(),
                  sa.ForeignKey("organization.id", name="fk_import_run_organization_id_organization")),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(2)),
        sa.Column("dry_run", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("atomic", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("upload_path", sa.String(500)),
        sa.Column("report_path", sa.String(500)),
        sa.Column("error", sa.String(500)),
        sa.Column("rq_job_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
    )
    op.create_index("ix_import_run_org_created", "import_run", ["organization_id", "created_at"])
    op.create_index("ix_import_run_user_created", "import_run", ["user_id", "created_at"])


def downgrade():
    op.drop_index("ix_import_run_user_created", table_name="import_run")
    op.drop_index("ix_import_run_org_created", table_name="import_run")
    op.drop_table("import_run")
