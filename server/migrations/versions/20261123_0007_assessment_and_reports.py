"""assessment configuration, ranking exclusions and circulars

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    op.create_table('round_assessments',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('tier_method', _enum('tiermethod', 'thresholds', 'quotas'), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('rank_by_group', sa.Boolean(), nullable=False),
    sa.Column('order_deductions', sa.JSON(), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=False),
    sa.Column('closing', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_assessments_round_id_rounds'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_round_assessments_updated_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_assessments'))
    )
    op.create_table('assessment_exclusions',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_assessment_exclusions_round_id_rounds'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assessment_exclusions_unit_id_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'unit_id', name=op.f('pk_assessment_exclusions'))
    )
    op.create_table('circulars',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('status', _enum('circularstatus', 'draft', 'published'), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('generated_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_circulars_round_id_rounds'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['generated_by'], ['users.id'], name=op.f('fk_circulars_generated_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_circulars_published_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circulars'))
    )
    with op.batch_alter_table('circulars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circulars_round_id'), ['round_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('circulars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circulars_round_id'))
    op.drop_table('circulars')
    op.drop_table('assessment_exclusions')
    op.drop_table('round_assessments')
