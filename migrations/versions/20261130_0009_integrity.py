"""the national record's integrity: corrections and annulments instead of deletion, blocking per post,
transfers between employers, confirmations, the actor's organization on audit entries

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

* every worker record (certificate, education document, degree, title, qualification category,
  publication, CPD record, personnel document): entered_at / entered_by_organization_id (filled from
  the audit trail's 'create' entries where there is one; certificates and documents also from their
  own timestamps), superseded_by_id + correction_reason (a correction is a new version), annulled_at /
  annulled_by_id / annul_reason. A certificate number is unique among certificates in force; a
  document's stored file may be shared by its versions.
* worker: annulled_at / annulled_by_id / annul_reason, confirmed_by_id.
* employment: concurrent, blocked_at / blocked_certificate_id (rule 14.5 per post; the next sweep fills
  them for the workers already blocked), annulled_at; the scope indexes become partial (WHERE
  annulled_at IS NULL), the shape of Employment.current_on.
* transfer: a hire elsewhere of a worker whose episode here is still open.
* audit_log: actor_organization_id / actor_region_id (filled from the actor's user), an index on
  (user_id, action, at).
Nothing stored is dropped; downgrade removes only what this revision added.
"""
import sqlalchemy as sa
from alembic import op

RECORD_TABLES = ("certificate", "education_document", "academic_degree", "academic_title",
                 "qualification_category", "publication", "cpd_record", "personnel_document")
PARTIAL = sa.text("annulled_at IS NULL")
SCOPE_INDEXES = (("ix_employment_org_current", ["organization_id", "end_date", "worker_id"]),
                 ("ix_employment_region_current", ["region_id", "end_date", "worker_id"]),
                 ("ix_employment_region_surname", ["region_id", "worker_surname_key", "worker_id", "end_date"]),
                 ("ix_employment_org_surname", ["organization_id", "worker_surname_key", "worker_id", "end_date"]))


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('from_employment_id', sa.Integer(), nullable=False),
    sa.Column('to_employment_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('to_organization_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('hire_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'ended', 'cancelled')", name=op.f('ck_transfer_status')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user.id'], name=op.f('fk_transfer_ended_by_id_user')),
    sa.ForeignKeyConstraint(['from_employment_id'], ['employment.id'], name=op.f('fk_transfer_from_employment_id_employment')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_transfer_organization_id_organization')),
    sa.ForeignKeyConstraint(['region_id'], ['admin_unit.id'], name=op.f('fk_transfer_region_id_admin_unit')),
    sa.ForeignKeyConstraint(['to_employment_id'], ['employment.id'], name=op.f('fk_transfer_to_employment_id_employment')),
    sa.ForeignKeyConstraint(['to_organization_id'], ['organization.id'], name=op.f('fk_transfer_to_organization_id_organization')),
    sa.ForeignKeyConstraint(['worker_id'], ['worker.id'], name=op.f('fk_transfer_worker_id_worker')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer')),
    sa.UniqueConstraint('from_employment_id', 'to_employment_id', name='uq_transfer_episodes')
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index('ix_transfer_region_status_due', ['region_id', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_worker_id'), ['worker_id'], unique=False)

    with op.batch_alter_table('academic_degree', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_academic_degree_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_academic_degree_superseded_by_id_academic_degree'), 'academic_degree', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_academic_degree_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])

    with op.batch_alter_table('academic_title', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_academic_title_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_academic_title_superseded_by_id_academic_title'), 'academic_title', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_academic_title_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor_region_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_actor_organization_id'), ['actor_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_region_id'), ['actor_region_id'], unique=False)
        batch_op.create_index('ix_audit_user_action_at', ['user_id', 'action', 'at'], unique=False)

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_certificate_number'), type_='unique')
        batch_op.create_index('uq_certificate_number_in_force', ['number'], unique=True, sqlite_where=sa.text('superseded_by_id IS NULL AND annulled_at IS NULL'), postgresql_where=sa.text('superseded_by_id IS NULL AND annulled_at IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_certificate_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_certificate_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_certificate_superseded_by_id_certificate'), 'certificate', ['superseded_by_id'], ['id'])

    with op.batch_alter_table('cpd_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cpd_record_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cpd_record_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cpd_record_superseded_by_id_cpd_record'), 'cpd_record', ['superseded_by_id'], ['id'])

    with op.batch_alter_table('education_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_education_document_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_education_document_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_education_document_superseded_by_id_education_document'), 'education_document', ['superseded_by_id'], ['id'])

    with op.batch_alter_table('employment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concurrent', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('blocked_certificate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_employment_worker'))
        batch_op.create_index('ix_employment_worker', ['worker_id', 'end_date', 'region_id', 'organization_id', 'annulled_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_employment_blocked_certificate_id_certificate'), 'certificate', ['blocked_certificate_id'], ['id'])

    with op.batch_alter_table('personnel_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_personnel_document_stored_name'), type_='unique')
        batch_op.create_index(batch_op.f('ix_personnel_document_stored_name'), ['stored_name'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_personnel_document_superseded_by_id_personnel_document'), 'personnel_document', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_personnel_document_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_personnel_document_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])

    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_publication_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_publication_superseded_by_id_publication'), 'publication', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_publication_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])

    with op.batch_alter_table('qualification_category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('entered_by_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_qualification_category_entered_by_organization_id_organization'), 'organization', ['entered_by_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_qualification_category_superseded_by_id_qualification_category'), 'qualification_category', ['superseded_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_qualification_category_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])

    with op.batch_alter_table('worker', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annulled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('annulled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annul_reason', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_worker_annulled_by_id_user'), 'user', ['annulled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_worker_confirmed_by_id_user'), 'user', ['confirmed_by_id'], ['id'])


    for name, cols in SCOPE_INDEXES:
        op.drop_index(name, table_name="employment")
        op.create_index(name, "employment", cols, sqlite_where=PARTIAL, postgresql_where=PARTIAL)

    # who entered the existing records, and when: the audit trail's first 'create' entry (bulk-loaded
    # data has none: those rows are corrected by the region or the ministry only)
    for table in RECORD_TABLES:
        first = (f"FROM audit_log a WHERE a.table_name = '{table}' AND a.record_id = {table}.id "
                 "AND a.action = 'create' ORDER BY a.at, a.id LIMIT 1")
        op.execute(f"UPDATE {table} SET entered_at = (SELECT a.at {first}), "
                   f"entered_by_organization_id = (SELECT a.organization_id {first})")
    op.execute("UPDATE certificate SET entered_at = created_at WHERE entered_at IS NULL")
    op.execute("UPDATE personnel_document SET entered_at = uploaded_at WHERE entered_at IS NULL")
    op.execute("UPDATE personnel_document SET entered_by_organization_id = organization_id "
               "WHERE entered_by_organization_id IS NULL")
    # the actor's organization and region of the existing audit entries: those of the actor's user
    op.execute('UPDATE audit_log SET actor_organization_id = (SELECT u.organization_id FROM "user" u '
               "WHERE u.id = audit_log.user_id) WHERE user_id IS NOT NULL")
    op.execute('UPDATE audit_log SET actor_region_id = COALESCE((SELECT o.region_id FROM organization o '
               "WHERE o.id = audit_log.actor_organization_id), (SELECT u.region_id FROM \"user\" u "
               "WHERE u.id = audit_log.user_id)) WHERE user_id IS NOT NULL")


def downgrade():
    for name, cols in SCOPE_INDEXES:
        op.drop_index(name, table_name="employment")
        op.create_index(name, "employment", cols)

    with op.batch_alter_table('worker', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_worker_confirmed_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_worker_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('confirmed_by_id')

    with op.batch_alter_table('qualification_category', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_qualification_category_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_qualification_category_superseded_by_id_qualification_category'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_qualification_category_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_publication_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_publication_superseded_by_id_publication'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_publication_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('personnel_document', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_personnel_document_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_personnel_document_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_personnel_document_superseded_by_id_personnel_document'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_personnel_document_stored_name'))
        batch_op.create_unique_constraint(batch_op.f('uq_personnel_document_stored_name'), ['stored_name'])
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('employment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_employment_blocked_certificate_id_certificate'), type_='foreignkey')
        batch_op.drop_index('ix_employment_worker')
        batch_op.create_index(batch_op.f('ix_employment_worker'), ['worker_id', 'end_date', 'region_id', 'organization_id'], unique=False)
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('blocked_certificate_id')
        batch_op.drop_column('blocked_at')
        batch_op.drop_column('concurrent')

    with op.batch_alter_table('education_document', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_education_document_superseded_by_id_education_document'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_education_document_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_education_document_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('cpd_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cpd_record_superseded_by_id_cpd_record'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cpd_record_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cpd_record_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificate_superseded_by_id_certificate'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_certificate_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_certificate_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_index('uq_certificate_number_in_force', sqlite_where=sa.text('superseded_by_id IS NULL AND annulled_at IS NULL'), postgresql_where=sa.text('superseded_by_id IS NULL AND annulled_at IS NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_certificate_number'), ['number'])
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_user_action_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_region_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_organization_id'))
        batch_op.drop_column('actor_region_id')
        batch_op.drop_column('actor_organization_id')

    with op.batch_alter_table('academic_title', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_academic_title_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_academic_title_superseded_by_id_academic_title'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_academic_title_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('academic_degree', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_academic_degree_entered_by_organization_id_organization'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_academic_degree_superseded_by_id_academic_degree'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_academic_degree_annulled_by_id_user'), type_='foreignkey')
        batch_op.drop_column('annulled_by_id')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('entered_by_organization_id')
        batch_op.drop_column('annul_reason')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('entered_at')

    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_worker_id'))
        batch_op.drop_index('ix_transfer_region_status_due')
        batch_op.drop_index('ix_transfer_org_status')

    op.drop_table('transfer')
