"""trust-push: a device is its owner's until released; why a quarantined mutation was dismissed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sync_quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('sync_quarantine', schema=None) as batch_op:
        batch_op.drop_column('resolution')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('released_at')
