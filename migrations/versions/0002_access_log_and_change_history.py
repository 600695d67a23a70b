"""access log and change history

Both tables are append-only: a trigger refuses any UPDATE of what a row says (only the
user/customer links may be cleared when those are deleted). Old rows are removed by the
retention command only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:36:50.602419

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# Columns whose content can never change once written.
FROZEN = {
    "access_log": ("at", "username", "ip", "action", "object_type", "object_id", "row_count", "detail"),
    "change_log": ("at", "username", "object_type", "object_id", "action", "source", "changes"),
}


def _create_append_only_triggers():
    dialect = op.get_bind().dialect.name
    for table, columns in FROZEN.items():
        cols = ", ".join(columns)
        if dialect == "postgresql":
            op.execute(f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql""")
            op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OF {cols} ON {table}
                           FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
        else:
            op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OF {cols} ON {table}
                           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def _drop_append_only_triggers():
    dialect = op.get_bind().dialect.name
    for table in FROZEN:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only")


def upgrade():
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=256), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_access_log_user_id_ab_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_access_log_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_username'), ['username'], unique=False)

    op.create_table('change_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=256), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_change_log_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_change_log_user_id_ab_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log'))
    )
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_log_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_change_log_object', ['object_type', 'object_id'], unique=False)

    _create_append_only_triggers()



def downgrade():
    _drop_append_only_triggers()
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index('ix_change_log_object')
        batch_op.drop_index(batch_op.f('ix_change_log_customer_id'))
        batch_op.drop_index(batch_op.f('ix_change_log_at'))

    op.drop_table('change_log')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_username'))
        batch_op.drop_index('ix_access_log_user_at')
        batch_op.drop_index(batch_op.f('ix_access_log_at'))
        batch_op.drop_index(batch_op.f('ix_access_log_action'))

    op.drop_table('access_log')
