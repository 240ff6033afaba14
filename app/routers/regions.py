"""Regions: the city -> district -> community hierarchy and its dispatch settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Admin, DbSession, PageDep, Reader
from app.errors import Conflict, NotFound, problem_responses
from app.models import Region
from app.models.region import RegionLevel
from app.schemas.common import Page
from app.schemas.region import RegionCreate, RegionRead, RegionSummary, RegionUpdate
from app.services import regions as service
from app.services.pagination import paginate
from app.services.scope import region_by_code_in_scope, region_by_id_in_scope

router = APIRouter(prefix="/v1/regions", tags=["regions"])


def region_read(region: Region, children: list[Region] | None = None) -> RegionRead:
    read = RegionRead.model_validate(
        {**{c: getattr(region, c) for c in RegionRead.model_fields if hasattr(region, c)},
         "has_boundary": region.boundary is not None, "children": None})
    if children is not None:
        read.children = [RegionSummary.model_validate(c) for c in children]
    return read


@router.get("", operation_id="list_regions", response_model=Page[RegionRead],
            responses=problem_responses(NotFound))
def list_regions(
    session: DbSession, principal: Reader, page: PageDep,
    level: Annotated[RegionLevel | None, Query(description="Only this level.",
                                               examples=["community"])] = None,
    parent_id: Annotated[int | None, Query(description="Only direct children of this region.",
                                           examples=[4])] = None,
    within: Annotated[str | None, Query(description="Only the subtree of this region code.",
                                        examples=["120101"])] = None,
) -> Page[RegionRead]:
    path = (region_by_code_in_scope(session, within, principal, field="within").path
            if within else None)
    stmt = service.list_regions_query(principal, level=level, parent_id=parent_id,
                                      within_code_path=path)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[region_read(r) for r in items], total=total, limit=page.limit,
                offset=page.offset)


@router.post("", operation_id="create_region", response_model=RegionRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_region(data: RegionCreate, session: DbSession, principal: Admin) -> RegionRead:
    return region_read(service.create_region(session, data, principal=principal))


@router.get("/{region_id}", operation_id="get_region", response_model=RegionRead,
            responses=problem_responses(NotFound))
def get_region(
    region_id: int, session: DbSession, principal: Reader,
    children: Annotated[bool, Query(description="Include the direct children.")] = True,
) -> RegionRead:
    region = region_by_id_in_scope(session, region_id, principal, field="region_id")
    return region_read(region, service.children(session, region) if children else None)


@router.patch("/{region_id}", operation_id="update_region", response_model=RegionRead,
              responses=problem_responses(NotFound))
def update_region(region_id: int, data: RegionUpdate, session: DbSession, principal: Admin
                  ) -> RegionRead:
    return region_read(service.update_region(session, region_id, data, principal=principal))


@router.delete("/{region_id}", operation_id="delete_region",
               status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(NotFound, Conflict))
def delete_region(region_id: int, session: DbSession, principal: Admin) -> None:
    service.delete_region(session, region_id, principal=principal)
