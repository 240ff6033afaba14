"""Foundation: regions, teams, volunteers, certifications, equipment, console users.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 12:23:27.258626
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from app.models.base import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        if not op.get_bind().exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'spatial_ref_sys'"
        ).first():
            op.execute("SELECT InitSpatialMetaData()")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('region',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('responder_speed_mps', sa.Float(), nullable=False),
    sa.Column('public_speed_mps', sa.Float(), nullable=False),
    sa.Column('time_budget_s', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("level IN ('city', 'district', 'community')", name=op.f('ck_region_level')),
    sa.CheckConstraint('population IS NULL OR population >= 0', name=op.f('ck_region_population_nonnegative')),
    sa.CheckConstraint('public_speed_mps > 0', name=op.f('ck_region_public_speed_positive')),
    sa.CheckConstraint('responder_speed_mps > 0', name=op.f('ck_region_responder_speed_positive')),
    sa.CheckConstraint('time_budget_s > 0', name=op.f('ck_region_time_budget_positive')),
    sa.ForeignKeyConstraint(['parent_id'], ['region.id'], name=op.f('fk_region_parent_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region')),
    sa.UniqueConstraint('code', name=op.f('uq_region_code'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_region_boundary', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_region_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_region_path'), ['path'], unique=False)

    op.create_table('console_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("role IN ('dispatcher', 'community_admin', 'district_admin', 'city_admin', 'auditor')", name=op.f('ck_console_user_role')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_console_user_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_user')),
    sa.UniqueConstraint('username', name=op.f('uq_console_user_username'))
    )
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_user_region_id'), ['region_id'], unique=False)

    op.create_geospatial_table('equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('floor_note', sa.String(length=200), nullable=False),
    sa.Column('indoor', sa.Boolean(), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('opening_hours', sa.String(length=500), nullable=False),
    sa.Column('cabinet_pin', sa.String(length=32), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('owner_phone', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pads_expire_on', sa.Date(), nullable=True),
    sa.Column('battery_expires_on', sa.Date(), nullable=True),
    sa.Column('last_verified_on', sa.Date(), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('osm_id', sa.BigInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("access IN ('public', 'restricted')", name=op.f('ck_equipment_access')),
    sa.CheckConstraint("kind IN ('aed', 'first_aid_kit', 'reserve_centre', 'equipment_point')", name=op.f('ck_equipment_kind')),
    sa.CheckConstraint("source IN ('manual', 'bulk_import', 'osm')", name=op.f('ck_equipment_source')),
    sa.CheckConstraint("status IN ('available', 'needs_service', 'out_of_service', 'in_use')", name=op.f('ck_equipment_status')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_equipment_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment')),
    sa.UniqueConstraint('device_id', name=op.f('uq_equipment_device_id')),
    sa.UniqueConstraint('osm_id', name=op.f('uq_equipment_osm_id'))
    )
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_equipment_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_equipment_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_status'), ['status'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('community', 'university', 'enterprise', 'reserve', 'other')", name=op.f('ck_team_kind')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_team_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('region_id', 'name', name=op.f('uq_team_region_id_name'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_leader_id'), ['leader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_region_id'), ['region_id'], unique=False)

    op.create_geospatial_table('volunteer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('wechat_openid', sa.String(length=128), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('home_location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('duty_location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'suspended', 'removed')", name=op.f('ck_volunteer_status')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_volunteer_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_volunteer_team_id_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    sa.UniqueConstraint('phone', name=op.f('uq_volunteer_phone')),
    sa.UniqueConstraint('wechat_openid', name=op.f('uq_volunteer_wechat_openid'))
    )
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_volunteer_duty_location', ['duty_location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_volunteer_home_location', ['home_location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_volunteer_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_team_id'), ['team_id'], unique=False)

    # team.leader_id and volunteer.team_id reference each other: add the team side last.
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_team_leader_id_volunteer'), 'volunteer', ['leader_id'], ['id'], ondelete='SET NULL')

    op.create_table('certification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("skill IN ('cpr', 'aed', 'trauma_bandaging', 'haemostasis', 'fracture_fixation', 'patient_transport', 'choking_relief', 'burns', 'poisoning', 'drowning', 'heatstroke', 'stroke_recognition')", name=op.f('ck_certification_skill')),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_certification_expires_after_issue')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_certification_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification')),
    sa.UniqueConstraint('skill', 'number', name=op.f('uq_certification_skill_number'))
    )
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_skill'), ['skill'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_volunteer_id'), ['volunteer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_certification_skill'))
        batch_op.drop_index(batch_op.f('ix_certification_expires_at'))

    op.drop_table('certification')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_team_leader_id_volunteer'), type_='foreignkey')

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_team_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_status'))
        batch_op.drop_index(batch_op.f('ix_volunteer_region_id'))
        batch_op.drop_geospatial_index('idx_volunteer_home_location', postgresql_using='gist', column_name='home_location')
        batch_op.drop_geospatial_index('idx_volunteer_duty_location', postgresql_using='gist', column_name='duty_location')

    op.drop_geospatial_table('volunteer')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_region_id'))
        batch_op.drop_index(batch_op.f('ix_team_leader_id'))

    op.drop_table('team')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_status'))
        batch_op.drop_index(batch_op.f('ix_equipment_region_id'))
        batch_op.drop_index(batch_op.f('ix_equipment_kind'))
        batch_op.drop_geospatial_index('idx_equipment_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('equipment')
    with op.batch_alter_table('console_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_user_region_id'))

    op.drop_table('console_user')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_path'))
        batch_op.drop_index(batch_op.f('ix_region_parent_id'))
        batch_op.drop_geospatial_index('idx_region_boundary', postgresql_using='gist', column_name='boundary')

    op.drop_geospatial_table('region')
