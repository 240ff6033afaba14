"""Shared I/O pieces: coordinates with their CRS, pages, problems."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.geo.crs import Crs

ItemT = TypeVar("ItemT")

OSM_ATTRIBUTION = "© OpenStreetMap contributors"


class InputModel(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Longitude = Annotated[float, Field(
    ge=-180, le=180, allow_inf_nan=False,
    description="Longitude in degrees, in the system named by `crs`.", examples=[117.2009])]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False,
                                  description="Latitude in degrees, in the system named by `crs`.",
                                  examples=[39.1336])]
CrsField = Annotated[Crs, Field(
    description="Coordinate system: `wgs84` (GPS, OpenStreetMap), `gcj02` (WeChat, Tencent, "
                "AMap) or `bd09` (Baidu).",
    examples=["gcj02"],
)]


class Timestamps(OutputModel):
    created_at: datetime = Field(description="Creation time, UTC.",
                                 examples=["2026-11-23T08:00:00Z"])
    updated_at: datetime = Field(description="Last change, UTC.",
                                 examples=["2026-11-23T08:00:00Z"])


class PointIn(InputModel):
    """A location as the caller's device reports it; stored as WGS-84."""

    lon: Longitude
    lat: Latitude
    crs: CrsField = Crs.wgs84


class PointOut(OutputModel):
    """A location in the coordinate system the caller asked for with `?crs=`."""

    lon: float = Field(description="Longitude in degrees.", examples=[117.2009])
    lat: float = Field(description="Latitude in degrees.", examples=[39.1336])
    crs: Crs = Field(description="Coordinate system of `lon`/`lat`.", examples=["wgs84"])


class Page(OutputModel, Generic[ItemT]):
    """One page of a list, newest ordering rules stated per list."""

    items: list[ItemT] = Field(description="The objects on this page.")
    total: int = Field(description="How many objects match the filters in all.", examples=[42])
    limit: int = Field(description="Page size that was applied.", examples=[50])
    offset: int = Field(description="How many matching objects were skipped.", examples=[0])


class FieldErrorOut(BaseModel):
    field: str = Field(description="Dotted path of the offending input field.",
                       examples=["location.lat"])
    message: str = Field(description="What is wrong with it.",
                         examples=["Input should be less than or equal to 90"])


class Problem(BaseModel):
    """RFC 9457 problem details, returned with `application/problem+json` for every error."""

    type: str = Field(description="URI identifying the problem type.",
                      examples=["https://rescue-circle.example/problems/validation_error"])
    title: str = Field(description="Short summary of the problem type.", examples=["Invalid input"])
    status: int = Field(description="HTTP status code.", examples=[422])
    detail: str = Field(description="What went wrong in this occurrence.",
                        examples=["Invalid input (location.lat: Input should be ≤ 90)"])
    code: str = Field(description="Stable machine-readable problem code.",
                      examples=["validation_error"])
    errors: list[FieldErrorOut] = Field(description="The fields to fix, if any.")
    instance: str | None = Field(None, description="The request path.",
                                 examples=["/v1/volunteers"])


class BBox(BaseModel):
    """A WGS-84 bounding box `min_lon,min_lat,max_lon,max_lat`."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError("bbox must be min_lon,min_lat,max_lon,max_lat")
        values = [float(p) for p in parts]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("bbox values must be finite numbers")
        box = cls(min_lon=values[0], min_lat=values[1], max_lon=values[2], max_lat=values[3])
        lon_ok = -180 <= box.min_lon <= box.max_lon <= 180
        if not (lon_ok and -90 <= box.min_lat <= box.max_lat <= 90):
            raise ValueError("bbox must satisfy -180 ≤ min_lon ≤ max_lon ≤ 180 and "
                             "-90 ≤ min_lat ≤ max_lat ≤ 90")
        return box

    @field_validator("*")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be finite")
        return value
