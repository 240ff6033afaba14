"""Region I/O."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from pydantic import Field, field_validator
from shapely.geometry import MultiPolygon, Polygon, shape

from app.geo.crs import Crs
from app.models.region import RegionLevel
from app.schemas.common import InputModel, OutputModel, Timestamps

CODE = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
             description="Stable code of the region (e.g. the administrative division code).",
             examples=["120101001"])
SPEED_RESPONDER = Field(None, gt=0, le=10, description="Walking speed of responders, m/s; "
                        "inherited from the parent when omitted.", examples=[1.8])
SPEED_PUBLIC = Field(None, gt=0, le=10, description="Walking speed of the public, m/s; "
                     "inherited from the parent when omitted.", examples=[1.4])
BUDGET = Field(None, gt=0, le=3600, description="Time budget of the rescue circle, seconds; "
               "inherited from the parent when omitted.", examples=[240])


class BoundaryIn(InputModel):
    """A GeoJSON Polygon or MultiPolygon in the coordinate system `crs`."""

    type: str = Field(pattern="^(Polygon|MultiPolygon)$", description="GeoJSON type.",
                      examples=["Polygon"])
    coordinates: list[Any] = Field(description="GeoJSON coordinates (lon, lat).",
                                   examples=[[[[117.19, 39.12], [117.21, 39.12],
                                               [117.21, 39.14], [117.19, 39.12]]]])
    crs: Crs = Field(Crs.wgs84, description="Coordinate system of the coordinates.",
                     examples=["wgs84"])

    def to_multipolygon(self) -> MultiPolygon:
        try:
            geometry = shape({"type": self.type, "coordinates": self.coordinates})
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"not a valid GeoJSON {self.type}: {exc}") from exc
        if isinstance(geometry, Polygon):
            geometry = MultiPolygon([geometry])
        if geometry.is_empty or not geometry.is_valid:
            raise ValueError("boundary must be a non-empty, valid polygon")
        return geometry


class RegionCreate(InputModel):
    code: str = CODE
    name: str = Field(min_length=1, max_length=200, description="Display name.",
                      examples=["小白楼街道"])
    level: RegionLevel = Field(description="city, district or community.",
                               examples=["community"])
    parent_code: str | None = Field(None, description="Code of the parent region; required "
                                    "for districts and communities.", examples=["120101"])
    timezone: str | None = Field(None, description="IANA time zone used for opening hours; "
                                 "inherited from the parent when omitted.",
                                 examples=["Asia/Shanghai"])
    boundary: BoundaryIn | None = Field(None, description="Administrative boundary.")
    population: int | None = Field(None, ge=0, description="Residents, for coverage weights.",
                                   examples=[35000])
    responder_speed_mps: float | None = SPEED_RESPONDER
    public_speed_mps: float | None = SPEED_PUBLIC
    time_budget_s: int | None = BUDGET

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError("unknown IANA time zone")
        return value


class RegionUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200, description="Display name.",
                             examples=["小白楼街道"])
    timezone: str | None = Field(None, description="IANA time zone.", examples=["Asia/Shanghai"])
    boundary: BoundaryIn | None = Field(None, description="Administrative boundary.")
    population: int | None = Field(None, ge=0, description="Residents.", examples=[35000])
    responder_speed_mps: float | None = SPEED_RESPONDER
    public_speed_mps: float | None = SPEED_PUBLIC
    time_budget_s: int | None = BUDGET

    _known_timezone = field_validator("timezone")(RegionCreate._known_timezone.__func__)


class RegionRead(Timestamps):
    id: int = Field(description="Region id.", examples=[17])
    code: str = Field(description="Region code.", examples=["120101001"])
    name: str = Field(description="Display name.", examples=["小白楼街道"])
    level: RegionLevel = Field(description="city, district or community.",
                               examples=["community"])
    parent_id: int | None = Field(description="Parent region id.", examples=[4])
    timezone: str = Field(description="IANA time zone.", examples=["Asia/Shanghai"])
    population: int | None = Field(description="Residents.", examples=[35000])
    has_boundary: bool = Field(description="Whether a boundary polygon is stored.",
                               examples=[True])
    responder_speed_mps: float = Field(description="Responder walking speed, m/s.",
                                       examples=[1.8])
    public_speed_mps: float = Field(description="Public walking speed, m/s.", examples=[1.4])
    time_budget_s: int = Field(description="Rescue-circle budget, seconds.", examples=[240])
    children: list[RegionSummary] | None = Field(
        None, description="Direct children (single-region reads with `?children=true`).",
        examples=[[{"id": 18, "code": "120101002", "name": "五大道街道", "level": "community"}]])


class RegionSummary(OutputModel):
    id: int = Field(description="Region id.", examples=[18])
    code: str = Field(description="Region code.", examples=["120101002"])
    name: str = Field(description="Display name.", examples=["五大道街道"])
    level: RegionLevel = Field(description="Level.", examples=["community"])


RegionRead.model_rebuild()
