"""visit rules and reminders done

Issue 6: visit_rule holds the contact-frequency rules (客户访问管理表: visitor role × grade →
visits and calls a month, or a visit every so many months, or when needed), seeded from
seeds/visit_rules.json by `flask portal init`; reminder_done keeps who marked which
reminder done and when (kind, customer, subject, the occurrence's date), so it stays hidden until its
next occurrence. The product's usage cycle the replenishment reminder reads is
product.replenish_cycle_days, there since 0001.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'visit_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visitor_role', sa.String(length=32), nullable=False),
        sa.Column('grade', sa.String(length=1), nullable=False),
        sa.Column('schedule', sa.String(length=16), server_default='monthly', nullable=False),
        sa.Column('visits_min', sa.Integer(), nullable=True),
        sa.Column('visits_max', sa.Integer(), nullable=True),
        sa.Column('calls_min', sa.Integer(), nullable=True),
        sa.Column('calls_max', sa.Integer(), nullable=True),
        sa.Column('interval_min_months', sa.Integer(), nullable=True),
        sa.Column('interval_max_months', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('changed_on', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name=op.f('fk_visit_rule_created_by_id_ab_user')),
        sa.ForeignKeyConstraint(['changed_by_id'], ['ab_user.id'], name=op.f('fk_visit_rule_changed_by_id_ab_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_rule')),
        sa.UniqueConstraint('visitor_role', 'grade', name='uq_visit_rule_role_grade'),
    )
    op.create_table(
        'reminder_done',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.Integer(), server_default='0', nullable=False),
        sa.Column('occurrence', sa.Date(), nullable=False),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_reminder_done_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['done_by_id'], ['ab_user.id'], name=op.f('fk_reminder_done_done_by_id_ab_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_done')),
        sa.UniqueConstraint('kind', 'customer_id', 'subject_id', 'occurrence', name='uq_reminder_done_occurrence'),
    )
    op.create_index(op.f('ix_reminder_done_customer_id'), 'reminder_done', ['customer_id'])


def downgrade():
    op.drop_index(op.f('ix_reminder_done_customer_id'), table_name='reminder_done')
    op.drop_table('reminder_done')
    op.drop_table('visit_rule')
