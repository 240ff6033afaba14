"""Walking routes and isochrones over the city's street network (public: first-aid
navigation needs no account)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.deps import (
    PUBLIC,
    CrsQuery,
    DbSession,
    Lat,
    Lon,
    Networks,
    SettingsDep,
    SpeedQuery,
    lonlat_text,
)
from app.errors import Unprocessable, problem_responses
from app.geo.crs import Crs
from app.schemas.common import PointIn
from app.schemas.walking import (
    IsochroneCollection,
    IsochroneFeature,
    IsochroneProperties,
    RouteRead,
    route_read,
    snapped_read,
)
from app.services import walking as service
from app.spatial import geojson_in_crs

router = APIRouter(prefix="/v1", tags=["walking"], dependencies=[Depends(PUBLIC)])

@router.get("/routes", operation_id="walking_route", response_model=RouteRead,
            responses=problem_responses())
def get_route(
    session: DbSession, networks: Networks, settings: SettingsDep,
    from_: Annotated[str, Query(alias="from", description="Start `lon,lat` in `crs`.",
                                examples=["117.2009,39.1336"])],
    to: Annotated[str, Query(description="Destination `lon,lat` in `crs`.",
                             examples=["117.2051,39.1352"])],
    crs: CrsQuery = Crs.wgs84, speed_mps: SpeedQuery = None,
) -> RouteRead:
    origin = PointIn(lon=(ends := lonlat_text(from_, "from"))[0], lat=ends[1], crs=crs)
    destination = PointIn(lon=(ends := lonlat_text(to, "to"))[0], lat=ends[1], crs=crs)
    _, _, speed, route = service.route_between(session, networks, origin, destination,
                                               speed_mps=speed_mps,
                                               max_snap_m=settings.max_snap_m)
    return route_read(route, speed, crs)


def _minutes(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise Unprocessable("minutes must be numbers separated by commas",
                            field="minutes") from exc
    if not values or len(values) > 10 or not all(0 < v <= 30 for v in values):
        raise Unprocessable("give 1 to 10 budgets, each more than 0 and at most 30 minutes",
                            field="minutes")
    return sorted(set(values))


@router.get("/isochrones", operation_id="isochrones", response_model=IsochroneCollection,
            responses=problem_responses())
def get_isochrones(
    session: DbSession, networks: Networks, settings: SettingsDep, lon: Lon, lat: Lat,
    crs: CrsQuery = Crs.wgs84,
    minutes: Annotated[str, Query(description="Budgets in minutes, comma-separated.",
                                  examples=["1,2,3,4"])] = "1,2,3,4",
    speed_mps: SpeedQuery = None,
) -> IsochroneCollection:
    budgets = _minutes(minutes)
    located, speed, _, areas = service.isochrone_areas(
        session, networks, PointIn(lon=lon, lat=lat, crs=crs), minutes=budgets,
        speed_mps=speed_mps, max_snap_m=settings.max_snap_m)
    features = [IsochroneFeature(
        geometry=geojson_in_crs(area, crs),
        properties=IsochroneProperties(minutes=m, seconds=m * 60, speed_mps=speed))
        for m, area in zip(budgets, areas, strict=True)]
    return IsochroneCollection(origin=snapped_read(located, crs), crs=crs, features=features)
