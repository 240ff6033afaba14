"""Courses, modules, sessions, assessments.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('validity_days > 0', name=op.f('ck_course_validity_positive')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_course_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course')),
    sa.UniqueConstraint('region_id', 'name', name=op.f('uq_course_region_id_name'))
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_region_id'), ['region_id'], unique=False)

    op.create_table('course_module',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_course_module_position_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_module_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_module')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_course_module_course_id_position'))
    )
    with op.batch_alter_table('course_module', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_module_course_id'), ['course_id'], unique=False)

    op.create_table('training_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_training_session_ends_after_start')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_training_session_course_id_course'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_training_session_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['trainer_id'], ['volunteer.id'], name=op.f('fk_training_session_trainer_id_volunteer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_session'))
    )
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_session_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_session_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_session_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_session_trainer_id'), ['trainer_id'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('written', sa.Float(), nullable=False),
    sa.Column('practical', sa.Float(), nullable=False),
    sa.Column('simulation', sa.Float(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('excellent', sa.Boolean(), nullable=False),
    sa.Column('assessed_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('assessed_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("NOT excellent OR result = 'pass'", name=op.f('ck_assessment_excellent_only_if_passed')),
    sa.CheckConstraint("result IN ('pass', 'fail')", name=op.f('ck_assessment_result')),
    sa.CheckConstraint('practical >= 0 AND practical <= 100', name=op.f('ck_assessment_practical_range')),
    sa.CheckConstraint('simulation >= 0 AND simulation <= 100', name=op.f('ck_assessment_simulation_range')),
    sa.CheckConstraint('written >= 0 AND written <= 100', name=op.f('ck_assessment_written_range')),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_assessment_session_id_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_assessment_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment')),
    sa.UniqueConstraint('session_id', 'volunteer_id', name=op.f('uq_assessment_session_id_volunteer_id'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_assessed_at'), ['assessed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_session_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_assessed_at'))

    op.drop_table('assessment')
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_session_trainer_id'))
        batch_op.drop_index(batch_op.f('ix_training_session_starts_at'))
        batch_op.drop_index(batch_op.f('ix_training_session_region_id'))
        batch_op.drop_index(batch_op.f('ix_training_session_course_id'))

    op.drop_table('training_session')
    with op.batch_alter_table('course_module', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_module_course_id'))

    op.drop_table('course_module')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_region_id'))

    op.drop_table('course')
