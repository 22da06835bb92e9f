"""photos: every uploader of a photo, its altitude and camera make and model apart

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('altitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('camera_make', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('camera_model', sa.String(length=60), nullable=True))
    op.create_table('photo_uploaders',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_photo_uploaders_device_id_devices'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['photos.sha256'], name=op.f('fk_photo_uploaders_sha256_photos'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_photo_uploaders_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_uploaders')),
    sa.UniqueConstraint('sha256', 'user_id', 'device_id', name=op.f('uq_photo_uploaders_sha256_user_id_device_id'))
    )
    with op.batch_alter_table('photo_uploaders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_uploaders_user_id'), ['user_id'], unique=False)
    # The first uploader of each photo stored so far: its device, and the user last on it.
    op.execute(
        "INSERT INTO photo_uploaders (sha256, user_id, device_id, uploaded_at) "
        "SELECT photos.sha256, devices.user_id, devices.id, photos.received_at "
        "FROM photos JOIN devices ON devices.id = photos.uploaded_by_device")


def downgrade() -> None:
    with op.batch_alter_table('photo_uploaders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_uploaders_user_id'))
    op.drop_table('photo_uploaders')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('camera_model')
        batch_op.drop_column('camera_make')
        batch_op.drop_column('altitude')
