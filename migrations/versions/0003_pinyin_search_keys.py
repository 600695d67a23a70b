"""pinyin search keys

Customers and contacts get their name's full pinyin and initials, indexed, so that a quick
search finds 张伟 by "zhangwei" or "zw" with an index lookup. Existing rows are filled in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 04:31:50.086457

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_pinyin', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('name_initials', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_name_initials'), ['name_initials'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_name_pinyin'), ['name_pinyin'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_pinyin', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('name_initials', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_name_initials'), ['name_initials'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_name_pinyin'), ['name_pinyin'], unique=False)

    _fill_keys("customer")
    _fill_keys("contact")


def _fill_keys(table_name):
    from portal.services.pinyin import keys

    conn = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("name_pinyin", sa.String), sa.column("name_initials", sa.String))
    rows = conn.execute(sa.select(table.c.id, table.c.name)).all()
    updates = [{"row_id": row.id, "full": keys(row.name)[0], "initials": keys(row.name)[1]} for row in rows]
    if updates:
        conn.execute(table.update().where(table.c.id == sa.bindparam("row_id"))
                     .values(name_pinyin=sa.bindparam("full"), name_initials=sa.bindparam("initials")), updates)



def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_name_pinyin'))
        batch_op.drop_index(batch_op.f('ix_customer_name_initials'))
        batch_op.drop_column('name_initials')
        batch_op.drop_column('name_pinyin')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_name_pinyin'))
        batch_op.drop_index(batch_op.f('ix_contact_name_initials'))
        batch_op.drop_column('name_initials')
        batch_op.drop_column('name_pinyin')

