"""customer indexes leave out the NULLs of sparse columns

Most cards hold no industry, team, source, referring customer, region or e-mail, and an
import of new or updated cards sets none of them; yet every insert, and on PostgreSQL every
update that is not HOT (any indexed column changed, or no room on the page), added an index
entry for each NULL: 6 of the customer table's 24 indexes. As partial indexes
``WHERE <column> IS NOT NULL`` they hold only the cards that have a value. Every query that
used them still can: an equality, ``= ANY``, ``IN``, ``LIKE 'x%'`` and a foreign key's check
(``WHERE industry_id = $1`` on deleting an industry) are false for NULL, so both databases'
planners prove the predicate from the query (tests/test_migrations.py shows the plans).

The e-mail's index keeps its PostgreSQL pattern operator class (migration 0005).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# name: (columns, the column whose NULLs are left out)
INDEXES = {
    'ix_customer_industry_id': (['industry_id'], 'industry_id'),
    'ix_customer_team_id': (['team_id'], 'team_id'),
    'ix_customer_source_id': (['source_id'], 'source_id'),
    'ix_customer_referred_by_id': (['referred_by_id'], 'referred_by_id'),
    'ix_customer_region_route': (['region_id', 'route_id', 'route_order'], 'region_id'),
    'ix_customer_email': (['email'], 'email'),
}
PATTERN_OPS = {'ix_customer_email': {'email': 'varchar_pattern_ops'}}


def _create(name: str, partial: bool) -> None:
    columns, sparse = INDEXES[name]
    where = {'postgresql_where': sa.text(f'{sparse} IS NOT NULL'),
             'sqlite_where': sa.text(f'{sparse} IS NOT NULL')} if partial else {}
    op.create_index(name, 'customer', columns, unique=False, postgresql_ops=PATTERN_OPS.get(name, {}), **where)


def upgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='customer')
        _create(name, partial=True)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='customer')
        _create(name, partial=False)
