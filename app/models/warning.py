"""Risk warnings (Tianjin's mini-program): published for an area, pushed to the volunteers
inside it through the same timeline as alerts, and readable by anyone at a place."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, UTCDateTime, multipolygon_type, point_type
from app.models.volunteer import sql_in


class Severity(StrEnum):
    """China's four warning colours, least to most severe."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"


class RiskWarning(TimestampMixin, Base):
    __tablename__ = "risk_warning"
    __table_args__ = (CheckConstraint(sql_in("severity", Severity), name="severity"),
                      CheckConstraint("valid_until > valid_from", name="valid_after_from"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"),
                                           index=True)
    # The area within the region; None: the region's own boundary.
    area: Mapped[WKBElement | None] = mapped_column(multipolygon_type(), nullable=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    # Set when pushed (at valid_from); a warning is pushed once.
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WarningSubscription(TimestampMixin, Base):
    """A volunteer who wants warnings for a place (home by default) even off duty."""

    __tablename__ = "warning_subscription"

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              primary_key=True)
    location: Mapped[WKBElement | None] = mapped_column(point_type(), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
