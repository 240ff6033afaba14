"""Teams of volunteers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Admin, DbSession, PageDep, Reader
from app.errors import Conflict, NotFound, problem_responses
from app.models import Team
from app.models.volunteer import TeamKind
from app.schemas.common import Page
from app.schemas.team import TeamCreate, TeamRead, TeamUpdate
from app.services import teams as service
from app.services.pagination import paginate
from app.services.scope import get_scoped

router = APIRouter(prefix="/v1/teams", tags=["teams"])

RegionQuery = Annotated[str | None, Query(description="Only this region code and its subtree.",
                                          examples=["120101"])]


@router.get("", operation_id="list_teams", response_model=Page[TeamRead],
            responses=problem_responses(NotFound))
def list_teams(
    session: DbSession, principal: Reader, page: PageDep, region: RegionQuery = None,
    kind: Annotated[TeamKind | None, Query(description="Only this kind.")] = None,
) -> Page[TeamRead]:
    stmt = service.list_teams_query(session, principal, region_code=region,
                                    kind=kind.value if kind else None)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[TeamRead.model_validate(t) for t in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("", operation_id="create_team", response_model=TeamRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_team(data: TeamCreate, session: DbSession, principal: Admin) -> TeamRead:
    return TeamRead.model_validate(service.create_team(session, data, principal=principal))


@router.get("/{team_id}", operation_id="get_team", response_model=TeamRead,
            responses=problem_responses(NotFound))
def get_team(team_id: int, session: DbSession, principal: Reader) -> TeamRead:
    return TeamRead.model_validate(get_scoped(session, Team, team_id, principal, entity="team",
                                              field="team_id"))


@router.patch("/{team_id}", operation_id="update_team", response_model=TeamRead,
              responses=problem_responses(NotFound, Conflict))
def update_team(team_id: int, data: TeamUpdate, session: DbSession, principal: Admin
                ) -> TeamRead:
    return TeamRead.model_validate(service.update_team(session, team_id, data,
                                                       principal=principal))


@router.delete("/{team_id}", operation_id="delete_team", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(NotFound, Conflict))
def delete_team(team_id: int, session: DbSession, principal: Admin) -> None:
    service.delete_team(session, team_id, principal=principal)
