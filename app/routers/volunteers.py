"""Volunteers: the registry for admins, and `me` for the volunteer's own mini-program."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import (
    Admin,
    DbSession,
    Networks,
    PageDep,
    Reader,
    ResponseCrs,
    SelfVolunteer,
    SpatialDep,
)
from app.errors import Conflict, NotFound, problem_responses
from app.geo.crs import Crs
from app.models import Volunteer
from app.models.volunteer import Skill, VolunteerStatus
from app.schemas.common import Page
from app.schemas.volunteer import (
    CertificationRead,
    VolunteerCreate,
    VolunteerRead,
    VolunteerSelfUpdate,
    VolunteerUpdate,
)
from app.services import volunteers as service
from app.services.pagination import paginate
from app.services.scope import get_scoped

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])


def _one(session: DbSession, volunteer: Volunteer, crs: Crs) -> VolunteerRead:
    return service.volunteer_reads(session, [volunteer], crs)[0]


@router.get("", operation_id="list_volunteers", response_model=Page[VolunteerRead],
            responses=problem_responses(NotFound))
def list_volunteers(
    session: DbSession, principal: Reader, page: PageDep, area: SpatialDep,
    crs: ResponseCrs = Crs.wgs84,
    region: Annotated[str | None, Query(description="Only this region code and its subtree.",
                                        examples=["120101"])] = None,
    status_: Annotated[VolunteerStatus | None, Query(alias="status",
                                                     description="Only this status.")] = None,
    skill: Annotated[Skill | None, Query(description="Only volunteers with a valid "
                                         "certificate for this skill now.")] = None,
    team_id: Annotated[int | None, Query(description="Only members of this team.")] = None,
) -> Page[VolunteerRead]:
    stmt = service.list_volunteers_query(
        session, principal, region_code=region, status=status_.value if status_ else None,
        skill=skill.value if skill else None, team_id=team_id, bbox=area.bbox, near=area.near)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=service.volunteer_reads(session, items, crs), total=total,
                limit=page.limit, offset=page.offset)


@router.post("", operation_id="create_volunteer", response_model=VolunteerRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_volunteer(data: VolunteerCreate, session: DbSession, principal: Admin,
                     networks: Networks,
                     crs: ResponseCrs = Crs.wgs84) -> VolunteerRead:
    volunteer = service.create_volunteer(session, data, principal=principal, networks=networks)
    return _one(session, volunteer, crs)


@router.get("/me", operation_id="get_my_volunteer", response_model=VolunteerRead,
            responses=problem_responses(NotFound))
def get_me(session: DbSession, principal: SelfVolunteer, crs: ResponseCrs = Crs.wgs84
           ) -> VolunteerRead:
    return _one(session, service.get_self(session, principal.volunteer_id), crs)


@router.patch("/me", operation_id="update_my_volunteer", response_model=VolunteerRead,
              responses=problem_responses(NotFound))
def update_me(data: VolunteerSelfUpdate, session: DbSession, principal: SelfVolunteer,
              networks: Networks,
              crs: ResponseCrs = Crs.wgs84) -> VolunteerRead:
    volunteer = service.update_self(session, principal.volunteer_id, data, networks=networks)
    return _one(session, volunteer, crs)


@router.get("/me/certifications", operation_id="list_my_certifications",
            response_model=list[CertificationRead], responses=problem_responses(NotFound))
def list_my_certifications(session: DbSession, principal: SelfVolunteer) -> list[CertificationRead]:
    volunteer = service.get_self(session, principal.volunteer_id)
    return [service.certification_read(c) for c in service.certifications_of(session, volunteer)]


@router.get("/{volunteer_id}", operation_id="get_volunteer", response_model=VolunteerRead,
            responses=problem_responses(NotFound))
def get_volunteer(volunteer_id: int, session: DbSession, principal: Reader,
                  crs: ResponseCrs = Crs.wgs84) -> VolunteerRead:
    volunteer = get_scoped(session, Volunteer, volunteer_id, principal, entity="volunteer",
                           field="volunteer_id")
    return _one(session, volunteer, crs)


@router.patch("/{volunteer_id}", operation_id="update_volunteer", response_model=VolunteerRead,
              responses=problem_responses(NotFound, Conflict))
def update_volunteer(volunteer_id: int, data: VolunteerUpdate, session: DbSession,
                     principal: Admin, networks: Networks,
                     crs: ResponseCrs = Crs.wgs84) -> VolunteerRead:
    volunteer = service.update_volunteer(session, volunteer_id, data, principal=principal,
                                         networks=networks)
    return _one(session, volunteer, crs)


@router.delete("/{volunteer_id}", operation_id="delete_volunteer",
               status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(NotFound, Conflict))
def delete_volunteer(volunteer_id: int, session: DbSession, principal: Admin) -> None:
    service.delete_volunteer(session, volunteer_id, principal=principal)
