"""The worker's stored certificate status, for the list's certificate-status filter

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

Two columns on ``worker``, empty for every existing row: ``cert_status`` (valid / expiring / expired /
none) and ``cert_status_on`` (the day it holds for), and the index the filter reads. Until the next
certificate sweep fills them, the filter computes the status from the certificates, as before
(``workers.search.certificate_status_clause``); nothing is lost or changed. Downgrade drops them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("worker") as batch_op:
        batch_op.add_column(sa.Column("cert_status", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("cert_status_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_worker_cert_status", ["cert_status_on", "cert_status", "surname_key", "id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("worker") as batch_op:
        batch_op.drop_index("ix_worker_cert_status")
        batch_op.drop_column("cert_status_on")
        batch_op.drop_column("cert_status")
