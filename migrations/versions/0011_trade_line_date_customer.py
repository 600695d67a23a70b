"""the transaction's date and customer carried on its lines

The product and category analyses and the replenishment reminders read a period's lines
(~620,000 a year at 2,000,000 transactions): through trade, that is a range on the trade
index and then a seek into trade_line per transaction. With the trade's date and customer
on the line, a period's lines are ranges of two covering indexes (by product for all
customers, by customer for a salesperson's), answered from the index alone.

The two columns are the trade's, kept true by the database whatever writes the rows (ORM,
grid, the import's COPY / executemany, seeds):

* PostgreSQL: a BEFORE INSERT OR UPDATE row trigger on trade_line sets them from the
  trade; an AFTER UPDATE trigger on trade copies a changed date or customer to its lines.
  (A load with ``session_replication_role = replica`` skips triggers: it must write them.)
* SQLite cannot change NEW in a BEFORE trigger, so the columns have placeholder defaults
  (to pass NOT NULL) that an AFTER INSERT trigger replaces within the same statement; the
  same AFTER UPDATE trigger on trade. A batch migration that recreates trade_line or trade
  on SQLite drops their triggers: it must create them again (``create_triggers``).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# By product: the custodian's analyses read each product's range of dates (SQLite skip-scans
# the ~110 products; GROUP BY product needs no sort); it serves the product foreign key's
# lookups too, so it replaces ix_trade_line_product_id. By customer: a salesperson's pages
# seek their customers' ranges instead of reading everyone's (and the new foreign key's
# lookups when a customer is purged).
INDEXES = {
    'ix_trade_line_product_date': ['product_id', 'trade_date', 'customer_id', 'amount', 'quantity'],
    'ix_trade_line_customer_date': ['customer_id', 'trade_date', 'product_id', 'amount', 'quantity'],
}

# SQLite only: what an INSERT that names neither column stores until the AFTER INSERT
# trigger (same statement) sets the trade's values.
SQLITE_PLACEHOLDERS = {'trade_date': "'0001-01-01'", 'customer_id': '0'}

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION trade_line_from_trade() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT t.trade_date, t.customer_id INTO NEW.trade_date, NEW.customer_id
          FROM trade t WHERE t.id = NEW.transaction_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER trade_line_from_trade BEFORE INSERT OR UPDATE OF transaction_id, trade_date, customer_id
    ON trade_line FOR EACH ROW EXECUTE FUNCTION trade_line_from_trade()""",
    """CREATE FUNCTION trade_to_lines() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE trade_line SET trade_date = NEW.trade_date, customer_id = NEW.customer_id
         WHERE transaction_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trade_to_lines AFTER UPDATE OF trade_date, customer_id ON trade FOR EACH ROW
    WHEN (OLD.trade_date IS DISTINCT FROM NEW.trade_date OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION trade_to_lines()""",
)

# The line's values from its trade, when they differ (so the UPDATE fires nothing further).
_SQLITE_SET_FROM_TRADE = """
    UPDATE trade_line SET trade_date = (SELECT t.trade_date FROM trade t WHERE t.id = NEW.transaction_id),
                          customer_id = (SELECT t.customer_id FROM trade t WHERE t.id = NEW.transaction_id)
     WHERE id = NEW.id AND EXISTS (SELECT 1 FROM trade t WHERE t.id = NEW.transaction_id
                                      AND (t.trade_date IS NOT NEW.trade_date OR t.customer_id IS NOT NEW.customer_id));
"""
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER trade_line_from_trade AFTER INSERT ON trade_line BEGIN {_SQLITE_SET_FROM_TRADE} END",
    "CREATE TRIGGER trade_line_from_trade_on_update AFTER UPDATE OF transaction_id, trade_date, customer_id "
    f"ON trade_line BEGIN {_SQLITE_SET_FROM_TRADE} END",
    """CREATE TRIGGER trade_to_lines AFTER UPDATE OF trade_date, customer_id ON trade
    WHEN OLD.trade_date IS NOT NEW.trade_date OR OLD.customer_id IS NOT NEW.customer_id BEGIN
        UPDATE trade_line SET trade_date = NEW.trade_date, customer_id = NEW.customer_id WHERE transaction_id = NEW.id;
    END""",
)
TRIGGER_NAMES = ('trade_line_from_trade', 'trade_line_from_trade_on_update', 'trade_to_lines')


def create_triggers(bind) -> None:
    for statement in POSTGRES_TRIGGERS if bind.dialect.name == 'postgresql' else SQLITE_TRIGGERS:
        bind.exec_driver_sql(statement)


def drop_triggers(bind) -> None:
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS trade_to_lines ON trade')
        op.execute('DROP TRIGGER IF EXISTS trade_line_from_trade ON trade_line')
        op.execute('DROP FUNCTION IF EXISTS trade_to_lines()')
        op.execute('DROP FUNCTION IF EXISTS trade_line_from_trade()')
    else:
        for name in TRIGGER_NAMES:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.add_column('trade_line', sa.Column('trade_date', sa.Date(), nullable=True))
        op.add_column('trade_line', sa.Column('customer_id', sa.Integer(), nullable=True))
        # One pass: a hash join of the lines to the trades.
        op.execute('UPDATE trade_line l SET trade_date = t.trade_date, customer_id = t.customer_id '
                   'FROM trade t WHERE t.id = l.transaction_id')
        op.alter_column('trade_line', 'trade_date', nullable=False)
        op.alter_column('trade_line', 'customer_id', nullable=False)
        op.create_foreign_key(op.f('fk_trade_line_customer_id_customer'), 'trade_line', 'customer',
                              ['customer_id'], ['id'])
    else:
        # Added nullable (no rebuild), filled by the trade's primary key, then NOT NULL with
        # the placeholders the insert trigger relies on and the foreign key (one rebuild,
        # which checks the key of every line).
        with op.batch_alter_table('trade_line', schema=None) as batch_op:
            batch_op.add_column(sa.Column('trade_date', sa.Date(), nullable=True))
            batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        op.execute('UPDATE trade_line SET '
                   'trade_date = (SELECT t.trade_date FROM trade t WHERE t.id = trade_line.transaction_id), '
                   'customer_id = (SELECT t.customer_id FROM trade t WHERE t.id = trade_line.transaction_id)')
        with op.batch_alter_table('trade_line', schema=None, recreate='always') as batch_op:
            for name, placeholder in SQLITE_PLACEHOLDERS.items():
                batch_op.alter_column(name, existing_type=sa.Date() if name == 'trade_date' else sa.Integer(),
                                      nullable=False, server_default=sa.text(placeholder))
            batch_op.create_foreign_key(batch_op.f('fk_trade_line_customer_id_customer'), 'customer',
                                        ['customer_id'], ['id'])
    for name, columns in INDEXES.items():
        op.create_index(name, 'trade_line', columns, unique=False)
    op.drop_index('ix_trade_line_product_id', table_name='trade_line')
    create_triggers(bind)


def downgrade():
    bind = op.get_bind()
    drop_triggers(bind)
    op.create_index('ix_trade_line_product_id', 'trade_line', ['product_id'], unique=False)
    for name in INDEXES:
        op.drop_index(name, table_name='trade_line')
    with op.batch_alter_table('trade_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trade_line_customer_id_customer'), type_='foreignkey')
        batch_op.drop_column('customer_id')
        batch_op.drop_column('trade_date')
