"""surname sort keys (Kazakh alphabetical order); scoped worker lists in that order from one index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

* worker.surname_key: two digits per character ordering surnames as the Kazakh alphabet does, the
  same under every database collation (byte order put Ә, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ after Я and І, Ё before
  А). Index (surname_key, id) replaces (surname, id): lists order by it.
* employment.worker_surname_key (a copy, kept in step by the model listeners) with the indexes
  (region_id | organization_id, worker_surname_key, worker_id, end_date). Page 1 of a region's or an
  organization's list was an index walk over every worker of the country in surname order, probing
  each for a current episode in the scope: the smaller the scope, the longer the walk (Ulytau, 1 % of
  the workers: ~4,900 probes, 16–25 ms). Now it reads the first 50 entries of the scope's own index.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copy of profreg.workers.models.sort_key as of this revision (a later change of the key
# needs its own revision to recompute the column).
_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_CODES = {**{ch: f"{20 + i:02d}" for i, ch in enumerate(_ALPHABET)},
          **{ch: f"{70 + i:02d}" for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz")},
          **{ch: f"{2 + i:02d}" for i, ch in enumerate("0123456789")},
          " ": "01", "-": "01", "'": "01", "’": "01"}


def _key(text):
    return None if text is None else "".join(_CODES.get(ch, "99") for ch in text.casefold())


def upgrade():
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.add_column(sa.Column("surname_key", sa.String(length=200), nullable=True))
    conn = op.get_bind()
    worker = sa.table("worker", sa.column("id", sa.Integer), sa.column("surname", sa.String),
                      sa.column("surname_key", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(worker.c.id, worker.c.surname).where(worker.c.id > last)
                            .order_by(worker.c.id).limit(5000)).all()
        if not rows:
            break
        conn.execute(worker.update().where(worker.c.id == sa.bindparam("wid"))
                     .values(surname_key=sa.bindparam("key")),
                     [{"wid": r.id, "key": _key(r.surname)} for r in rows])
        last = rows[-1].id
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.alter_column("surname_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_index("ix_worker_surname_id")
        batch_op.create_index("ix_worker_surname_key_id", ["surname_key", "id"], unique=False)

    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_surname_key", sa.String(length=200), nullable=True))
    op.execute("UPDATE employment SET worker_surname_key = (SELECT worker.surname_key FROM worker "
               "WHERE worker.id = employment.worker_id)")
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.create_index("ix_employment_region_surname",
                              ["region_id", "worker_surname_key", "worker_id", "end_date"], unique=False)
        batch_op.create_index("ix_employment_org_surname",
                              ["organization_id", "worker_surname_key", "worker_id", "end_date"], unique=False)


def downgrade():
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index("ix_employment_org_surname")
        batch_op.drop_index("ix_employment_region_surname")
        batch_op.drop_column("worker_surname_key")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_index("ix_worker_surname_key_id")
        batch_op.create_index("ix_worker_surname_id", ["surname", "id"], unique=False)
        batch_op.drop_column("surname_key")
