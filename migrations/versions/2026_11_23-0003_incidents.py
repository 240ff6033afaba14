"""Incidents, assignments (one active per volunteer), timelines, idempotency records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:16:42.338203
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from app.models.base import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.String(length=128), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('principal', 'key', name=op.f('uq_idempotency_record_principal_key'))
    )
    op.create_geospatial_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('access_notes', sa.Text(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('budget_s', sa.Float(), nullable=False),
    sa.Column('under_covered', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed', 'cancelled')", name=op.f('ck_incident_status')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_incident_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_incident_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_incident_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_status'), ['status'], unique=False)

    op.create_table('incident_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_event_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_event'))
    )
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_event_incident_id'), ['incident_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('eta_s', sa.Float(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('aed_eta_s', sa.Float(), nullable=True),
    sa.Column('alerted_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("role IN ('direct', 'fetch_aed')", name=op.f('ck_assignment_role')),
    sa.CheckConstraint("status IN ('alerted', 'accepted', 'arrived', 'released', 'declined', 'timed_out', 'cancelled')", name=op.f('ck_assignment_status')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_assignment_equipment_id_equipment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_assignment_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_assignment_volunteer_id_volunteer'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('incident_id', 'volunteer_id', name=op.f('uq_assignment_incident_id_volunteer_id'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('uq_assignment_active_volunteer', ['volunteer_id'], unique=True, sqlite_where=sa.text("status IN ('alerted', 'accepted', 'arrived')"), postgresql_where=sa.text("status IN ('alerted', 'accepted', 'arrived')"))



def downgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('uq_assignment_active_volunteer', sqlite_where=sa.text("status IN ('alerted', 'accepted', 'arrived')"), postgresql_where=sa.text("status IN ('alerted', 'accepted', 'arrived')"))
        batch_op.drop_index(batch_op.f('ix_assignment_incident_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_event_incident_id'))

    op.drop_table('incident_event')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_status'))
        batch_op.drop_index(batch_op.f('ix_incident_region_id'))
        batch_op.drop_index(batch_op.f('ix_incident_kind'))
        batch_op.drop_geospatial_index('idx_incident_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('incident')
    op.drop_table('idempotency_record')
