"""results the office enters without phones (score sheet, tier given directly, 综合评议);
tiers set per assessment group; rounds combined by weight into another (annual) result

Revision ID: 0009
Revises: 0008_accounts
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entered_results',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('tier', sa.String(length=20), nullable=True),
    sa.Column('adjustment', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('adjustment_reason', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_entered_results_round_id_rounds'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_entered_results_unit_id_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'unit_id', name=op.f('pk_entered_results'))
    )
    with op.batch_alter_table('round_assessments', schema=None) as batch_op:
        # Rounds configured before keep one set of tiers for every group.
        batch_op.add_column(sa.Column('group_tiers', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('sources', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('round_assessments', schema=None) as batch_op:
        batch_op.drop_column('sources')
        batch_op.drop_column('group_tiers')
    op.drop_table('entered_results')
