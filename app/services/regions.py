"""Region hierarchy: create, change, list, with the city -> district -> community rule."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Unprocessable
from app.geo.crs import Crs, to_wgs84_array
from app.models import Region
from app.models.base import SRID_WGS84
from app.models.region import PARENT_LEVEL, RegionLevel
from app.schemas.region import BoundaryIn, RegionCreate, RegionUpdate
from app.security import Principal
from app.services.scope import region_by_code_in_scope, region_by_id_in_scope, regions_in_scope

DEFAULT_TIMEZONE = "Asia/Shanghai"


def boundary_element(boundary: BoundaryIn, *, field: str = "boundary") -> WKBElement:
    """A GeoJSON (multi)polygon in any supported CRS, stored as a WGS-84 multipolygon."""
    try:
        geometry = boundary.to_multipolygon()
    except ValueError as exc:
        raise Unprocessable(str(exc), field=field) from exc
    if boundary.crs is not Crs.wgs84:
        import shapely

        geometry = shapely.transform(
            geometry, lambda xy: to_wgs84_array(xy[:, 0], xy[:, 1], boundary.crs).T
        )
    return from_shape(geometry, srid=SRID_WGS84)


def create_city(session: Session, *, code: str, name: str, timezone: str = DEFAULT_TIMEZONE
                ) -> Region:
    """Bootstrap a city (no parent); only the CLI and the OSM import do this."""
    if session.scalar(select(Region.id).where(Region.code == code)) is not None:
        raise Conflict(f"region {code} already exists", field="code", code="duplicate")
    region = Region(code=code, name=name, level=RegionLevel.city.value, parent_id=None,
                    path="/", timezone=timezone)
    session.add(region)
    session.flush()
    region.path = f"/{region.id}/"
    session.flush()
    return region


def create_region(session: Session, data: RegionCreate, *, principal: Principal) -> Region:
    expected_parent = PARENT_LEVEL[data.level]
    if expected_parent is None:
        raise Unprocessable("cities are created with `rescue-circle create-city`",
                            field="level")
    if data.parent_code is None:
        raise Unprocessable(f"a {data.level} needs a parent {expected_parent}",
                            field="parent_code")
    parent = region_by_code_in_scope(session, data.parent_code, principal, field="parent_code")
    if parent.level != expected_parent:
        raise Unprocessable(f"the parent of a {data.level} must be a {expected_parent}, "
                            f"{parent.code} is a {parent.level}", field="parent_code")
    if session.scalar(select(Region.id).where(Region.code == data.code)) is not None:
        raise Conflict(f"region {data.code} already exists", field="code", code="duplicate")
    region = Region(
        code=data.code, name=data.name, level=data.level.value, parent_id=parent.id, path="/",
        timezone=data.timezone or parent.timezone, population=data.population,
        boundary=boundary_element(data.boundary) if data.boundary else None,
        responder_speed_mps=data.responder_speed_mps or parent.responder_speed_mps,
        public_speed_mps=data.public_speed_mps or parent.public_speed_mps,
        time_budget_s=data.time_budget_s or parent.time_budget_s,
    )
    session.add(region)
    session.flush()
    region.path = f"{parent.path}{region.id}/"
    session.flush()
    return region


def update_region(session: Session, region_id: int, data: RegionUpdate, *,
                  principal: Principal) -> Region:
    region = region_by_id_in_scope(session, region_id, principal, field="region_id")
    changes = data.model_dump(exclude_unset=True, exclude={"boundary"})
    for key, value in changes.items():
        if value is None and key != "population":
            raise Unprocessable(f"{key} cannot be null", field=key)
        setattr(region, key, value)
    if "boundary" in data.model_fields_set:
        region.boundary = boundary_element(data.boundary) if data.boundary else None
    session.flush()
    return region


def delete_region(session: Session, region_id: int, *, principal: Principal) -> None:
    region = region_by_id_in_scope(session, region_id, principal, field="region_id")
    if region.path == principal.region_path:
        raise Conflict("a principal cannot delete its own scope region", field="region_id")
    session.delete(region)
    session.flush()


def list_regions_query(principal: Principal, *, level: RegionLevel | None,
                       parent_id: int | None, within_code_path: str | None) -> Select:
    stmt = select(Region).where(Region.id.in_(regions_in_scope(principal)))
    if level is not None:
        stmt = stmt.where(Region.level == level.value)
    if parent_id is not None:
        stmt = stmt.where(Region.parent_id == parent_id)
    if within_code_path is not None:
        stmt = stmt.where(Region.path.startswith(within_code_path, autoescape=True))
    return stmt.order_by(Region.path)


def children(session: Session, region: Region) -> list[Region]:
    return list(session.scalars(select(Region).where(Region.parent_id == region.id)
                                .order_by(Region.code)))
