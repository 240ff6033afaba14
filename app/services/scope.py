"""Area scope: a console principal sees and changes only what lies in its region subtree;
a volunteer only itself. Out-of-scope objects answer 404, exactly like missing ones."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session

from app.errors import NotFound, not_found
from app.models import Region
from app.security import Principal, Role

ModelT = TypeVar("ModelT")


def regions_in_scope(principal: Principal) -> Select[tuple[int]]:
    """Ids of the regions the principal may see (its region and everything below)."""
    if principal.region_path is None:
        return select(Region.id).where(Region.id.is_(None))
    return select(Region.id).where(Region.path.startswith(principal.region_path,
                                                          autoescape=True))


def region_filter(region_id_column: Any, principal: Principal) -> ColumnElement[bool]:
    return region_id_column.in_(regions_in_scope(principal))


def region_path_in_scope(path: str, principal: Principal) -> bool:
    return principal.region_path is not None and path.startswith(principal.region_path)


def get_scoped(session: Session, model: type[ModelT], object_id: int, principal: Principal,
               *, entity: str, field: str = "id") -> ModelT:
    """Load an object owned by a region (``model.region_id``), or 404 if unknown or out of
    scope. Volunteers never reach this: their routes address ``me``."""
    if principal.role is Role.volunteer:
        raise not_found(entity, object_id, field=field)
    found = session.execute(_with_region_path(model), {"id": object_id}).first()
    if found is None or not region_path_in_scope(found.path, principal):
        raise not_found(entity, object_id, field=field)
    return found[0]


@lru_cache(maxsize=64)
def _with_region_path(model: type[Any]) -> Select:
    """An object by id with the path of the region that owns it, in one query."""
    return select(model, Region.path).join(Region, Region.id == model.region_id).where(
        model.id == bindparam("id"))


def city_of(session: Session, region: Region) -> Region:
    """The city a region belongs to (the first id of its materialised path)."""
    city = session.get(Region, int(region.path.strip("/").split("/")[0]))
    assert city is not None  # the path names existing ancestors (FK-guarded)
    return city


def region_by_code_in_scope(session: Session, code: str, principal: Principal, *,
                            field: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None or not region_path_in_scope(region.path, principal):
        raise NotFound(f"region {code} does not exist", field=field)
    return region


def region_by_id_in_scope(session: Session, region_id: int, principal: Principal, *,
                          field: str) -> Region:
    region = session.get(Region, region_id)
    if region is None or not region_path_in_scope(region.path, principal):
        raise NotFound(f"region {region_id} does not exist", field=field)
    return region


def visible(session: Session, region_id_column: Any, principal: Principal, *,
            within_code: str | None = None, field: str = "region") -> ColumnElement[bool]:
    """Rows owned by a region in the principal's scope and, when ``within_code`` is given,
    inside that region's subtree (the region itself must be in scope, else 404)."""
    if within_code is None:
        return region_filter(region_id_column, principal)
    path = region_by_code_in_scope(session, within_code, principal, field=field).path
    return region_id_column.in_(
        select(Region.id).where(Region.path.startswith(path, autoescape=True)))
