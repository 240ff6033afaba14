"""A volunteer's own duty and location (the mini-program); never another volunteer's."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from app.geo.crs import Crs
from app.live.state import FixReason, FixStatus
from app.schemas.common import CrsField, InputModel, Latitude, Longitude, OutputModel, PointOut


class DutyIn(InputModel):
    on_duty: bool = Field(description="Go on duty (share location, get alerts) or off duty "
                          "(the live location is deleted at once).", examples=[True])


class LocationIn(InputModel):
    lon: Longitude
    lat: Latitude
    crs: CrsField = Crs.wgs84
    accuracy_m: float = Field(allow_inf_nan=False, description="Reported accuracy radius, "
                              "metres.", examples=[12.0])
    recorded_at: AwareDatetime = Field(description="When the device took the fix (with time "
                                       "zone); the server orders by its own receive time.",
                                       examples=["2026-11-23T14:03:05+08:00"])


class LocationBatchIn(InputModel):
    fixes: list[LocationIn] = Field(min_length=1, max_length=100, description="Fixes a "
                                    "device queued while offline, any order.")


class FixVerdictRead(OutputModel):
    status: FixStatus = Field(description="accepted, flagged (implausible: not used) or "
                              "not_kept (off duty, out of order).", examples=["accepted"])
    reasons: list[FixReason] = Field(description="Why it was flagged or not kept.",
                                     examples=[[]])
    live: bool = Field(description="This fix is now the volunteer's live location.",
                       examples=[True])


class LiveRead(OutputModel):
    on_duty: bool = Field(description="On duty.", examples=[True])
    on_duty_since: datetime | None = Field(description="Since when, UTC.",
                                           examples=["2026-11-23T06:00:00Z"])
    location: PointOut | None = Field(description="The live fix, while fresh.")
    accuracy_m: float | None = Field(description="Its accuracy, metres.", examples=[12.0])
    received_at: datetime | None = Field(description="When the server received it, UTC.",
                                         examples=["2026-11-23T06:03:05Z"])
