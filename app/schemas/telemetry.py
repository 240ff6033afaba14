"""Device telemetry and device credentials I/O."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.geo.crs import Crs
from app.schemas.common import CrsField, InputModel, Latitude, Longitude, OutputModel


class TelemetryIn(InputModel):
    """What a smart cabinet or kit reports; every field is optional (a door event carries
    only ``door_open``) and the last known value of each is kept."""

    recorded_at: datetime | None = Field(None, description="Device clock at measurement "
                                         "(informative; the signed timestamp counts).",
                                         examples=["2026-11-23T08:00:00Z"])
    battery_pct: int | None = Field(None, ge=0, le=100, description="Battery charge, %.",
                                    examples=[87])
    pads_expire_on: date | None = Field(None, description="Expiry of the pads in the device.",
                                        examples=["2027-06-30"])
    door_open: bool | None = Field(None, description="Cabinet door or kit lid open.",
                                   examples=[False])
    temperature_c: float | None = Field(None, ge=-60, le=100, allow_inf_nan=False,
                                        description="Temperature inside the cabinet, °C.",
                                        examples=[21.5])
    self_test: Literal["passed", "failed"] | None = Field(
        None, description="Result of the device's last self-test.", examples=["passed"])
    lon: Longitude | None = None
    lat: Latitude | None = None
    crs: CrsField = Crs.wgs84


class TelemetryAccepted(OutputModel):
    equipment_id: int = Field(description="Equipment the device belongs to.", examples=[7])
    message_id: str = Field(description="The message id, now spent.", examples=["m-000123"])
    received_at: datetime = Field(description="Server receive time, UTC.",
                                  examples=["2026-11-23T08:00:01Z"])
    faults: list[str] = Field(description="Device faults derived from its last known state; "
                              "any fault takes the equipment out of dispatch and coverage.",
                              examples=[["door open: without an incident"]])
    telemetry_due_by: datetime = Field(description="Silence after this moment makes the "
                                       "equipment not ready.",
                                       examples=["2026-11-25T08:00:01Z"])


class DeviceCredentials(OutputModel):
    equipment_id: int = Field(description="Equipment the device belongs to.", examples=[7])
    device_key: str = Field(description="Secret HMAC key the device signs with; shown only "
                            "now. Issuing new credentials revokes the old key.",
                            examples=["q9Vt3...base64url..."])
    token: str = Field(description="Bearer token with role `device` for this equipment.",
                       examples=["eyJhbGciOi..."])
    token_expires_at: datetime = Field(description="When the token expires, UTC.",
                                       examples=["2027-11-23T08:00:00Z"])
