"""Incidents, the responders assigned to them, and their timelines."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, UTCDateTime, point_type, utcnow
from app.models.volunteer import sql_in


class IncidentStatus(StrEnum):
    open = "open"
    closed = "closed"
    cancelled = "cancelled"


class AssignmentStatus(StrEnum):
    alerted = "alerted"
    accepted = "accepted"
    arrived = "arrived"
    released = "released"
    declined = "declined"
    timed_out = "timed_out"
    cancelled = "cancelled"


class AssignmentRole(StrEnum):
    direct = "direct"
    fetch_aed = "fetch_aed"


# While an assignment is in one of these states its volunteer is busy.
ACTIVE_ASSIGNMENT_STATUSES = (AssignmentStatus.alerted.value, AssignmentStatus.accepted.value,
                              AssignmentStatus.arrived.value)
ACTIVE_ASSIGNMENT_SQL = "status IN ('alerted', 'accepted', 'arrived')"


class Incident(TimestampMixin, Base):
    __tablename__ = "incident"
    __table_args__ = (CheckConstraint(sql_in("status", IncidentStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.open.value,
                                        index=True)
    location: Mapped[WKBElement] = mapped_column(point_type(), nullable=False)
    address: Mapped[str] = mapped_column(String(500), default="")
    access_notes: Mapped[str] = mapped_column(Text, default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_s: Mapped[float] = mapped_column(Float)
    under_covered: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Assignment(TimestampMixin, Base):
    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint(sql_in("status", AssignmentStatus), name="status"),
        CheckConstraint(sql_in("role", AssignmentRole), name="role"),
        UniqueConstraint("incident_id", "volunteer_id"),
        # One responder is never on two active incidents, whatever the concurrency: the
        # database refuses the second active row (the loser of a race gets 409).
        Index("uq_assignment_active_volunteer", "volunteer_id", unique=True,
              sqlite_where=text(ACTIVE_ASSIGNMENT_SQL),
              postgresql_where=text(ACTIVE_ASSIGNMENT_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(16), default=AssignmentRole.direct.value)
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.alerted.value)
    eta_s: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    aed_eta_s: Mapped[float | None] = mapped_column(Float)
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentEvent(Base):
    """One line of an incident's timeline (the only place a live position is kept). The
    push channels follow this table, so a risk warning delivered to a volunteer is a line
    here too, with ``warning_id`` instead of ``incident_id``."""

    __tablename__ = "incident_event"
    __table_args__ = (CheckConstraint("(incident_id IS NULL) <> (warning_id IS NULL)",
                                      name="incident_or_warning"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    warning_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_warning.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    volunteer_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyRecord(Base):
    """The first response to a request that carried an ``Idempotency-Key``."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Webhook(TimestampMixin, Base):
    """A console integration that receives the incident timeline of its area, signed."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"),
                                           index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Delivery cursor: events up to this id were delivered (at-least-once, in order).
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class DeliveryCursor(Base):
    """How far a notifier (e.g. WeChat subscription messages) has read the timeline."""

    __tablename__ = "delivery_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
