"""Group drills: a trainer (or a dispatcher or admin) runs a simulated incident for a team.
The whole flow runs (ranking by walking time, alerts, acceptance, AED fetch routes) but the
incident is a test: it takes no AED out of service, counts in no statistics, and earns the
members who take part drill hours when it ends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden, Unprocessable, not_found
from app.live.state import LiveState
from app.models import Incident, Region, Team, Volunteer
from app.networks import NetworkRegistry
from app.schemas.drill import DrillCreate
from app.schemas.incident import IncidentCreate
from app.security import Principal, Role
from app.services.dispatch import rank
from app.services.incidents import (
    Closing,
    CreatedIncident,
    assignments_of,
    close,
    get_incident,
    open_incident,
)
from app.services.scope import city_of, get_scoped
from app.services.volunteers import get_self, is_qualified_trainer
from app.settings import Settings

DRILL_ADDRESS_PREFIX = "[DRILL] "


def _team_for(session: Session, principal: Principal, team_id: int, now: datetime) -> Team:
    """The team the caller may drill: an admin's or dispatcher's in scope; a trainer's own
    (member or leader), and only while the trainer holds a valid certificate."""
    if principal.role is not Role.volunteer:
        return get_scoped(session, Team, team_id, principal, entity="team", field="team_id")
    team = session.get(Team, team_id)
    if team is None:
        raise not_found("team", team_id, field="team_id")
    trainer = get_self(session, principal.volunteer_id)
    if not is_qualified_trainer(session, trainer, now):
        raise Forbidden("only a certified trainer can run a drill", field="team_id",
                        code="not_a_trainer")
    if trainer.id != team.leader_id and trainer.team_id != team.id:
        raise Forbidden("you can run drills for your own team only", field="team_id",
                        code="not_your_team")
    return team


def start_drill(session: Session, networks: NetworkRegistry, live: LiveState,
                settings: Settings, principal: Principal, data: DrillCreate, *,
                now: datetime) -> CreatedIncident:
    team = _team_for(session, principal, data.team_id, now)
    members = set(session.scalars(select(Volunteer.id).where(Volunteer.team_id == team.id)))
    members.discard(principal.volunteer_id)   # the trainer runs the drill, not in it
    if not members:
        raise Unprocessable("the team has no members to drill", field="team_id",
                            code="empty_team")
    ranked = rank(session, networks, live, settings, location=data.location, kind=data.kind,
                  budget_s=data.budget_s, limit=len(members), now=now,
                  only_volunteers=members)
    if ranked.located.region.id != city_of(session, session.get(Region, team.region_id)).id:
        raise Unprocessable("the drill must take place in the team's city", field="location",
                            code="outside_your_area")
    incident = IncidentCreate(location=data.location, kind=data.kind,
                              address=DRILL_ADDRESS_PREFIX + data.address,
                              access_notes=data.access_notes, budget_s=data.budget_s,
                              is_test=True)
    return open_incident(session, settings, incident, ranked, created_by=principal.actor,
                         alert_count=len(members), now=now)


def get_drill(session: Session, principal: Principal, incident_id: int) -> Incident:
    """A drill, for whoever organised it or a dispatcher or admin of its area."""
    if principal.role is Role.volunteer:
        incident = session.get(Incident, incident_id)
        if incident is None or incident.created_by != principal.actor:
            raise not_found("drill", incident_id, field="incident_id")
    else:
        incident = get_incident(session, incident_id, principal)
    if not incident.is_test:
        raise not_found("drill", incident_id, field="incident_id")
    return incident


def end_drill(session: Session, settings: Settings, principal: Principal, incident_id: int,
              *, outcome: str, now: datetime) -> Incident:
    drill = get_drill(session, principal, incident_id)
    return close(session, settings, Closing(drill, assignments_of(session, drill)),
                 by=principal.actor, outcome=outcome, now=now).incident
