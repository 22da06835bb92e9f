"""holiday calendar

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holiday_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_by', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['loaded_by'], ['users.id'], name=op.f('fk_holiday_years_loaded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_years'))
    )
    op.create_table('official_days',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['year'], ['holiday_years.year'], name=op.f('fk_official_days_year_holiday_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date', name=op.f('pk_official_days'))
    )
    with op.batch_alter_table('official_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_days_year'), ['year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('official_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_days_year'))

    op.drop_table('official_days')
    op.drop_table('holiday_years')
