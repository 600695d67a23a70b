"""covering indexes for the analyses

The analyses (issue 6) read a period's transactions by date — customer, amount and payment
method only — and the lines of those transactions — product, amount, quantity. Covering
indexes let both be answered from the index: ix_trade_date_cover replaces ix_trade_trade_date
and ix_trade_line_cover replaces ix_trade_line_transaction_id (each leads with the replaced
index's column, so lookups by date and the foreign key's lookups still use an index).

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trade', schema=None) as batch_op:
        batch_op.create_index('ix_trade_date_cover', ['trade_date', 'customer_id', 'amount', 'payment_method', 'id'],
                              unique=False)
        batch_op.drop_index(batch_op.f('ix_trade_trade_date'))
    with op.batch_alter_table('trade_line', schema=None) as batch_op:
        batch_op.create_index('ix_trade_line_cover', ['transaction_id', 'product_id', 'amount', 'quantity'],
                              unique=False)
        batch_op.drop_index(batch_op.f('ix_trade_line_transaction_id'))


def downgrade():
    with op.batch_alter_table('trade_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trade_line_transaction_id'), ['transaction_id'], unique=False)
        batch_op.drop_index('ix_trade_line_cover')
    with op.batch_alter_table('trade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trade_trade_date'), ['trade_date'], unique=False)
        batch_op.drop_index('ix_trade_date_cover')
