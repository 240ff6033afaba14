"""Group drills run by trainers, dispatchers or admins for a team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.deps import DbSession, Live, Networks, SettingsDep, allow
from app.errors import Conflict, Forbidden, NotFound, problem_responses
from app.models import Incident
from app.models.base import utcnow
from app.schemas.drill import DrillCreate, DrillEnd, DrillParticipant, DrillRead
from app.security import ADMIN_ROLES, Principal, Role
from app.services import drills as service
from app.services import incidents

router = APIRouter(prefix="/v1/drills", tags=["drills"])

Organiser = Annotated[Principal, Depends(allow(Role.volunteer, Role.dispatcher, *ADMIN_ROLES))]


def drill_read(session: DbSession, incident: Incident) -> DrillRead:
    credited = {e.volunteer_id: e.data.get("minutes")
                for e in incidents.timeline_of(session, incident) if e.kind == "hours_credited"}
    return DrillRead(
        id=incident.id, kind=incident.kind, status=incident.status, address=incident.address,
        outcome=incident.outcome, created_at=incident.created_at, closed_at=incident.closed_at,
        participants=[DrillParticipant(volunteer_id=a.volunteer_id, role=a.role, status=a.status,
                                       credited_minutes=credited.get(a.volunteer_id))
                      for a in incidents.assignments_of(session, incident)])


@router.post("", operation_id="start_drill", response_model=DrillRead,
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Forbidden))
def start_drill(data: DrillCreate, session: DbSession, networks: Networks, live: Live,
                settings: SettingsDep, principal: Organiser) -> DrillRead:
    """Run a drill for a team: a test incident at `location` that alerts the team's members
    on duty within reach, ranked by walking time like a real one. A volunteer may run one
    only as a certified trainer of the team. Drills take no AED out of service and count in
    no statistics; members who take part earn drill hours when it ends."""
    created = service.start_drill(session, networks, live, settings, principal, data,
                                  now=utcnow())
    return drill_read(session, created.incident)


@router.get("/{incident_id}", operation_id="get_drill", response_model=DrillRead,
            responses=problem_responses(NotFound))
def get_drill(incident_id: int, session: DbSession, principal: Organiser) -> DrillRead:
    """The drill and how each member responded (for its organiser, or the area's
    dispatchers and admins)."""
    return drill_read(session, service.get_drill(session, principal, incident_id))


@router.post("/{incident_id}/end", operation_id="end_drill", response_model=DrillRead,
             responses=problem_responses(NotFound, Conflict))
def end_drill(incident_id: int, data: DrillEnd, session: DbSession, settings: SettingsDep,
              principal: Organiser) -> DrillRead:
    """End the drill: everyone is released and the members who accepted earn drill hours."""
    return drill_read(session, service.end_drill(session, settings, principal, incident_id,
                                                 outcome=data.outcome, now=utcnow()))
