"""AEDs, first-aid kits, reserve centres and equipment points."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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

from app.models.base import Base, TimestampMixin, UTCDateTime, point_type
from app.models.volunteer import sql_in


class EquipmentKind(StrEnum):
    aed = "aed"
    first_aid_kit = "first_aid_kit"
    reserve_centre = "reserve_centre"
    equipment_point = "equipment_point"


class EquipmentStatus(StrEnum):
    available = "available"
    needs_service = "needs_service"
    out_of_service = "out_of_service"
    in_use = "in_use"


class Access(StrEnum):
    public = "public"
    restricted = "restricted"


class EquipmentSource(StrEnum):
    manual = "manual"
    bulk_import = "bulk_import"
    osm = "osm"


class EquipmentPoint(TimestampMixin, Base):
    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint(sql_in("kind", EquipmentKind), name="kind"),
        CheckConstraint(sql_in("status", EquipmentStatus), name="status"),
        CheckConstraint(sql_in("access", Access), name="access"),
        CheckConstraint(sql_in("source", EquipmentSource), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[WKBElement] = mapped_column(point_type(), nullable=False)
    address: Mapped[str] = mapped_column(String(500), default="")
    floor_note: Mapped[str] = mapped_column(String(200), default="")
    indoor: Mapped[bool] = mapped_column(Boolean, default=False)
    access: Mapped[str] = mapped_column(String(16), default=Access.public.value)
    opening_hours: Mapped[str] = mapped_column(String(500), default="24/7")
    # Shared only with a responder who accepted to fetch this AED; never in a Read schema.
    cabinet_pin: Mapped[str | None] = mapped_column(String(32))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    owner_phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default=EquipmentStatus.available.value,
                                        index=True)
    pads_expire_on: Mapped[date | None] = mapped_column(Date)
    battery_expires_on: Mapped[date | None] = mapped_column(Date)
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    device_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    source: Mapped[str] = mapped_column(String(16), default=EquipmentSource.manual.value)
    osm_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Position on the walking network, computed when the location is written and again
    # when the city's network is re-imported (``snap_version`` names the network).
    snap_version: Mapped[str | None] = mapped_column(String(64))
    snap_edge_id: Mapped[int | None] = mapped_column(Integer)
    snap_offset_m: Mapped[float | None] = mapped_column(Float)
    snap_distance_m: Mapped[float | None] = mapped_column(Float)
    # Smart cabinets and kits: the HMAC key the device signs telemetry with (never in a Read
    # schema), the last known device state (merged over messages, with the faults derived
    # from it) and the moment after which silence makes the equipment not ready.
    device_key: Mapped[str | None] = mapped_column(String(128))
    device_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                         server_default=text("'{}'"))
    last_telemetry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telemetry_due_by: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Telemetry(Base):
    """One signed message from a device. Kept for replay refusal (message ids are unique
    per device) and the per-device rate limit; holds no personal data."""

    __tablename__ = "telemetry"
    __table_args__ = (UniqueConstraint("equipment_id", "message_id"),
                      Index("ix_telemetry_equipment_received", "equipment_id", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class InventoryLine(TimestampMixin, Base):
    """Consumables kept at a district reserve centre (pads, bandages, batteries...)."""

    __tablename__ = "inventory_line"
    __table_args__ = (UniqueConstraint("equipment_id", "item", "batch"),
                      CheckConstraint("quantity >= 0", name="quantity_not_negative"),
                      CheckConstraint("min_quantity >= 0", name="min_quantity_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"),
                                              index=True)
    item: Mapped[str] = mapped_column(String(100))
    batch: Mapped[str] = mapped_column(String(64), default="")
    unit: Mapped[str] = mapped_column(String(20), default="piece")
    quantity: Mapped[int] = mapped_column(Integer)
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)
    expires_on: Mapped[date | None] = mapped_column(Date)
