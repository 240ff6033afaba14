"""Equipment registry: AEDs, first-aid kits, reserve centres and equipment points."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.deps import (
    PUBLIC,
    Admin,
    CrsQuery,
    DbSession,
    Lat,
    Lon,
    Networks,
    PageDep,
    Reader,
    ResponseCrs,
    SettingsDep,
    SpatialDep,
)
from app.errors import Conflict, NotFound, problem_responses
from app.geo.crs import Crs
from app.models import EquipmentPoint
from app.models.base import utcnow
from app.models.equipment import EquipmentKind, EquipmentStatus
from app.schemas.common import Page, PointIn
from app.schemas.equipment import EquipmentCreate, EquipmentRead, EquipmentUpdate
from app.schemas.walking import (
    NearbyEquipmentList,
    NearbyEquipmentRead,
    route_read,
    snapped_read,
)
from app.services import equipment as service
from app.services import walking
from app.services.pagination import paginate
from app.services.scope import get_scoped
from app.spatial import point_out

router = APIRouter(prefix="/v1/equipment", tags=["equipment"])


@router.get("", operation_id="list_equipment", response_model=Page[EquipmentRead],
            responses=problem_responses(NotFound))
def list_equipment(
    session: DbSession, principal: Reader, page: PageDep, area: SpatialDep,
    settings: SettingsDep, crs: ResponseCrs = Crs.wgs84,
    region: Annotated[str | None, Query(description="Only this region code and its subtree.",
                                        examples=["120101"])] = None,
    kind: Annotated[EquipmentKind | None, Query(description="Only this kind.",
                                                examples=["aed"])] = None,
    status_: Annotated[EquipmentStatus | None, Query(alias="status",
                                                     description="Only this status.")] = None,
    expiring_within_days: Annotated[int | None, Query(
        ge=0, le=3650, description="Only equipment whose pads or battery expire within this "
        "many days (or already have): the owners' reminder list.", examples=[61])] = None,
) -> Page[EquipmentRead]:
    expiring_before = (utcnow().date() + timedelta(days=expiring_within_days)
                       if expiring_within_days is not None else None)
    stmt = service.list_equipment_query(
        session, principal, region_code=region, kind=kind.value if kind else None,
        status=status_.value if status_ else None, bbox=area.bbox, near=area.near,
        expiring_before=expiring_before)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=service.equipment_reads(session, items, crs,
                                              reminder_days=settings.expiry_reminder_days),
                total=total, limit=page.limit, offset=page.offset)


@router.get("/nearby", operation_id="nearby_equipment", response_model=NearbyEquipmentList,
            responses=problem_responses(), dependencies=[Depends(PUBLIC)])
def nearby_equipment(
    session: DbSession, networks: Networks, settings: SettingsDep, lon: Lon, lat: Lat,
    crs: CrsQuery = Crs.wgs84,
    minutes: Annotated[float | None, Query(gt=0, le=30, description="Walking-time budget in "
                                           "minutes (default: the city's budget).",
                                           examples=[4])] = None,
    kind: Annotated[EquipmentKind, Query(description="Kind of equipment.",
                                         examples=["aed"])] = EquipmentKind.aed,
    limit: Annotated[int, Query(ge=1, le=20, description="How many to return, nearest "
                                "first (each with its route).", examples=[5])] = 5,
) -> NearbyEquipmentList:
    """For the public: the nearest usable AEDs by walking time at the public walking
    speed, each with a walking route. Unverified equipment is included and flagged."""
    located, speed, budget, found = walking.nearby_equipment(
        session, networks, PointIn(lon=lon, lat=lat, crs=crs), kind=kind.value,
        budget_s=minutes * 60 if minutes else None, limit=limit, at=None,
        max_snap_m=settings.max_snap_m)
    items = [NearbyEquipmentRead(
        equipment_id=f.equipment.id, kind=f.equipment.kind, name=f.equipment.name,
        location=point_out(f.equipment.location, crs), eta_s=round(f.eta_s, 1),
        distance_m=round(f.distance_m, 1), readiness=f.readiness.state,
        readiness_reasons=f.readiness.reasons, access=f.equipment.access,
        opening_hours=f.equipment.opening_hours, indoor=f.equipment.indoor,
        floor_note=f.equipment.floor_note, address=f.equipment.address,
        route=route_read(f.route, speed, crs) if f.route else None) for f in found]
    return NearbyEquipmentList(origin=snapped_read(located, crs), speed_mps=speed,
                               budget_s=budget, items=items)


@router.post("", operation_id="create_equipment", response_model=EquipmentRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_equipment(data: EquipmentCreate, session: DbSession, principal: Admin,
                     networks: Networks,
                     settings: SettingsDep, crs: ResponseCrs = Crs.wgs84) -> EquipmentRead:
    equipment = service.create_equipment(session, data, principal=principal,
                                         networks=networks)
    return service.equipment_reads(session, [equipment], crs,
                                   reminder_days=settings.expiry_reminder_days)[0]


@router.get("/{equipment_id}", operation_id="get_equipment", response_model=EquipmentRead,
            responses=problem_responses(NotFound))
def get_equipment(equipment_id: int, session: DbSession, principal: Reader,
                  settings: SettingsDep, crs: ResponseCrs = Crs.wgs84) -> EquipmentRead:
    equipment = get_scoped(session, EquipmentPoint, equipment_id, principal,
                           entity="equipment", field="equipment_id")
    return service.equipment_reads(session, [equipment], crs,
                                   reminder_days=settings.expiry_reminder_days)[0]


@router.patch("/{equipment_id}", operation_id="update_equipment", response_model=EquipmentRead,
              responses=problem_responses(NotFound, Conflict))
def update_equipment(equipment_id: int, data: EquipmentUpdate, session: DbSession,
                     principal: Admin, networks: Networks, settings: SettingsDep,
                     crs: ResponseCrs = Crs.wgs84
                     ) -> EquipmentRead:
    equipment = service.update_equipment(session, equipment_id, data, principal=principal,
                                         networks=networks)
    return service.equipment_reads(session, [equipment], crs,
                                   reminder_days=settings.expiry_reminder_days)[0]


@router.delete("/{equipment_id}", operation_id="delete_equipment",
               status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(NotFound))
def delete_equipment(equipment_id: int, session: DbSession, principal: Admin) -> None:
    service.delete_equipment(session, equipment_id, principal=principal)
