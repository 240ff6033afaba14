"""Group drills run by trainers, dispatchers or admins for a team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.deps import DbSession, Live, Networks, ResponseCrs, SettingsDep, allow
from app.errors import Conflict, Forbidden, NotFound, problem_responses
from app.geo.crs import Crs
from app.models.base import utcnow
from app.routers.incidents import incident_read
from app.schemas.drill import DrillCreate, DrillEnd
from app.schemas.incident import IncidentCreated, IncidentRead
from app.security import ADMIN_ROLES, Principal, Role
from app.services import drills as service
from app.services.dispatch import rank_response

router = APIRouter(prefix="/v1/drills", tags=["drills"])

Organiser = Annotated[Principal, Depends(allow(Role.volunteer, Role.dispatcher, *ADMIN_ROLES))]


@router.post("", operation_id="start_drill", response_model=IncidentCreated,
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Forbidden))
def start_drill(data: DrillCreate, session: DbSession, networks: Networks, live: Live,
                settings: SettingsDep, principal: Organiser, crs: ResponseCrs = Crs.wgs84
                ) -> IncidentCreated:
    """Run a drill for a team: a test incident at `location` that alerts the team's members
    on duty within reach, ranked by walking time like a real one. A volunteer may run one
    only as a certified trainer of the team. Drills take no AED out of service and count in
    no statistics; members who take part earn drill hours when it ends."""
    created = service.start_drill(session, networks, live, settings, principal, data,
                                  now=utcnow())
    return IncidentCreated(incident=incident_read(session, created.incident, crs),
                           ranking=rank_response(created.ranking, principal, crs),
                           possible_duplicates=created.duplicates)


@router.get("/{incident_id}", operation_id="get_drill", response_model=IncidentRead,
            responses=problem_responses(NotFound))
def get_drill(incident_id: int, session: DbSession, principal: Organiser,
              crs: ResponseCrs = Crs.wgs84) -> IncidentRead:
    """The drill with its assignments and timeline (for its organiser, or the area's
    dispatchers and admins)."""
    return incident_read(session, service.get_drill(session, principal, incident_id), crs)


@router.post("/{incident_id}/end", operation_id="end_drill", response_model=IncidentRead,
             responses=problem_responses(NotFound, Conflict))
def end_drill(incident_id: int, data: DrillEnd, session: DbSession, settings: SettingsDep,
              principal: Organiser, crs: ResponseCrs = Crs.wgs84) -> IncidentRead:
    """End the drill: everyone is released and the members who accepted earn drill hours."""
    incident = service.end_drill(session, settings, principal, incident_id,
                                 outcome=data.outcome, now=utcnow())
    return incident_read(session, incident, crs)
