"""districts (issue 20, item 5; rule 4.1): organizations and region coordinators point at a district

Revision ID: 0019
Revises: 0013
Create Date: 2026-11-30

* organization.district_id (nullable, FK admin_unit): the level-2 KATO unit (district or city of
  regional significance) of the organization. Existing organizations keep every column; those whose
  KATO unit already is a district (level 2) or lies below one (level 3, 4) get that district, the
  others stay "district not set" (reports show them on their own line).
* user.district_id (nullable, FK admin_unit): a ``region`` coordinator limited to one district.
  Existing users stay unlimited (NULL).
* monitoring_report.scope: the check constraint admits ``district`` (a district's monthly report).
  Existing reports are untouched.
The KATO districts themselves are reference data (profreg/reference/seeds/kato_districts.csv), loaded
by ``flask --app app profreg load-reference``, not by this revision.
Downgrade drops the two columns (the districts an organization pointed at are lost) and the district
reports (a narrower constraint cannot hold them), nothing else.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organization") as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_organization_district_id_admin_unit", "admin_unit", ["district_id"], ["id"])
        batch_op.create_index("ix_organization_district_id", ["district_id"])
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_user_district_id_admin_unit", "admin_unit", ["district_id"], ["id"])
        batch_op.create_index("ix_user_district_id", ["district_id"])
    with op.batch_alter_table("monitoring_report") as batch_op:
        batch_op.drop_constraint(op.f("ck_monitoring_report_scope"), type_="check")
        batch_op.create_check_constraint("scope", "scope IN ('country', 'region', 'district', 'org')")
    # organizations already filed under a district (or a unit below one) point at that district
    op.execute("UPDATE organization SET district_id = unit_id WHERE unit_id IN "
               "(SELECT id FROM admin_unit WHERE level = 2)")
    op.execute("UPDATE organization SET district_id = (SELECT u.parent_id FROM admin_unit u "
               "WHERE u.id = organization.unit_id) WHERE unit_id IN (SELECT id FROM admin_unit WHERE level = 3)")
    op.execute("UPDATE organization SET district_id = (SELECT p.parent_id FROM admin_unit u "
               "JOIN admin_unit p ON p.id = u.parent_id WHERE u.id = organization.unit_id) "
               "WHERE unit_id IN (SELECT id FROM admin_unit WHERE level = 4)")


def downgrade():
    op.execute("DELETE FROM monitoring_report WHERE scope = 'district'")
    with op.batch_alter_table("monitoring_report") as batch_op:
        batch_op.drop_constraint(op.f("ck_monitoring_report_scope"), type_="check")
        batch_op.create_check_constraint("scope", "scope IN ('country', 'region', 'org')")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_index("ix_user_district_id")
        batch_op.drop_constraint("fk_user_district_id_admin_unit", type_="foreignkey")
        batch_op.drop_column("district_id")
    with op.batch_alter_table("organization") as batch_op:
        batch_op.drop_index("ix_organization_district_id")
        batch_op.drop_constraint("fk_organization_district_id_admin_unit", type_="foreignkey")
        batch_op.drop_column("district_id")
