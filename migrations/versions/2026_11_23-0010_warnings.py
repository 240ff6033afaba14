"""Risk warnings and subscriptions; warning deliveries ride the incident timeline.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from app.models.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table('risk_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('area', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('valid_from', UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('pushed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("severity IN ('blue', 'yellow', 'orange', 'red')", name=op.f('ck_risk_warning_severity')),
    sa.CheckConstraint('valid_until > valid_from', name=op.f('ck_risk_warning_valid_after_from')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_risk_warning_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_warning'))
    )
    with op.batch_alter_table('risk_warning', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_risk_warning_area', ['area'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_risk_warning_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_warning_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_warning_valid_from'), ['valid_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_warning_valid_until'), ['valid_until'], unique=False)

    op.create_geospatial_table('warning_subscription',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_warning_subscription_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', name=op.f('pk_warning_subscription'))
    )
    with op.batch_alter_table('warning_subscription', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_warning_subscription_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})

    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning_id', sa.Integer(), nullable=True))
        batch_op.alter_column('incident_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f('ix_incident_event_warning_id'), ['warning_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incident_event_warning_id_risk_warning'), 'risk_warning', ['warning_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint(op.f('ck_incident_event_incident_or_warning'), '(incident_id IS NULL) <> (warning_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM incident_event WHERE incident_id IS NULL")
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_incident_event_incident_or_warning'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_incident_event_warning_id_risk_warning'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_incident_event_warning_id'))
        batch_op.alter_column('incident_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('warning_id')

    with op.batch_alter_table('warning_subscription', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_warning_subscription_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('warning_subscription')
    with op.batch_alter_table('risk_warning', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_warning_valid_until'))
        batch_op.drop_index(batch_op.f('ix_risk_warning_valid_from'))
        batch_op.drop_index(batch_op.f('ix_risk_warning_region_id'))
        batch_op.drop_index(batch_op.f('ix_risk_warning_kind'))
        batch_op.drop_geospatial_index('idx_risk_warning_area', postgresql_using='gist', column_name='area')

    op.drop_geospatial_table('risk_warning')
