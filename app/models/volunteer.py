"""Teams, volunteers and their certificates."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import WKBElement
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin, UTCDateTime, point_type


def sql_in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class TeamKind(StrEnum):
    community = "community"
    university = "university"
    enterprise = "enterprise"
    reserve = "reserve"
    other = "other"


class VolunteerStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    removed = "removed"


class RoleTag(StrEnum):
    community_worker = "community_worker"
    property_staff = "property_staff"
    veteran = "veteran"
    resident = "resident"
    student = "student"
    trainer = "trainer"


class Skill(StrEnum):
    """The standard first-aid skills a certificate can attest."""

    cpr = "cpr"
    aed = "aed"
    trauma_bandaging = "trauma_bandaging"
    haemostasis = "haemostasis"
    fracture_fixation = "fracture_fixation"
    patient_transport = "patient_transport"
    choking_relief = "choking_relief"
    burns = "burns"
    poisoning = "poisoning"
    drowning = "drowning"
    heatstroke = "heatstroke"
    stroke_recognition = "stroke_recognition"


class Team(TimestampMixin, Base):
    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("region_id", "name"),
        CheckConstraint(sql_in("kind", TeamKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="SET NULL", use_alter=True), index=True
    )


class Volunteer(TimestampMixin, Base):
    __tablename__ = "volunteer"
    __table_args__ = (CheckConstraint(sql_in("status", VolunteerStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Stored whole (dispatch must be able to call); every list shows it masked.
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(128), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"),
                                                index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=VolunteerStatus.active.value,
                                        index=True)
    home_location: Mapped[WKBElement | None] = mapped_column(point_type(), nullable=True)
    duty_location: Mapped[WKBElement | None] = mapped_column(point_type(), nullable=True)
    # Anchor positions on the walking network (see EquipmentPoint.snap_version).
    snap_version: Mapped[str | None] = mapped_column(String(64))
    home_snap_edge_id: Mapped[int | None] = mapped_column(Integer)
    home_snap_offset_m: Mapped[float | None] = mapped_column(Float)
    home_snap_distance_m: Mapped[float | None] = mapped_column(Float)
    duty_snap_edge_id: Mapped[int | None] = mapped_column(Integer)
    duty_snap_offset_m: Mapped[float | None] = mapped_column(Float)
    duty_snap_distance_m: Mapped[float | None] = mapped_column(Float)

    certifications: Mapped[list[Certification]] = relationship(
        lazy="raise", order_by="Certification.expires_at", passive_deletes=True
    )


class Certification(TimestampMixin, Base):
    __tablename__ = "certification"
    __table_args__ = (
        UniqueConstraint("skill", "number"),
        CheckConstraint(sql_in("skill", Skill), name="skill"),
        CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    skill: Mapped[str] = mapped_column(String(32), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    issuer: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64))

    def is_valid_at(self, moment: datetime) -> bool:
        return self.issued_at <= moment < self.expires_at

    @classmethod
    def valid_at(cls, moment: datetime) -> ColumnElement[bool]:
        """SQL twin of ``is_valid_at``."""
        return and_(cls.issued_at <= moment, cls.expires_at > moment)
