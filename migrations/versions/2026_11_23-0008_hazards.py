"""Hazards (closed loop) and patrol records.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from app.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table('hazard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('compound', sa.String(length=200), nullable=False),
    sa.Column('building', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('photo_ref', sa.String(length=500), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('reported_by', sa.String(length=128), nullable=False),
    sa.Column('reporter_volunteer_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("status <> 'closed' OR verified_at IS NOT NULL", name=op.f('ck_hazard_closed_after_verification')),
    sa.CheckConstraint("status IN ('reported', 'fixed_on_spot', 'listed', 'rectified', 'verified', 'closed')", name=op.f('ck_hazard_status')),
    sa.CheckConstraint("status NOT IN ('listed', 'rectified') OR department IS NOT NULL", name=op.f('ck_hazard_listed_for_department')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_hazard_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reporter_volunteer_id'], ['volunteer.id'], name=op.f('fk_hazard_reporter_volunteer_id_volunteer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard'))
    )
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_hazard_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_hazard_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reporter_volunteer_id'), ['reporter_volunteer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_status'), ['status'], unique=False)

    op.create_table('patrol',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('credited_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('ended_at > started_at', name=op.f('ck_patrol_ends_after_start')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_patrol_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_patrol_volunteer_id_volunteer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol')),
    sa.UniqueConstraint('volunteer_id', 'started_at', name=op.f('uq_patrol_volunteer_id_started_at'))
    )
    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('hazard_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('by', sa.String(length=128), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.CheckConstraint("action IN ('report', 'fix', 'list', 'rectify', 'verify', 'reject', 'close')", name=op.f('ck_hazard_event_action')),
    sa.CheckConstraint("to_status IN ('reported', 'fixed_on_spot', 'listed', 'rectified', 'verified', 'closed')", name=op.f('ck_hazard_event_to_status')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_hazard_event_hazard_id_hazard'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_hazard_event_volunteer_id_volunteer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_event'))
    )
    with op.batch_alter_table('hazard_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_event_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_event_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('patrol_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('compound', sa.String(length=200), nullable=False),
    sa.Column('building', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrol.id'], name=op.f('fk_patrol_place_patrol_id_patrol'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_place'))
    )
    with op.batch_alter_table('patrol_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_place_patrol_id'), ['patrol_id'], unique=False)

    op.create_table('patrol_hazard',
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_patrol_hazard_hazard_id_hazard'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrol.id'], name=op.f('fk_patrol_hazard_patrol_id_patrol'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patrol_id', 'hazard_id', name=op.f('pk_patrol_hazard'))
    )
    with op.batch_alter_table('patrol_hazard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_hazard_hazard_id'), ['hazard_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patrol_hazard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_hazard_hazard_id'))

    op.drop_table('patrol_hazard')
    with op.batch_alter_table('patrol_place', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_place_patrol_id'))

    op.drop_table('patrol_place')
    with op.batch_alter_table('hazard_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_event_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_hazard_event_hazard_id'))

    op.drop_table('hazard_event')
    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_patrol_started_at'))
        batch_op.drop_index(batch_op.f('ix_patrol_region_id'))

    op.drop_table('patrol')
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_status'))
        batch_op.drop_index(batch_op.f('ix_hazard_reporter_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_hazard_region_id'))
        batch_op.drop_index(batch_op.f('ix_hazard_kind'))
        batch_op.drop_index(batch_op.f('ix_hazard_due_at'))
        batch_op.drop_geospatial_index('idx_hazard_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('hazard')
