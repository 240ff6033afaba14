"""Positions of equipment and volunteer anchors on the walking network.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:37:55.549969
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snap_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('snap_edge_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('snap_offset_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('snap_distance_m', sa.Float(), nullable=True))

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snap_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('home_snap_edge_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('home_snap_offset_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('home_snap_distance_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('duty_snap_edge_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duty_snap_offset_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('duty_snap_distance_m', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_column('duty_snap_distance_m')
        batch_op.drop_column('duty_snap_offset_m')
        batch_op.drop_column('duty_snap_edge_id')
        batch_op.drop_column('home_snap_distance_m')
        batch_op.drop_column('home_snap_offset_m')
        batch_op.drop_column('home_snap_edge_id')
        batch_op.drop_column('snap_version')

    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_column('snap_distance_m')
        batch_op.drop_column('snap_offset_m')
        batch_op.drop_column('snap_edge_id')
        batch_op.drop_column('snap_version')
