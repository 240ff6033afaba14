"""Positions of equipment and volunteer anchor points on the walking network.

A position is computed once when a location is written, and again for a whole city when
its network is re-imported; ``snap_version`` records which network version it belongs to.
A point farther than the snap limit from any walkable edge keeps no position: it is
registered, but no walking search can reach it.
"""

from __future__ import annotations

import numpy as np
from geoalchemy2 import WKBElement
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.geo.errors import TooFarFromNetwork
from app.geo.snap import SnappedPoint, snap_point, snap_points
from app.models import EquipmentPoint, Volunteer
from app.networks import CityNetwork, NetworkRegistry
from app.schemas.common import BBox
from app.spatial import wgs84_lonlat, within_bbox

_EMPTY = (None, None, None)


def _snap_one(networks: NetworkRegistry | None, geometry: WKBElement | None
              ) -> tuple[str | None, SnappedPoint | None]:
    if networks is None or geometry is None:
        return None, None
    lon, lat = wgs84_lonlat(geometry)
    city = networks.containing(lon, lat)
    if city is None:
        return None, None
    try:
        return city.version, snap_point(city.network, lon, lat)
    except TooFarFromNetwork:
        return city.version, None


def _fields(snapped: SnappedPoint | None) -> tuple[int | None, float | None, float | None]:
    if snapped is None:
        return _EMPTY
    return snapped.edge_id, snapped.offset_m, snapped.distance_m


def snap_equipment(equipment: EquipmentPoint, networks: NetworkRegistry | None) -> None:
    version, snapped = _snap_one(networks, equipment.location)
    equipment.snap_version = version
    (equipment.snap_edge_id, equipment.snap_offset_m,
     equipment.snap_distance_m) = _fields(snapped)


def snap_volunteer(volunteer: Volunteer, networks: NetworkRegistry | None) -> None:
    home_version, home = _snap_one(networks, volunteer.home_location)
    duty_version, duty = _snap_one(networks, volunteer.duty_location)
    volunteer.snap_version = home_version or duty_version
    (volunteer.home_snap_edge_id, volunteer.home_snap_offset_m,
     volunteer.home_snap_distance_m) = _fields(home)
    (volunteer.duty_snap_edge_id, volunteer.duty_snap_offset_m,
     volunteer.duty_snap_distance_m) = _fields(duty)


def _snap_many(city: CityNetwork, geometries: list[WKBElement | None]
               ) -> list[tuple[int | None, float | None, float | None]]:
    present = [i for i, g in enumerate(geometries) if g is not None]
    result: list[tuple[int | None, float | None, float | None]] = [_EMPTY] * len(geometries)
    if not present:
        return result
    lonlat = np.array([wgs84_lonlat(geometries[i]) for i in present])
    snapped = snap_points(city.network, lonlat[:, 0], lonlat[:, 1])
    for row, i in enumerate(present):
        if snapped.ok[row]:
            result[i] = (int(snapped.edge_id[row]), float(snapped.offset_m[row]),
                         float(snapped.distance_m[row]))
    return result


def resnap_city(session: Session, city: CityNetwork) -> tuple[int, int]:
    """Re-snap every equipment point and volunteer anchor inside the city's network area.

    Returns how many equipment points and volunteers were updated."""
    dialect = session.get_bind().dialect.name
    min_lon, min_lat, max_lon, max_lat = city.hull.bounds
    box = BBox(min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)

    equipment = list(session.scalars(select(EquipmentPoint).where(
        within_bbox(EquipmentPoint.location, box, dialect=dialect))))
    equipment = [e for e in equipment if city.contains(*wgs84_lonlat(e.location))]
    for item, fields in zip(equipment, _snap_many(city, [e.location for e in equipment]),
                            strict=True):
        item.snap_version = city.version
        item.snap_edge_id, item.snap_offset_m, item.snap_distance_m = fields

    volunteers = list(session.scalars(select(Volunteer).where(
        within_bbox(Volunteer.home_location, box, dialect=dialect)
        | within_bbox(Volunteer.duty_location, box, dialect=dialect))))
    homes = _snap_many(city, [v.home_location for v in volunteers])
    duties = _snap_many(city, [v.duty_location for v in volunteers])
    for volunteer, home, duty in zip(volunteers, homes, duties, strict=True):
        volunteer.snap_version = city.version
        (volunteer.home_snap_edge_id, volunteer.home_snap_offset_m,
         volunteer.home_snap_distance_m) = home
        (volunteer.duty_snap_edge_id, volunteer.duty_snap_offset_m,
         volunteer.duty_snap_distance_m) = duty
    session.flush()
    return len(equipment), len(volunteers)
