"""Hazards found in a community and their closed loop (Baoding), and the patrols that find
them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, UTCDateTime, point_type
from app.models.volunteer import sql_in


class HazardStatus(StrEnum):
    reported = "reported"
    fixed_on_spot = "fixed_on_spot"
    listed = "listed"          # on the problem list of a responsible department
    rectified = "rectified"
    verified = "verified"
    closed = "closed"


# Not yet verified fixed: these count as open, and as overdue once past their deadline.
OPEN_HAZARD_STATUSES = (HazardStatus.reported.value, HazardStatus.fixed_on_spot.value,
                        HazardStatus.listed.value, HazardStatus.rectified.value)


class HazardAction(StrEnum):
    report = "report"
    fix = "fix"
    list = "list"
    rectify = "rectify"
    verify = "verify"
    reject = "reject"
    close = "close"


class Hazard(TimestampMixin, Base):
    """A hazard (blocked exit, e-bike charging indoors, ...) and where its loop stands. The
    steps themselves are ``HazardEvent`` rows; this row holds the current state."""

    __tablename__ = "hazard"
    __table_args__ = (
        CheckConstraint(sql_in("status", HazardStatus), name="status"),
        # The database, not only the service, refuses a closed hazard nobody verified, and a
        # problem-list entry without the department it is listed for.
        CheckConstraint("status <> 'closed' OR verified_at IS NOT NULL",
                        name="closed_after_verification"),
        CheckConstraint("status NOT IN ('listed', 'rectified') OR department IS NOT NULL",
                        name="listed_for_department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=HazardStatus.reported.value,
                                        index=True)
    location: Mapped[WKBElement] = mapped_column(point_type(), nullable=False)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    compound: Mapped[str] = mapped_column(String(200), default="")
    building: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    photo_ref: Mapped[str] = mapped_column(String(500), default="")
    department: Mapped[str | None] = mapped_column(String(200))
    reported_by: Mapped[str] = mapped_column(String(128))
    reporter_volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="SET NULL"), index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Fixed when reported from the kind's deadline then: the department is told a date, and
    # a later change of the setting does not move it.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HazardEvent(Base):
    """One step of a hazard's loop: who, when, from which state to which, and why."""

    __tablename__ = "hazard_event"
    __table_args__ = (
        CheckConstraint(sql_in("action", HazardAction), name="action"),
        CheckConstraint(sql_in("to_status", HazardStatus), name="to_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id", ondelete="CASCADE"),
                                           index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(128))
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str | None] = mapped_column(String(200))


class Patrol(TimestampMixin, Base):
    """A patrol of a community: when, by whom, which places were inspected."""

    __tablename__ = "patrol"
    __table_args__ = (
        CheckConstraint("ended_at > started_at", name="ends_after_start"),
        # A retried submission of the same patrol must not credit its hours twice, even when
        # both copies race past the service's overlap check.
        UniqueConstraint("volunteer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="SET NULL"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    credited_minutes: Mapped[int] = mapped_column(Integer, default=0)


class PatrolPlace(Base):
    """A compound, building or unit inspected on a patrol."""

    __tablename__ = "patrol_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"),
                                           index=True)
    compound: Mapped[str] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(100), default="")


class PatrolHazard(Base):
    """A hazard found (or seen again) on a patrol."""

    __tablename__ = "patrol_hazard"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"),
                                           primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
