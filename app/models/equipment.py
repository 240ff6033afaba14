"""AEDs, first-aid kits, reserve centres and equipment points."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from geoalchemy2 import WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, point_type
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
