"""Walking-time queries for the HTTP API: locate, nearby equipment, routes, isochrones.

The algorithms live in app.geo; this module finds the city network for a point, turns
geo errors into problems that name the field, and joins search results with the registry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.geo.crs import to_wgs84
from app.geo.errors import NoRoute, TooFarFromNetwork
from app.geo.isochrone import isochrones
from app.geo.route import Route, walking_route
from app.geo.search import SearchResult, bounded_search, times_to_points
from app.geo.snap import SnappedPoint, snap_point, snap_points
from app.models import EquipmentPoint, Region
from app.models.base import utcnow
from app.networks import CityNetwork, NetworkRegistry
from app.schemas.common import PointIn
from app.services.readiness import Readiness, ReadinessResult, assess_equipment
from app.spatial import radius_bbox, wgs84_lonlat, within_bbox


@dataclass(frozen=True)
class CityRegion:
    """What walking queries need of the city's region record: its settings, not its
    outline (a polygon to load and parse for nothing)."""

    id: int
    path: str
    timezone: str
    responder_speed_mps: float
    public_speed_mps: float
    time_budget_s: int


@dataclass(frozen=True)
class Located:
    """A caller's point placed on the network of the city that contains it."""

    city: CityNetwork
    region: CityRegion
    snapped: SnappedPoint
    lon: float
    lat: float


_CITY_REGION = select(*(getattr(Region, f.name) for f in fields(CityRegion))).where(
    Region.code == bindparam("code"))


def locate(session: Session, networks: NetworkRegistry, point: PointIn, *, field: str,
           max_snap_m: float) -> Located:
    lon, lat = to_wgs84(point.lon, point.lat, point.crs)
    city = networks.containing(lon, lat)
    if city is None:
        raise Unprocessable("the point is outside every city this service covers",
                            field=field, code="outside_service_area")
    # Core, not ORM, execution: a few columns, on every ranking and walking query.
    row = session.connection().execute(_CITY_REGION, {"code": city.city_code}).first()
    if row is None:
        raise Unprocessable(f"city {city.city_code} has a network but no region record",
                            field=field, code="outside_service_area")
    try:
        snapped = snap_point(city.network, lon, lat, max_snap_m=max_snap_m)
    except TooFarFromNetwork as exc:
        raise Unprocessable(
            f"the point is {exc.distance_m:.0f} m from the nearest walkable street "
            f"(at most {max_snap_m:.0f} m)", field=field, code="too_far_from_network") from exc
    return Located(city, CityRegion(*row), snapped, lon, lat)


@dataclass(frozen=True)
class NearbyEquipment:
    equipment: EquipmentPoint
    eta_s: float
    distance_m: float
    readiness: ReadinessResult
    route: Route | None


# What ranking needs of each candidate; whole rows are loaded only for the results.
RANKING_COLUMNS = (EquipmentPoint.id, EquipmentPoint.status, EquipmentPoint.opening_hours,
                    EquipmentPoint.pads_expire_on, EquipmentPoint.battery_expires_on,
                    EquipmentPoint.last_verified_on, EquipmentPoint.snap_version,
                    EquipmentPoint.snap_edge_id, EquipmentPoint.snap_offset_m,
                    EquipmentPoint.snap_distance_m, EquipmentPoint.device_state,
                    EquipmentPoint.telemetry_due_by)


def equipment_positions(session: Session, city: CityNetwork, items: Sequence[Any]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge, offset and snap distance of each item on this network version (re-snapped in
    memory when an item was placed on an older version)."""
    edge = np.array([e.snap_edge_id if e.snap_edge_id is not None else -1 for e in items],
                    dtype=np.int64)
    offset = np.array([e.snap_offset_m or 0.0 for e in items], dtype=np.float64)
    off_network = np.array([e.snap_distance_m or 0.0 for e in items], dtype=np.float64)
    stale = [i for i, e in enumerate(items) if e.snap_version != city.version]
    if stale:
        locations = dict(session.execute(select(EquipmentPoint.id, EquipmentPoint.location)
                                         .where(EquipmentPoint.id.in_(
                                             [items[i].id for i in stale]))).all())
        lonlat = np.array([wgs84_lonlat(locations[items[i].id]) for i in stale])
        fresh = snap_points(city.network, lonlat[:, 0], lonlat[:, 1])
        edge[stale] = fresh.edge_id
        offset[stale] = np.nan_to_num(fresh.offset_m)
        off_network[stale] = np.nan_to_num(fresh.distance_m)
    return edge, offset, off_network


def nearby_equipment(
    session: Session, networks: NetworkRegistry, point: PointIn, *, kind: str,
    budget_s: float | None, limit: int, at: datetime | None, max_snap_m: float,
    with_routes: bool = True,
) -> tuple[Located, float, float, list[NearbyEquipment]]:
    """Equipment reachable on foot within the budget, nearest first by walking time.

    Unverified equipment is included (and says so); equipment known not to be usable is
    left out. Times include the straight legs between each point and the street."""
    located = locate(session, networks, point, field="location", max_snap_m=max_snap_m)
    speed = located.region.public_speed_mps
    budget = budget_s if budget_s is not None else float(located.region.time_budget_s)
    result = bounded_search(located.city.network, located.snapped, budget_seconds=budget,
                            speed_mps=speed)
    # The walked path (street legs included) is a polyline from the caller to the
    # equipment, so the straight line bounds it from below: a box around that circle is a
    # safe prune from the spatial index, and the only use of straight-line distance.
    reach = radius_bbox(located.lon, located.lat, speed * budget + 1.0)
    dialect = session.get_bind().dialect.name
    candidates = session.execute(select(*RANKING_COLUMNS).where(
        EquipmentPoint.kind == kind,
        within_bbox(EquipmentPoint.location, reach, dialect=dialect))).all()
    if not candidates:
        return located, speed, budget, []
    moment = at or utcnow()
    timezone = located.region.timezone
    edge, offset, off_network = equipment_positions(session, located.city, candidates)
    reachable = edge >= 0
    seconds = np.full(len(candidates), np.inf)
    if reachable.any():
        seconds[reachable] = times_to_points(result, edge[reachable].astype(np.int32),
                                             offset[reachable])
    seconds = seconds + (off_network + located.snapped.distance_m) / speed
    chosen: list[tuple[int, ReadinessResult]] = []
    for i in np.argsort(seconds, kind="stable"):
        if not np.isfinite(seconds[i]) or seconds[i] > budget or len(chosen) >= limit:
            break
        row = candidates[i]
        readiness = assess_equipment(row, timezone=timezone, at=moment)
        if readiness.state is not Readiness.not_usable:
            chosen.append((int(i), readiness))
    rows = {e.id: e for e in session.scalars(select(EquipmentPoint).where(
        EquipmentPoint.id.in_([candidates[i].id for i, _ in chosen])))}
    ranked = []
    for i, readiness in chosen:
        route = None
        if with_routes:
            target = SnappedPoint(int(edge[i]), float(offset[i]), math.nan, math.nan,
                                  float(off_network[i]))
            route = walking_route(located.city.network, located.snapped, target,
                                  speed_mps=speed)
        ranked.append(NearbyEquipment(rows[candidates[i].id], float(seconds[i]),
                                      float(seconds[i] * speed), readiness, route))
    return located, speed, budget, ranked


def route_between(session: Session, networks: NetworkRegistry, origin: PointIn,
                  destination: PointIn, *, speed_mps: float | None, max_snap_m: float
                  ) -> tuple[Located, Located, float, Route]:
    start = locate(session, networks, origin, field="from", max_snap_m=max_snap_m)
    end = locate(session, networks, destination, field="to", max_snap_m=max_snap_m)
    if end.city.city_code != start.city.city_code:
        raise Unprocessable("both ends must lie in the same city", field="to",
                            code="different_cities")
    speed = speed_mps or start.region.public_speed_mps
    try:
        route = walking_route(start.city.network, start.snapped, end.snapped, speed_mps=speed)
    except NoRoute as exc:
        raise Unprocessable("no walking route connects the two points", field="to",
                            code="no_route") from exc
    return start, end, speed, route


def isochrone_areas(session: Session, networks: NetworkRegistry, point: PointIn, *,
                    minutes: Sequence[float], speed_mps: float | None, max_snap_m: float
                    ) -> tuple[Located, float, SearchResult, list]:
    located = locate(session, networks, point, field="location", max_snap_m=max_snap_m)
    speed = speed_mps or located.region.responder_speed_mps
    budgets = sorted(float(m) * 60 for m in minutes)
    result = bounded_search(located.city.network, located.snapped,
                            budget_seconds=budgets[-1], speed_mps=speed)
    return located, speed, result, isochrones(result, budgets)
