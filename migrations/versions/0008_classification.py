"""classification runs

Issue 6: classification_run keeps each recomputation of a classification (ABC, RFM, the
turnover × profit matrix, the relationship type) with its kind, parameters, period, date, who
ran it and its counts; classification_result keeps one row per customer and run (the class or
segment and the numbers behind it); grade_proposal keeps the grade changes a run proposed for
the custodian to accept or reject. product.cost_price gives the profit of a line
(amount − quantity × cost).

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('cost_price', sa.Numeric(precision=14, scale=2), nullable=True))
    op.create_table(
        'classification_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('parameters', JSON, nullable=True),
        sa.Column('period_from', sa.Date(), nullable=True),
        sa.Column('period_to', sa.Date(), nullable=True),
        sa.Column('as_of', sa.Date(), nullable=True),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('ran_at', sa.DateTime(), nullable=False),
        sa.Column('ran_by_id', sa.Integer(), nullable=True),
        sa.Column('ran_by_name', sa.String(length=100), nullable=True),
        sa.Column('customer_count', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('counts', JSON, nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ran_by_id'], ['ab_user.id'], name='fk_classification_run_ran_by_id_ab_user',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_classification_run'),
    )
    op.create_index('ix_classification_run_kind_ran_at', 'classification_run', ['kind', 'ran_at'])
    op.create_table(
        'classification_result',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('klass', sa.String(length=32), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('value', sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column('profit', sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column('share_before', sa.Float(), nullable=True),
        sa.Column('recency', sa.Integer(), nullable=True),
        sa.Column('frequency', sa.Integer(), nullable=True),
        sa.Column('r_score', sa.SmallInteger(), nullable=True),
        sa.Column('f_score', sa.SmallInteger(), nullable=True),
        sa.Column('m_score', sa.SmallInteger(), nullable=True),
        sa.Column('score', sa.String(length=8), nullable=True),
        sa.Column('loyalty', sa.Integer(), nullable=True),
        sa.Column('flags', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['classification_run.id'],
                                name='fk_classification_result_run_id_classification_run', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name='fk_classification_result_customer_id_customer', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_classification_result'),
        sa.UniqueConstraint('run_id', 'customer_id', name='uq_classification_result_run_id'),
    )
    op.create_index('ix_classification_result_run_klass', 'classification_result', ['run_id', 'klass'])
    op.create_index('ix_classification_result_customer_id', 'classification_result', ['customer_id'])
    op.create_table(
        'grade_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('old_grade', sa.String(length=1), nullable=True),
        sa.Column('new_grade', sa.String(length=1), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False, server_default='pending'),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['classification_run.id'],
                                name='fk_grade_proposal_run_id_classification_run', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name='fk_grade_proposal_customer_id_customer', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['ab_user.id'],
                                name='fk_grade_proposal_decided_by_id_ab_user', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_grade_proposal'),
    )
    op.create_index('ix_grade_proposal_status_run', 'grade_proposal', ['status', 'run_id'])
    op.create_index('ix_grade_proposal_customer_id', 'grade_proposal', ['customer_id'])


def downgrade():
    op.drop_index('ix_grade_proposal_customer_id', table_name='grade_proposal')
    op.drop_index('ix_grade_proposal_status_run', table_name='grade_proposal')
    op.drop_table('grade_proposal')
    op.drop_index('ix_classification_result_customer_id', table_name='classification_result')
    op.drop_index('ix_classification_result_run_klass', table_name='classification_result')
    op.drop_table('classification_result')
    op.drop_index('ix_classification_run_kind_ran_at', table_name='classification_run')
    op.drop_table('classification_run')
    with op.batch_alter_table('product') as batch:
        batch.drop_column('cost_price')
