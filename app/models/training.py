"""Training: courses of modules, sessions run by a trainer, and the assessments that grant
certificates (Baoding: written, practical and simulation tests)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin, UTCDateTime
from app.models.volunteer import sql_in


class AssessmentResult(StrEnum):
    passed = "pass"
    failed = "fail"


class Course(TimestampMixin, Base):
    """A curriculum a region offers; passing its assessment certifies ``skills``."""

    __tablename__ = "course"
    __table_args__ = (
        UniqueConstraint("region_id", "name"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Courses of a region are usable by its whole subtree (a city's course, in every district).
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    # Skill values (app.models.volunteer.Skill), checked by the schema: a JSON list cannot
    # carry a CHECK that works on both dialects.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    validity_days: Mapped[int] = mapped_column(Integer, default=365)

    modules: Mapped[list[CourseModule]] = relationship(
        lazy="raise", order_by="CourseModule.position", cascade="all, delete-orphan",
        passive_deletes=True)


class CourseModule(Base):
    __tablename__ = "course_module"
    __table_args__ = (
        UniqueConstraint("course_id", "position"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class TrainingSession(TimestampMixin, Base):
    """One sitting of a course in a region, led by a trainer (a volunteer tagged trainer)."""

    __tablename__ = "training_session"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"),
                                           index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    # SET NULL: removing a trainer from the registry must not erase who was trained.
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(300), default="")


class Assessment(Base):
    """A volunteer's scores in a session. ``result`` and ``excellent`` are decided once, with
    the thresholds in force then, because they granted (or did not grant) certificates."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("session_id", "volunteer_id"),
        CheckConstraint(sql_in("result", AssessmentResult), name="result"),
        CheckConstraint("written >= 0 AND written <= 100", name="written_range"),
        CheckConstraint("practical >= 0 AND practical <= 100", name="practical_range"),
        CheckConstraint("simulation >= 0 AND simulation <= 100", name="simulation_range"),
        CheckConstraint("NOT excellent OR result = 'pass'", name="excellent_only_if_passed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    written: Mapped[float] = mapped_column(Float)
    practical: Mapped[float] = mapped_column(Float)
    simulation: Mapped[float] = mapped_column(Float)
    result: Mapped[str] = mapped_column(String(8))
    excellent: Mapped[bool] = mapped_column(Boolean, default=False)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    assessed_by: Mapped[str] = mapped_column(String(128))
