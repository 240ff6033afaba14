"""Regions: city -> district -> community, each with its dispatch settings."""

from __future__ import annotations

from enum import StrEnum

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, multipolygon_type


class RegionLevel(StrEnum):
    city = "city"
    district = "district"
    community = "community"


PARENT_LEVEL: dict[RegionLevel, RegionLevel | None] = {
    RegionLevel.city: None,
    RegionLevel.district: RegionLevel.city,
    RegionLevel.community: RegionLevel.district,
}


class Region(TimestampMixin, Base):
    __tablename__ = "region"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'district', 'community')", name="level"),
        CheckConstraint("responder_speed_mps > 0", name="responder_speed_positive"),
        CheckConstraint("public_speed_mps > 0", name="public_speed_positive"),
        CheckConstraint("time_budget_s > 0", name="time_budget_positive"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="RESTRICT"), index=True
    )
    # Materialised path of ids ("/1/4/17/"): a scope check or a subtree filter is one
    # prefix comparison, the same SQL on both dialects.
    path: Mapped[str] = mapped_column(String(512), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    boundary: Mapped[WKBElement | None] = mapped_column(multipolygon_type(), nullable=True)
    population: Mapped[int | None] = mapped_column(Integer)
    responder_speed_mps: Mapped[float] = mapped_column(Float, default=1.8)
    public_speed_mps: Mapped[float] = mapped_column(Float, default=1.4)
    time_budget_s: Mapped[int] = mapped_column(Integer, default=240)
