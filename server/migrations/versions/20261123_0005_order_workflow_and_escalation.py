"""order workflow and escalation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_policies',
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_escalation_policies_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_due_at')
        batch_op.drop_constraint('fk_orders_parent_id_orders', type_='foreignkey')
        batch_op.drop_column('parent_id')
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalate_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('time_limit', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('remind_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminder_index', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('paused_remaining_s', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('review_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('bounces', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('needs_supervisor', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('rebound_of_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_orders_rebound_of_id_orders'), 'orders', ['rebound_of_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_orders_status_escalate_at', ['status', 'escalate_at'], unique=False)
        batch_op.create_index('ix_orders_status_remind_at', ['status', 'remind_at'], unique=False)
    # Orders raised before deadlines were computed keep theirs; the defaults were for existing rows only.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for column in ('time_limit', 'reminder_index', 'bounces', 'needs_supervisor'):
            batch_op.alter_column(column, server_default=None)
    op.execute("UPDATE orders SET escalate_at = due_at WHERE status = 'issued'")
    op.execute("UPDATE orders SET status = 'issued' WHERE status = 'escalated'")

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.alter_column('late', server_default=None)

    op.create_table('order_escalations',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=False),
    sa.Column('previous_due_at', sa.DateTime(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('escalated_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['escalated_by'], ['users.id'], name=op.f('fk_order_escalations_escalated_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_escalations_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', 'level', name=op.f('pk_order_escalations'))
    )
    op.create_table('order_requests',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('extension', 'return', 'park', 'void', name='requestkind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', 'withdrawn', name='requeststatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('extra', sa.String(length=16), nullable=False),
    sa.Column('review_at', sa.DateTime(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_order_requests_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_order_requests_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_requests_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_order_requests_requested_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_requests'))
    )
    with op.batch_alter_table('order_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_requests_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_order_requests_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_order_requests_status')
        batch_op.drop_index(batch_op.f('ix_order_requests_order_id'))
    op.drop_table('order_requests')
    op.drop_table('order_escalations')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('late')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_remind_at')
        batch_op.drop_index('ix_orders_status_escalate_at')
        batch_op.drop_constraint(batch_op.f('fk_orders_rebound_of_id_orders'), type_='foreignkey')
        for column in ('rebound_of_id', 'needs_supervisor', 'bounces', 'review_at', 'paused_remaining_s',
                       'reminder_index', 'remind_at', 'time_limit', 'escalate_at', 'started_at'):
            batch_op.drop_column(column)
        batch_op.add_column(sa.Column('parent_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key('fk_orders_parent_id_orders', 'orders', ['parent_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_orders_status_due_at', ['status', 'due_at'], unique=False)
    op.drop_table('escalation_policies')
