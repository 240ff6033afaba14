"""Bridge between ORM geometry columns and API points, and spatial filters for both dialects.

Spatial SQL is kept to index-backed prefilters plus one exact test; walking time is never
computed in SQL (that is app.geo's job).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import shapely
import shapely.geometry
from geoalchemy2 import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, Float, String, and_, bindparam, func, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.orm import InstrumentedAttribute

from app.geo.crs import Crs, from_wgs84, from_wgs84_array, to_wgs84
from app.models.base import SRID_WGS84
from app.schemas.common import BBox, PointIn, PointOut

EARTH_RADIUS_M = 6_371_008.8


def point_element(point: PointIn) -> WKTElement:
    """The caller's point, converted once to WGS-84, as a value for a geometry column."""
    return lonlat_element(*to_wgs84(point.lon, point.lat, point.crs))


def lonlat_element(lon: float, lat: float) -> WKTElement:
    """A WGS-84 point as a value for a geometry column (full float precision)."""
    return WKTElement(_wkt_point(lon, lat), srid=SRID_WGS84)


def wgs84_lonlat(geometry: WKBElement) -> tuple[float, float]:
    shape = to_shape(geometry)
    assert isinstance(shape, Point)  # columns are typed POINT; a violation is our bug
    return shape.x, shape.y


def point_out(geometry: WKBElement | None, crs: Crs) -> PointOut | None:
    if geometry is None:
        return None
    return point_out_lonlat(*wgs84_lonlat(geometry), crs)


def radius_bbox(lon: float, lat: float, radius_m: float) -> BBox:
    """A box that surely contains the circle (used only as an index prefilter)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return BBox(min_lon=max(lon - dlon, -180), min_lat=max(lat - dlat, -90),
                max_lon=min(lon + dlon, 180), max_lat=min(lat + dlat, 90))


# The bound parameters of ``in_box`` and ``in_radius``: statements built once take them.
BOX_KEYS = ("min_lon", "min_lat", "max_lon", "max_lat")


def within_bbox(column: InstrumentedAttribute, box: BBox, *, dialect: str) -> ColumnElement[bool]:
    """Rows whose point lies in ``box``, answered from the spatial index on both dialects."""
    return _in_box(column, (box.min_lon, box.min_lat, box.max_lon, box.max_lat),
                   dialect=dialect)


def in_box(column: InstrumentedAttribute, *, dialect: str) -> ColumnElement[bool]:
    """``within_bbox`` with the box as bound parameters (``box_params``), for statements
    built once and run many times (building one costs more than running it)."""
    return _in_box(column, [bindparam(key, type_=Float) for key in BOX_KEYS], dialect=dialect)


def box_params(box: BBox) -> dict[str, float]:
    return {key: getattr(box, key) for key in BOX_KEYS}


def _in_box(column: InstrumentedAttribute, bounds: Sequence[Any], *, dialect: str
            ) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = bounds
    if dialect == "sqlite":
        # SpatiaLite's R*Tree virtual table, which it does not consult by itself
        index = table(f"idx_{column.class_.__tablename__}_{column.key}", sql_column("pkid"),
                      sql_column("xmin"), sql_column("xmax"), sql_column("ymin"),
                      sql_column("ymax"))
        candidates = select(index.c.pkid).where(
            index.c.xmin <= max_lon, index.c.xmax >= min_lon, index.c.ymin <= max_lat,
            index.c.ymax >= min_lat)
        pk = column.class_.__mapper__.primary_key[0]
        return and_(pk.in_(candidates),
                    func.MbrWithin(column, func.BuildMbr(min_lon, min_lat, max_lon, max_lat,
                                                         SRID_WGS84)))
    envelope = func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, SRID_WGS84)
    return func.ST_Intersects(column, envelope)


def within_radius(column: InstrumentedAttribute, lon: float, lat: float, radius_m: float, *,
                  dialect: str) -> ColumnElement[bool]:
    """Rows within ``radius_m`` great-circle metres: an index prefilter, then the exact test."""
    box = radius_bbox(lon, lat, radius_m)
    return _in_radius(column, (box.min_lon, box.min_lat, box.max_lon, box.max_lat),
                      _wkt_point(lon, lat), radius_m, dialect=dialect)


def in_radius(column: InstrumentedAttribute, *, dialect: str) -> ColumnElement[bool]:
    """``within_radius`` with the circle as bound parameters (``radius_params``)."""
    return _in_radius(column, [bindparam(key, type_=Float) for key in BOX_KEYS],
                      bindparam("centre", type_=String), bindparam("radius_m", type_=Float),
                      dialect=dialect)


def radius_params(lon: float, lat: float, radius_m: float) -> dict[str, Any]:
    return {**box_params(radius_bbox(lon, lat, radius_m)), "centre": _wkt_point(lon, lat),
            "radius_m": radius_m}


def _wkt_point(lon: float, lat: float) -> str:
    return f"POINT({float(lon)!r} {float(lat)!r})"


def _in_radius(column: InstrumentedAttribute, bounds: Sequence[Any], centre_wkt: Any,
               radius_m: Any, *, dialect: str) -> ColumnElement[bool]:
    centre = func.ST_GeomFromText(centre_wkt, SRID_WGS84)
    if dialect == "sqlite":
        distance = func.ST_Distance(column, centre, 1)  # 1: on the ellipsoid, in metres
    else:
        distance = func.ST_DistanceSphere(column, centre)
    return and_(_in_box(column, bounds, dialect=dialect), distance <= radius_m)


def covers_point(geometry: ColumnElement[Any], lon: float, lat: float) -> ColumnElement[bool]:
    """The (multi)polygon covers the WGS-84 point (its border counts as inside); the same
    SQL on SpatiaLite and PostGIS."""
    return func.ST_Covers(geometry, func.ST_GeomFromText(_wkt_point(lon, lat), SRID_WGS84))


def geojson_in_crs(geometry: shapely.Geometry, crs: Crs) -> dict[str, Any]:
    """A WGS-84 shapely geometry as a GeoJSON mapping in the caller's coordinate system."""
    if crs is not Crs.wgs84:
        geometry = shapely.transform(
            geometry, lambda xy: from_wgs84_array(xy[:, 0], xy[:, 1], crs).T)
    return shapely.geometry.mapping(geometry)


def point_out_lonlat(lon: float, lat: float, crs: Crs) -> PointOut:
    lon, lat = from_wgs84(lon, lat, crs)
    return PointOut(lon=round(lon, 7), lat=round(lat, 7), crs=crs)
