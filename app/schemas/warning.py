"""Risk warning I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from app.models.warning import Severity
from app.schemas.common import InputModel, OutputModel, PointIn, Timestamps
from app.schemas.region import BoundaryIn


class WarningCreate(InputModel):
    kind: str = Field(min_length=1, max_length=32, description="Kind (see the service's "
                      "`warning_kinds`), e.g. heat, rainstorm, fire_risk.", examples=["heat"])
    severity: Severity = Field(description="blue, yellow, orange or red.",
                               examples=["orange"])
    message: str = Field(min_length=1, max_length=1000, description="What to do, in plain "
                         "words.", examples=["高温橙色预警: 减少午后户外活动, 关注独居老人"])
    region_code: str = Field(description="Region it is published for (in the caller's "
                             "area).", examples=["120101"])
    area: BoundaryIn | None = Field(None, description="Part of the region it concerns; "
                                    "default: the region's boundary.")
    valid_from: AwareDatetime | None = Field(None, description="When it starts (default now); "
                                        "it is pushed then.",
                                        examples=["2026-11-23T06:00:00Z"])
    valid_until: AwareDatetime = Field(description="When it ends (at most 30 days after the "
                                  "start).", examples=["2026-11-24T06:00:00Z"])


class WarningRead(Timestamps):
    id: int = Field(description="Warning id.", examples=[4])
    kind: str = Field(description="Kind.", examples=["heat"])
    severity: Severity = Field(description="blue, yellow, orange or red.", examples=["orange"])
    message: str = Field(description="What to do.", examples=["高温橙色预警: 减少午后户外活动"])
    region_id: int = Field(description="Region it is published for.", examples=[2])
    valid_from: datetime = Field(description="Start, UTC.", examples=["2026-11-23T06:00:00Z"])
    valid_until: datetime = Field(description="End, UTC.", examples=["2026-11-24T06:00:00Z"])
    pushed_at: datetime | None = Field(description="When it was pushed to the volunteers "
                                       "in the area.", examples=["2026-11-23T06:00:01Z"])
    pushed_to: int = Field(description="How many volunteers it was pushed to.",
                           examples=[37])
    cancelled_at: datetime | None = Field(description="When it was withdrawn.",
                                          examples=[None])


class ActiveWarning(OutputModel):
    id: int = Field(description="Warning id.", examples=[4])
    kind: str = Field(description="Kind.", examples=["heat"])
    severity: Severity = Field(description="blue, yellow, orange or red.", examples=["orange"])
    message: str = Field(description="What to do.", examples=["高温橙色预警: 减少午后户外活动"])
    valid_from: datetime = Field(description="Start, UTC.", examples=["2026-11-23T06:00:00Z"])
    valid_until: datetime = Field(description="End, UTC.", examples=["2026-11-24T06:00:00Z"])


class SubscriptionIn(InputModel):
    active: bool = Field(True, description="Receive warnings for the place even off duty.",
                         examples=[True])
    location: PointIn | None = Field(None, description="The place (default: my home "
                                     "anchor).")


class SubscriptionRead(OutputModel):
    volunteer_id: int = Field(description="Volunteer.", examples=[12])
    active: bool = Field(description="Receiving warnings off duty.", examples=[True])
    uses_home: bool = Field(description="The place is the home anchor.", examples=[True])
