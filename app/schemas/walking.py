"""Walking-time I/O: nearby equipment, routes, isochrones. Every response that carries
geometry derived from OpenStreetMap carries its attribution."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pydantic import Field

from app.geo.crs import Crs
from app.geo.route import Route
from app.models.equipment import Access, EquipmentKind
from app.schemas.common import OSM_ATTRIBUTION, OutputModel, PointOut
from app.services.readiness import Readiness
from app.services.walking import Located
from app.spatial import geojson_in_crs, point_out_lonlat

ATTRIBUTION = Field(OSM_ATTRIBUTION, description="Data attribution (ODbL).",
                    examples=[OSM_ATTRIBUTION])
LINESTRING_EXAMPLE = {"type": "LineString",
                      "coordinates": [[117.2001, 39.1301], [117.2012, 39.1304]]}


class RouteStepRead(OutputModel):
    name: str | None = Field(description="Street name, when the map has one.",
                             examples=["南京路"])
    length_m: float = Field(description="Length of this stretch, metres.", examples=[120.5])
    duration_s: float = Field(description="Walking time of this stretch, seconds.",
                              examples=[67.0])
    turn: str = Field(description="How the stretch starts: depart, straight, slight_left, "
                      "left, sharp_left, slight_right, right, sharp_right or uturn.",
                      examples=["left"])


class RouteRead(OutputModel):
    geometry: dict[str, Any] = Field(description="GeoJSON LineString in the requested `crs`.",
                                     examples=[LINESTRING_EXAMPLE])
    crs: Crs = Field(description="Coordinate system of the geometry.", examples=["gcj02"])
    length_m: float = Field(description="Walking distance, metres.", examples=[412.0])
    duration_s: float = Field(description="Walking time at `speed_mps`, seconds.",
                              examples=[294.3])
    speed_mps: float = Field(description="Walking speed used, m/s.", examples=[1.4])
    steps: list[RouteStepRead] = Field(description="Turn-by-turn stretches, in order.")
    attribution: str = ATTRIBUTION


class SnappedRead(OutputModel):
    """Where a point was placed on the walking network."""

    city: str = Field(description="Code of the city whose network answered.",
                      examples=["120000"])
    position: PointOut = Field(description="The point on the nearest walkable street.")
    snap_distance_m: float = Field(description="Distance from the given point to that street.",
                                   examples=[18.4])


class NearbyEquipmentRead(OutputModel):
    equipment_id: int = Field(description="Equipment id.", examples=[7])
    kind: EquipmentKind = Field(description="Kind.", examples=["aed"])
    name: str = Field(description="Name.", examples=["地铁站B口AED"])
    location: PointOut = Field(description="Where it stands.")
    eta_s: float = Field(description="Walking time from the given point, seconds.",
                         examples=[151.2])
    distance_m: float = Field(description="Walking distance, metres.", examples=[211.7])
    readiness: Readiness = Field(description="usable or unverified (not usable equipment is "
                                 "left out).", examples=["usable"])
    readiness_reasons: list[str] = Field(description="Why.",
                                         examples=[["verified, in date and open now"]])
    access: Access = Field(description="public or restricted.", examples=["public"])
    opening_hours: str = Field(description="OpenStreetMap opening_hours.", examples=["24/7"])
    indoor: bool = Field(description="Inside a building.", examples=[True])
    floor_note: str = Field(description="Floor / indoor directions.", examples=["B1层"])
    address: str = Field(description="Address.", examples=["和平区南京路"])
    route: RouteRead | None = Field(description="Walking route from the given point.")


class NearbyEquipmentList(OutputModel):
    origin: SnappedRead = Field(description="Where the given point was placed.")
    speed_mps: float = Field(description="Public walking speed used, m/s.", examples=[1.4])
    budget_s: float = Field(description="Time budget searched, seconds.", examples=[240])
    items: list[NearbyEquipmentRead] = Field(description="Reachable equipment, nearest first.")
    attribution: str = ATTRIBUTION


class IsochroneProperties(OutputModel):
    minutes: float = Field(description="Budget of this area, minutes.", examples=[4])
    seconds: float = Field(description="Budget of this area, seconds.", examples=[240])
    speed_mps: float = Field(description="Walking speed, m/s.", examples=[1.8])


class IsochroneFeature(OutputModel):
    type: str = Field("Feature", description="GeoJSON type.", examples=["Feature"])
    geometry: dict[str, Any] = Field(description="GeoJSON (Multi)Polygon in the requested crs.",
                                     examples=[{"type": "Polygon", "coordinates": [[
                                         [117.19, 39.12], [117.21, 39.12], [117.2, 39.14],
                                         [117.19, 39.12]]]}])
    properties: IsochroneProperties = Field(description="The budget.")


class IsochroneCollection(OutputModel):
    type: str = Field("FeatureCollection", description="GeoJSON type.",
                      examples=["FeatureCollection"])
    origin: SnappedRead = Field(description="Where the given point was placed.")
    crs: Crs = Field(description="Coordinate system of the geometries.", examples=["wgs84"])
    features: list[IsochroneFeature] = Field(description="One area per budget, smallest first.")
    attribution: str = ATTRIBUTION


def snapped_read(located: Located, crs: Crs) -> SnappedRead:
    return SnappedRead(city=located.city.city_code,
                       position=point_out_lonlat(located.snapped.lon, located.snapped.lat, crs),
                       snap_distance_m=round(located.snapped.distance_m, 1))


def route_read(route: Route, speed_mps: float, crs: Crs) -> RouteRead:
    line = shapely.linestrings(np.asarray(route.coordinates))
    return RouteRead(
        geometry=geojson_in_crs(line, crs), crs=crs, length_m=round(route.length_m, 1),
        duration_s=round(route.seconds, 1), speed_mps=speed_mps,
        steps=[RouteStepRead(name=s.name, length_m=round(s.length_m, 1),
                             duration_s=round(s.seconds, 1), turn=s.turn) for s in route.steps])
