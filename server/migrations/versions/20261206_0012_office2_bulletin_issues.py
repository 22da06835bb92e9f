"""bulletins as issued, numbered per campaign (第N期)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bulletin_issues',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_bulletin_issues_campaign_id_campaigns'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_bulletin_issues_issued_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_issues')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_bulletin_issues_campaign_id_number')),
    sa.UniqueConstraint('campaign_id', 'starts_on', 'ends_on', name=op.f('uq_bulletin_issues_campaign_id_starts_on_ends_on'))
    )


def downgrade() -> None:
    op.drop_table('bulletin_issues')
