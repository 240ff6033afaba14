"""Delivery cursors of notifiers that follow the incident timeline.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:13:41.673539
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delivery_cursor',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_delivery_cursor'))
    )


def downgrade() -> None:
    op.drop_table('delivery_cursor')
