"""photo flags

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


_SEGMENTS = ('phash_0', 'phash_1', 'phash_2', 'phash_3')


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        for name in _SEGMENTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_photos_{name}'), [name], unique=False)
    _fill_segments()
    op.create_table('photo_flags',
    sa.Column('ref_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('finding_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('reused_before_photo', 'reused_elsewhere', 'taken_before_order', 'far_from_finding',
                              name='flagkind', native_enum=False, create_constraint=False, length=32),
              nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_photo_flags_finding_id_findings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_photo_flags_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ref_id'], ['photo_refs.id'], name=op.f('fk_photo_flags_ref_id_photo_refs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_flags')),
    sa.UniqueConstraint('ref_id', 'kind', name=op.f('uq_photo_flags_ref_id_kind'))
    )
    with op.batch_alter_table('photo_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_flags_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_flags_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_flags_sha256'), ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('photo_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_flags_sha256'))
        batch_op.drop_index(batch_op.f('ix_photo_flags_order_id'))
        batch_op.drop_index(batch_op.f('ix_photo_flags_finding_id'))
    op.drop_table('photo_flags')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        for name in reversed(_SEGMENTS):
            batch_op.drop_index(batch_op.f(f'ix_photos_{name}'))
            batch_op.drop_column(name)


def _fill_segments() -> None:
    """The photos stored before this revision get their hash's segments, as media.phash_index cuts
    them (computed here, not imported: a migration must not change when the code does)."""
    photos = sa.table('photos', sa.column('sha256', sa.String), sa.column('phash', sa.String),
                      *(sa.column(name, sa.Integer) for name in _SEGMENTS))
    connection = op.get_bind()
    rows = connection.execute(sa.select(photos.c.sha256, photos.c.phash).where(photos.c.phash.is_not(None)))
    for sha256, phash in rows.all():
        value = int(phash, 16)
        parts = {name: (value >> (16 * (3 - i))) & 0xFFFF for i, name in enumerate(_SEGMENTS)}
        connection.execute(photos.update().where(photos.c.sha256 == sha256).values(**parts))
