"""import batches

Imports are batches (issue 5): import_batch keeps the file, who, when, the sheet, header row,
mapping, options and counts, and where a background step has got to; import_row keeps what
the dry run decided for each row of the file (the staged values, the record matched and its
version, old → new, messages, and the original cells of rows that are not written), so the
commit applies what was previewed and the undo knows what each row wrote; import_mapping keeps
the mappings clerks saved by name.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'import_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resource', sa.String(length=32), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('file_size', sa.Integer(), nullable=False),
        sa.Column('stored_as', sa.String(length=500), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('sheets', JSON, nullable=True),
        sa.Column('sheet', sa.String(length=255), nullable=True),
        sa.Column('header_row', sa.Integer(), nullable=True),
        sa.Column('headers', JSON, nullable=True),
        sa.Column('sample', JSON, nullable=True),
        sa.Column('mapping', JSON, nullable=True),
        sa.Column('options', JSON, nullable=True),
        sa.Column('counts', JSON, nullable=True),
        sa.Column('prepared_at', sa.DateTime(), nullable=True),
        sa.Column('committed_at', sa.DateTime(), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('added_codes', JSON, nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_import_batch_user_id_ab_user',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_import_batch'),
    )
    op.create_index('ix_import_batch_resource', 'import_batch', ['resource'])
    op.create_index('ix_import_batch_user_id', 'import_batch', ['user_id'])
    op.create_index('ix_import_batch_created_at', 'import_batch', ['created_at'])
    op.create_table(
        'import_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('row_no', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('target_version', sa.Integer(), nullable=True),
        sa.Column('target_label', sa.String(length=300), nullable=True),
        sa.Column('values', JSON, nullable=True),
        sa.Column('diff', JSON, nullable=True),
        sa.Column('errors', JSON, nullable=True),
        sa.Column('raw', JSON, nullable=True),
        sa.Column('written_id', sa.Integer(), nullable=True),
        sa.Column('written_version', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('contact_created', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name='fk_import_row_batch_id_import_batch',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_import_row'),
    )
    op.create_index('ix_import_row_batch_status', 'import_row', ['batch_id', 'status', 'row_no'])
    op.create_table(
        'import_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resource', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('by_header', JSON, nullable=False),
        sa.Column('options', JSON, nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('changed_on', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], name='fk_import_mapping_owner_id_ab_user',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_import_mapping'),
        sa.UniqueConstraint('resource', 'name', name='uq_import_mapping_resource'),
    )


def downgrade():
    op.drop_table('import_mapping')
    op.drop_index('ix_import_row_batch_status', table_name='import_row')
    op.drop_table('import_row')
    op.drop_index('ix_import_batch_created_at', table_name='import_batch')
    op.drop_index('ix_import_batch_user_id', table_name='import_batch')
    op.drop_index('ix_import_batch_resource', table_name='import_batch')
    op.drop_table('import_batch')
