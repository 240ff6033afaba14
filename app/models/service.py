"""Volunteer service: hours credited for incidents, patrols, training and drills; rewards
bought with them; and the follow-ups asked after an incident closes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from app.models.volunteer import sql_in


class HoursSource(StrEnum):
    incident = "incident"
    drill = "drill"
    patrol = "patrol"
    training = "training"
    redemption = "redemption"
    adjustment = "adjustment"


class ServiceAccount(Base):
    """A volunteer's balance of service minutes. The CHECK makes overspending impossible:
    a redemption is one conditional UPDATE, and the database refuses a negative balance
    whatever the concurrency."""

    __tablename__ = "service_account"
    __table_args__ = (CheckConstraint("balance_minutes >= 0", name="balance_not_negative"),)

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True)
    earned_minutes: Mapped[int] = mapped_column(Integer, default=0)
    balance_minutes: Mapped[int] = mapped_column(Integer, default=0)


class ServiceEntry(Base):
    """One line of a volunteer's service ledger: minutes earned (positive) or spent."""

    __tablename__ = "service_entry"
    __table_args__ = (
        CheckConstraint(sql_in("source", HoursSource), name="source"),
        # Crediting the same incident, patrol or session twice is impossible.
        Index("uq_service_entry_source", "volunteer_id", "source", "source_id", unique=True,
              sqlite_where=text("source_id IS NOT NULL"),
              postgresql_where=text("source_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reward(TimestampMixin, Base):
    """Something a region offers for service hours (a health check, a home first-aid kit)."""

    __tablename__ = "reward"
    __table_args__ = (CheckConstraint("cost_minutes > 0", name="cost_positive"),
                      CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cost_minutes: Mapped[int] = mapped_column(Integer)
    # None: unlimited. Like the balance, the CHECK keeps concurrent redemptions honest.
    stock: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)


class Redemption(Base):
    __tablename__ = "redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id", ondelete="RESTRICT"),
                                           index=True)
    cost_minutes: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowUpKind(StrEnum):
    responder_checkin = "responder_checkin"
    aed_check = "aed_check"


class FollowUpStatus(StrEnum):
    pending = "pending"
    answered = "answered"


class FollowUp(Base):
    """What closing an incident asks: each responder how they are (and whether they want a
    debrief talk), and the owner of each fetched AED to check it (pads used, returned)."""

    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint(sql_in("kind", FollowUpKind), name="kind"),
        CheckConstraint(sql_in("status", FollowUpStatus), name="status"),
        CheckConstraint("(volunteer_id IS NULL) <> (equipment_id IS NULL)",
                        name="volunteer_or_equipment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.pending.value,
                                        index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str | None] = mapped_column(String(128))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
