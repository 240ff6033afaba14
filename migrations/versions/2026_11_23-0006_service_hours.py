"""Service hours ledger and accounts, rewards and redemptions, post-incident follow-ups.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:35:02.331218
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cost_minutes', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cost_minutes > 0', name=op.f('ck_reward_cost_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_reward_stock_not_negative')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_reward_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward'))
    )
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_region_id'), ['region_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=128), nullable=True),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.CheckConstraint("kind IN ('responder_checkin', 'aed_check')", name=op.f('ck_follow_up_kind')),
    sa.CheckConstraint("status IN ('pending', 'answered')", name=op.f('ck_follow_up_status')),
    sa.CheckConstraint('(volunteer_id IS NULL) <> (equipment_id IS NULL)', name=op.f('ck_follow_up_volunteer_or_equipment')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_follow_up_equipment_id_equipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_follow_up_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_follow_up_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_follow_up_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('cost_minutes', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_redemption_reward_id_reward'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_redemption_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemption'))
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_reward_id'), ['reward_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('service_account',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('earned_minutes', sa.Integer(), nullable=False),
    sa.Column('balance_minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance_minutes >= 0', name=op.f('ck_service_account_balance_not_negative')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_service_account_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', name=op.f('pk_service_account'))
    )
    op.create_table('service_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('incident', 'drill', 'patrol', 'training', 'redemption', 'adjustment')", name=op.f('ck_service_entry_source')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_service_entry_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_entry'))
    )
    with op.batch_alter_table('service_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_entry_volunteer_id'), ['volunteer_id'], unique=False)
        batch_op.create_index('uq_service_entry_source', ['volunteer_id', 'source', 'source_id'], unique=True, sqlite_where=sa.text('source_id IS NOT NULL'), postgresql_where=sa.text('source_id IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('service_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_service_entry_source', sqlite_where=sa.text('source_id IS NOT NULL'), postgresql_where=sa.text('source_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_service_entry_volunteer_id'))

    op.drop_table('service_entry')
    op.drop_table('service_account')
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_redemption_reward_id'))

    op.drop_table('redemption')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_status'))
        batch_op.drop_index(batch_op.f('ix_follow_up_region_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_incident_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_equipment_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_region_id'))

    op.drop_table('reward')
