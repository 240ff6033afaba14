"""Equipment telemetry: device keys, last known device state, signed messages kept for
replay refusal and rate limits; reserve-centre inventory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of ``equipment`` would trip SQLite's foreign keys.
    op.add_column('equipment', sa.Column('device_key', sa.String(length=128), nullable=True))
    op.add_column('equipment', sa.Column('device_state', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('equipment', sa.Column('last_telemetry_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('equipment', sa.Column('telemetry_due_by', UTCDateTime(timezone=True), nullable=True))

    op.create_table('inventory_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=100), nullable=False),
    sa.Column('batch', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('min_quantity >= 0', name=op.f('ck_inventory_line_min_quantity_not_negative')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_inventory_line_quantity_not_negative')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_inventory_line_equipment_id_equipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_line')),
    sa.UniqueConstraint('equipment_id', 'item', 'batch', name=op.f('uq_inventory_line_equipment_id_item_batch'))
    )
    with op.batch_alter_table('inventory_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_line_equipment_id'), ['equipment_id'], unique=False)

    op.create_table('telemetry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_telemetry_equipment_id_equipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telemetry')),
    sa.UniqueConstraint('equipment_id', 'message_id', name=op.f('uq_telemetry_equipment_id_message_id'))
    )
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.create_index('ix_telemetry_equipment_received', ['equipment_id', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.drop_index('ix_telemetry_equipment_received')

    op.drop_table('telemetry')
    with op.batch_alter_table('inventory_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_line_equipment_id'))

    op.drop_table('inventory_line')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_column('telemetry_due_by')
        batch_op.drop_column('last_telemetry_at')
        batch_op.drop_column('device_state')
        batch_op.drop_column('device_key')
