"""mail consent

Customers and contacts get an opt-out per channel — mail (直邮), SMS (短信) and e-mail —
with the date it was given and where it came from (本人来电 / 回执 / 退信 / 网站 / 其他), so
that a campaign list (portal/services/mailing.py) leaves them out and the card shows why.
An opt-out is a flag that defaults to false: every existing row stays reachable, as before.
A promotion made from a campaign list keeps what the list was built from and the counts of
those left out (``promotion.audience``, JSON; JSONB on PostgreSQL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CHANNELS = ("mail", "sms", "email")


def upgrade():
    for table in ("customer", "contact"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for channel in CHANNELS:
                batch_op.add_column(sa.Column(f'{channel}_opt_out', sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
                batch_op.add_column(sa.Column(f'{channel}_opt_out_on', sa.Date(), nullable=True))
                batch_op.add_column(sa.Column(f'{channel}_opt_out_source', sa.String(length=16), nullable=True))

    with op.batch_alter_table('promotion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                                          'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('promotion', schema=None) as batch_op:
        batch_op.drop_column('audience')

    for table in ("contact", "customer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for channel in reversed(CHANNELS):
                batch_op.drop_column(f'{channel}_opt_out_source')
                batch_op.drop_column(f'{channel}_opt_out_on')
                batch_op.drop_column(f'{channel}_opt_out')
