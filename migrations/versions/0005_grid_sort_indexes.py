"""grid sort indexes

The grid (issue 4) pages through the customers ordered by one column and then by id in the
same direction — ``ORDER BY col ASC, id ASC`` / ``ORDER BY col DESC, id DESC`` with LIMIT
— and filters and quick-searches them. At 1,000,000 customers (bench/grid_speed.py) a
sort is only fast when one index yields exactly that order, so that the first 50 rows are
read off the index instead of sorting the table:

* every column the grid lists (``listed=True``) gets an index on ``(col, id)``, declared in
  ``Customer.__table_args__`` (tests/test_migrations.py compares the two). On SQLite any
  index ends in the rowid (= id), so ``(col)`` would do, but PostgreSQL needs the id in the
  key, and one definition keeps the two schemas the same. The number (unique) and the
  name (no NULLs, few duplicates) keep their one-column indexes, which serve both;
  ``phone``, ``mobile``, ``region_id`` and ``owner_id`` had one-column indexes that are
  replaced by the two-column ones under the same names (they serve the lookups as well);
  ``customer_type``, ``province``, ``city``, ``value_grade`` and ``stage`` had none usable
  (``ix_customer_stage_grade`` is ``(stage, value_grade)``: it does not give stage, id).
  The same indexes serve the filters ``col = x`` / ``col IN (…)`` ordered by id.
* PostgreSQL only: ``LIKE 'x%'`` can use a B-tree only with ``varchar_pattern_ops`` unless
  the database collation is "C". The quick search's prefix keys — the pinyin and initials
  of customers and contacts, and the e-mail — are not sorted on, so their indexes are
  rebuilt with that operator class under the same names (the model's ``index=True`` still
  describes them: Alembic compares columns, not operator classes). The number is sorted
  on (its unique constraint's index), so its prefix gets a second index,
  ``ix_customer_number_prefix``; the model declares it with ``sqlite_where=false()``, so
  SQLite's copy is an empty partial index: SQLite's LIKE is case-insensitive and uses no
  B-tree index with the default collation anyway — a prefix search there is a range
  (``col >= 'x' AND col < 'y'``) on the ordinary index (bench/RESULTS.md).
  The mobile gets no pattern index: a full mobile is an equality (ix_customer_mobile), and
  part of one is matched anywhere in the number, which no B-tree serves.

Creating the indexes on 1,000,000 customers takes a few seconds per index and blocks
writes to the customer table meanwhile (PostgreSQL's CONCURRENTLY cannot run inside the
migration's transaction).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# (column, its index before this revision or None) — the new index is ix_customer_<column>
# on (column, id).
SORT_INDEXES = (
    ("customer_type", None),
    ("province", None),
    ("city", None),
    ("phone", "ix_customer_phone"),
    ("mobile", "ix_customer_mobile"),
    ("region_id", "ix_customer_region_id"),
    ("value_grade", None),
    ("owner_id", "ix_customer_owner_id"),
    ("stage", None),
)
# PostgreSQL: (table, column) whose ix_<table>_<column> becomes varchar_pattern_ops.
PATTERN_INDEXES = (
    ("customer", "name_pinyin"),
    ("customer", "name_initials"),
    ("customer", "email"),
    ("contact", "name_pinyin"),
    ("contact", "name_initials"),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    for column, old in SORT_INDEXES:
        if old:
            op.drop_index(old, table_name="customer")
        op.create_index(f"ix_customer_{column}", "customer", [column, "id"], unique=False)
    op.create_index("ix_customer_number_prefix", "customer", ["number"], unique=False,
                    postgresql_ops={"number": "varchar_pattern_ops"}, sqlite_where=sa.false())
    if _postgres():
        for table, column in PATTERN_INDEXES:
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column], unique=False,
                            postgresql_ops={column: "varchar_pattern_ops"})


def downgrade():
    if _postgres():
        for table, column in reversed(PATTERN_INDEXES):
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column], unique=False)
    op.drop_index("ix_customer_number_prefix", table_name="customer")
    for column, old in reversed(SORT_INDEXES):
        op.drop_index(f"ix_customer_{column}", table_name="customer")
        if old:
            op.create_index(old, "customer", [column], unique=False)
