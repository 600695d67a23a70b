"""an import's staged rows without a foreign key to their batch

Every staged row's check of its batch cost a PostgreSQL dry run of 100,000 rows about 0.3 s of
the server's time (0.73-0.82 s for the rows' INSERT with the key, 0.40-0.59 s without;
bench/RESULTS.md, twenty-fourth session), on a machine whose two cores the dry run's own two
processes keep busy. The key only guarded against rows of a batch that does not exist, which
nothing writes, and cascaded a batch's deletion, which nothing does: a batch is never deleted,
and the retention deletes its staged rows itself (excel/retention.py), as it does its written
rows, which have had no keys since 0013 for the same reason.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

KEY = 'fk_import_row_batch_id_import_batch'


def upgrade():
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.drop_constraint(KEY, type_='foreignkey')


def downgrade():
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.create_foreign_key(KEY, 'import_batch', ['batch_id'], ['id'], ondelete='CASCADE')
