"""Certificates: a volunteer is qualified for a skill only while one is valid."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Admin, DbSession, PageDep, Reader
from app.errors import Conflict, NotFound, problem_responses
from app.models.volunteer import Skill
from app.schemas.common import Page
from app.schemas.volunteer import CertificationCreate, CertificationRead, CertificationUpdate
from app.services import volunteers as service
from app.services.pagination import paginate

router = APIRouter(prefix="/v1/certifications", tags=["certifications"])


@router.get("", operation_id="list_certifications", response_model=Page[CertificationRead],
            responses=problem_responses(NotFound))
def list_certifications(
    session: DbSession, principal: Reader, page: PageDep,
    volunteer_id: Annotated[int | None, Query(description="Only this volunteer's.")] = None,
    skill: Annotated[Skill | None, Query(description="Only this skill.")] = None,
    region: Annotated[str | None, Query(description="Only volunteers of this region subtree.",
                                        examples=["120101"])] = None,
    valid: Annotated[bool | None, Query(description="Only currently valid (true) or "
                                        "not valid (false) certificates.")] = None,
    expiring_within_days: Annotated[int | None, Query(
        ge=0, le=3650, description="Only valid certificates expiring within this many days.",
        examples=[30])] = None,
) -> Page[CertificationRead]:
    stmt = service.list_certifications_query(
        session, principal, volunteer_id=volunteer_id, skill=skill.value if skill else None,
        region_code=region, valid=valid, expiring_within_days=expiring_within_days)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[service.certification_read(c) for c in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("", operation_id="create_certification", response_model=CertificationRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_certification(data: CertificationCreate, session: DbSession, principal: Admin
                         ) -> CertificationRead:
    return service.certification_read(
        service.create_certification(session, data, principal=principal))


@router.get("/{certification_id}", operation_id="get_certification",
            response_model=CertificationRead, responses=problem_responses(NotFound))
def get_certification(certification_id: int, session: DbSession, principal: Reader
                      ) -> CertificationRead:
    return service.certification_read(
        service.get_certification(session, certification_id, principal=principal))


@router.patch("/{certification_id}", operation_id="update_certification",
              response_model=CertificationRead, responses=problem_responses(NotFound))
def update_certification(certification_id: int, data: CertificationUpdate, session: DbSession,
                         principal: Admin) -> CertificationRead:
    return service.certification_read(
        service.update_certification(session, certification_id, data, principal=principal))


@router.delete("/{certification_id}", operation_id="delete_certification",
               status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(NotFound))
def delete_certification(certification_id: int, session: DbSession, principal: Admin) -> None:
    session.delete(service.get_certification(session, certification_id, principal=principal))
    session.flush()
