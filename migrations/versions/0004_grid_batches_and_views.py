"""grid batches and views

The grid's batches of edits (grid_batch: what a client sent, the answer, what was written,
so a batch is applied once and can be undone and redone) and its saved layouts and views
(grid_view). The change history's source grows to 100 characters, room for
"grid:batch:" and a 64-character batch id; its append-only trigger names that column, so it
is dropped and created again around the change (PostgreSQL refuses to alter a column a
trigger uses, and SQLite's table copy does not carry triggers over).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:46:36.993613

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The change history's frozen columns and trigger, as 0002 created them.
CHANGE_LOG_FROZEN = "at, username, object_type, object_id, action, source, changes"


def _drop_change_log_trigger():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_log_append_only ON change_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS change_log_append_only")


def _create_change_log_trigger():
    if op.get_bind().dialect.name == "postgresql":
        # The function change_log_append_only() from 0002 is still there.
        op.execute(f"""CREATE TRIGGER change_log_append_only BEFORE UPDATE OF {CHANGE_LOG_FROZEN} ON change_log
                       FOR EACH ROW EXECUTE FUNCTION change_log_append_only()""")
    else:
        op.execute(f"""CREATE TRIGGER change_log_append_only BEFORE UPDATE OF {CHANGE_LOG_FROZEN} ON change_log
                       BEGIN SELECT RAISE(ABORT, 'change_log is append-only'); END""")


def _resize_change_log_source(length, was, using=None):
    _drop_change_log_trigger()
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=was), type_=sa.String(length=length),
                              existing_nullable=True, postgresql_using=using)
    _create_change_log_trigger()


def upgrade():
    op.create_table('grid_batch',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('resource', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('applied', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='applied', nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_grid_batch_user_id_ab_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_batch'))
    )
    with op.batch_alter_table('grid_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_batch_user_id'), ['user_id'], unique=False)

    op.create_table('grid_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('layout', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], name=op.f('fk_grid_view_owner_id_ab_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_view')),
    sa.UniqueConstraint('owner_id', 'resource', 'name', name=op.f('uq_grid_view_owner_id'))
    )
    with op.batch_alter_table('grid_view', schema=None) as batch_op:
        batch_op.create_index('uq_grid_view_current', ['owner_id', 'resource'], unique=True, sqlite_where=sa.text('name IS NULL'), postgresql_where=sa.text('name IS NULL'))

    _resize_change_log_source(100, was=64)


def downgrade():
    _resize_change_log_source(64, was=100, using='left(source, 64)')

    with op.batch_alter_table('grid_view', schema=None) as batch_op:
        batch_op.drop_index('uq_grid_view_current', sqlite_where=sa.text('name IS NULL'), postgresql_where=sa.text('name IS NULL'))

    op.drop_table('grid_view')
    with op.batch_alter_table('grid_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_batch_user_id'))

    op.drop_table('grid_batch')
