"""what an import's commit wrote, in a table of its own

The commit noted each staged row's created record, its version and its created contact in
three columns of import_row. Filling them rewrote every staged row, values, diff and cells
included: on PostgreSQL an UPDATE of 100,000 wide rows (1.2-1.4 s of a 100,000-row commit,
bench/RESULTS.md), where inserting 100,000 short rows takes a fraction of it. The undo
reads them joined to the staged rows; an update's contact as the dry run found it stays in
import_row. No foreign keys: a check per row would lock each staged row (and the batch)
again, which costs about half of what the table saves; the batch's retention deletes a
batch's written rows with its staged rows, and a batch itself is never deleted.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_written',
        sa.Column('batch_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('row_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('batch_id', 'row_id', name=op.f('pk_import_written')),
    )
    op.execute("INSERT INTO import_written (batch_id, row_id, record_id, version, contact_id) "
               "SELECT batch_id, id, written_id, written_version, CASE WHEN contact_created THEN contact_id END "
               "FROM import_row WHERE written_id IS NOT NULL OR contact_created")
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.drop_column('contact_created')
        batch_op.drop_column('written_version')
        batch_op.drop_column('written_id')


def downgrade():
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('written_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('contact_created', sa.Boolean(), nullable=True))
    op.execute("UPDATE import_row SET written_id = w.record_id, written_version = w.version, "
               "contact_created = (w.contact_id IS NOT NULL), contact_id = COALESCE(w.contact_id, import_row.contact_id) "
               "FROM import_written w WHERE w.batch_id = import_row.batch_id AND w.row_id = import_row.id")
    op.drop_table('import_written')
