"""Teams: community, university and reserve teams of a region."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.models import Region, Team, Volunteer
from app.schemas.team import TeamCreate, TeamUpdate
from app.security import Principal
from app.services.scope import get_scoped, region_by_code_in_scope, visible


def _check_leader(session: Session, leader_id: int | None, team_region: Region,
                  principal: Principal) -> None:
    if leader_id is None:
        return
    leader = get_scoped(session, Volunteer, leader_id, principal, entity="volunteer",
                        field="leader_id")
    leader_region = session.get(Region, leader.region_id)
    if leader_region is None or not leader_region.path.startswith(team_region.path):
        raise Unprocessable("the leader must belong to the team's region", field="leader_id")


def create_team(session: Session, data: TeamCreate, *, principal: Principal) -> Team:
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    _check_leader(session, data.leader_id, region, principal)
    team = Team(name=data.name, kind=data.kind.value, region_id=region.id,
                leader_id=data.leader_id)
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, team_id: int, data: TeamUpdate, *, principal: Principal
                ) -> Team:
    team = get_scoped(session, Team, team_id, principal, entity="team", field="team_id")
    changes = data.model_dump(exclude_unset=True)
    if "leader_id" in changes:
        _check_leader(session, changes["leader_id"], session.get(Region, team.region_id),
                      principal)
    for key in ("name", "kind"):
        if key in changes and changes[key] is None:
            raise Unprocessable(f"{key} cannot be null", field=key)
    for key, value in changes.items():
        setattr(team, key, value.value if hasattr(value, "value") else value)
    session.flush()
    return team


def delete_team(session: Session, team_id: int, *, principal: Principal) -> None:
    session.delete(get_scoped(session, Team, team_id, principal, entity="team", field="team_id"))
    session.flush()


def list_teams_query(session: Session, principal: Principal, *, region_code: str | None,
                     kind: str | None) -> Select:
    stmt = select(Team).where(visible(session, Team.region_id, principal,
                                      within_code=region_code))
    if kind is not None:
        stmt = stmt.where(Team.kind == kind)
    return stmt.order_by(Team.id)
