"""the logs keep their links: no foreign keys on the access log and the change history

An entry names the user and the customer it is about and goes on naming them. The links were
foreign keys with ON DELETE SET NULL, the one UPDATE the append-only triggers let through: a
purged customer's entries, its contacts' and visits' among them, lost the customer they were
about, and removing a user rewrote every entry of theirs. The check of both keys on every new
entry also cost an import of 100,000 new cards about 0.8 s of its commit on PostgreSQL
(bench/RESULTS.md, twenty-second session). The history's changes are kept as written, json
rather than jsonb on PostgreSQL: nothing queries inside them, and parsing each into jsonb
cost another 0.4 s.

The triggers name the columns they freeze; PostgreSQL refuses to alter the type of such a
column and SQLite's table copy does not carry triggers over, so they are dropped and created
again around the change, as 0002 made them.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The columns each log's append-only trigger freezes, as 0002 and 0004 left them.
FROZEN = {
    "access_log": "at, username, ip, action, object_type, object_id, row_count, detail",
    "change_log": "at, username, object_type, object_id, action, source, changes",
}
LINKS = {
    "access_log": (("user_id", "ab_user"),),
    "change_log": (("customer_id", "customer"), ("user_id", "ab_user")),
}
JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_trigger(table):
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + (f" ON {table}" if _postgres() else ""))


def _create_trigger(table):
    if _postgres():   # the function {table}_append_only() from 0002 is still there
        op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OF {FROZEN[table]} ON {table}
                       FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
    else:
        op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OF {FROZEN[table]} ON {table}
                       BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def upgrade():
    for table, links in LINKS.items():
        _drop_trigger(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, target in links:
                batch_op.drop_constraint(f"fk_{table}_{column}_{target}", type_="foreignkey")
            if table == "change_log":
                batch_op.alter_column("changes", existing_type=JSONB, type_=sa.JSON(), existing_nullable=False,
                                      postgresql_using="changes::json")
        _create_trigger(table)


def downgrade():
    for table, links in LINKS.items():
        _drop_trigger(table)
        for column, target in links:
            # What ON DELETE SET NULL would have done to the links of records gone since.
            op.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL "
                       f"AND {column} NOT IN (SELECT id FROM {target})")
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "change_log":
                batch_op.alter_column("changes", existing_type=sa.JSON(), type_=JSONB, existing_nullable=False,
                                      postgresql_using="changes::jsonb")
            for column, target in links:
                batch_op.create_foreign_key(f"fk_{table}_{column}_{target}", target, [column], ["id"],
                                            ondelete="SET NULL")
        _create_trigger(table)
