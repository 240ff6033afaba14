"""Incidents for dispatch consoles, and the volunteers' alerts and responses."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deps import (
    DbSession,
    DispatcherDep,
    Live,
    Networks,
    PageDep,
    ResponseCrs,
    SelfVolunteer,
    SettingsDep,
    UnitsDep,
)
from app.errors import Conflict, NotFound, ServiceUnavailable, problem_responses
from app.geo.crs import Crs
from app.models import Assignment, Incident, IncidentEvent
from app.models.base import utcnow
from app.models.incident import ACTIVE_ASSIGNMENT_STATUSES, IncidentStatus
from app.responses import json_response, no_content_as_preferred, prefers_minimal
from app.schemas.common import Page
from app.schemas.incident import (
    AcceptedRead,
    AlertRead,
    AssignmentRead,
    EventRead,
    IncidentClose,
    IncidentCreate,
    IncidentCreated,
    IncidentRead,
)
from app.security import Principal
from app.services import incidents as service
from app.services.dispatch import rank_response
from app.services.eido import incident_eido
from app.services.pagination import paginate
from app.services.scope import visible
from app.spatial import point_out

router = APIRouter(tags=["incidents"])


def incident_read(session: DbSession, incident: Incident, crs: Crs) -> IncidentRead:
    return incident_reads(session, [incident], crs)[0]


def incident_reads(session: DbSession, incidents: list[Incident], crs: Crs
                   ) -> list[IncidentRead]:
    """Incidents with their assignments and timelines, in two queries for the whole page."""
    assignments = service.assignments_by_incident(session, [i.id for i in incidents])
    timelines = service.timelines_by_incident(session, [i.id for i in incidents])
    return [incident_read_of(incident, assignments[incident.id], timelines[incident.id], crs)
            for incident in incidents]


def incident_read_of(incident: Incident, assignments: list[Assignment],
                     timeline: list[IncidentEvent], crs: Crs) -> IncidentRead:
    return IncidentRead(
        id=incident.id, kind=incident.kind, status=incident.status,
        location=point_out(incident.location, crs), address=incident.address,
        is_test=incident.is_test, under_covered=incident.under_covered,
        budget_s=incident.budget_s, outcome=incident.outcome,
        created_at=incident.created_at, closed_at=incident.closed_at,
        assignments=[AssignmentRead.model_validate(a) for a in assignments],
        timeline=[EventRead.model_validate(e) for e in timeline])


@router.post("/v1/incidents", operation_id="create_incident", response_model=IncidentCreated,
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(ServiceUnavailable))
async def create_incident(
    data: IncidentCreate, units: UnitsDep, networks: Networks, live: Live,
    settings: SettingsDep, principal: DispatcherDep, crs: ResponseCrs = Crs.wgs84,
    idempotency_key: Annotated[str | None, Header(
        max_length=200, description="Retries with the same key return the first response; "
        "the same key with another body is refused.",
        examples=["cad-2026-11-23-000123"])] = None,
) -> Response:
    """Create an incident and alert the best responders at once (ranked by walking time,
    with AED fetchers for cardiac arrests). Possible duplicates are listed, never merged."""
    body_hash = ""
    if idempotency_key is not None:
        body_hash = service.request_hash(data.model_dump(mode="json") | {"crs": crs.value})
    now = utcnow()

    def replay_or_rank(session: Session) -> Response | service.RankedIncident:
        if idempotency_key is not None:
            record = service.replay(session, principal, idempotency_key, body_hash)
            if record is not None:
                return JSONResponse(record.response, status_code=record.status_code)
        return service.rank_new_incident(session, networks, live, settings, principal, data,
                                         now=now)

    def store_and_alert(tx: Session) -> Response | service.CreatedIncident:
        reserved = None
        if idempotency_key is not None:  # a concurrent retry may have won meanwhile
            reserved, ours = service.reserve(tx, principal, idempotency_key, body_hash)
            if not ours:
                return JSONResponse(reserved.response, status_code=reserved.status_code)
        created = service.open_incident(tx, settings, data, ranked,
                                        created_by=principal.subject,
                                        alert_count=settings.dispatch_alert_count, now=now)
        if reserved is None:
            return created
        response = _created_response(created, principal, crs)
        service.remember(tx, reserved, 201, response.model_dump(mode="json"))
        return json_response(response, status_code=201)

    # Rank first, outside the write lock; then store and alert in one short write.
    ranked = await units.read(replay_or_rank)
    if isinstance(ranked, Response):
        return ranked
    stored = await units.write(store_and_alert)
    if isinstance(stored, Response):
        return stored
    # Built after the write lock is free.
    return json_response(_created_response(stored, principal, crs), status_code=201)


def _created_response(created: service.CreatedIncident, principal: Principal, crs: Crs
                      ) -> IncidentCreated:
    return IncidentCreated(
        incident=incident_read_of(created.incident, created.assignments, created.timeline,
                                  crs),
        ranking=rank_response(created.ranking, principal, crs),
        possible_duplicates=created.duplicates)


@router.get("/v1/incidents", operation_id="list_incidents", response_model=Page[IncidentRead],
            responses=problem_responses())
def list_incidents(
    session: DbSession, principal: DispatcherDep, page: PageDep, crs: ResponseCrs = Crs.wgs84,
    status_: Annotated[IncidentStatus | None, Query(alias="status",
                                                    description="Only this status.")] = None,
    kind: Annotated[str | None, Query(description="Only this kind.",
                                      examples=["cardiac_arrest"])] = None,
    is_test: Annotated[bool | None, Query(description="Only drills (true) or real "
                                          "incidents (false).")] = None,
) -> Page[IncidentRead]:
    stmt = select(Incident).where(visible(session, Incident.region_id, principal))
    if status_ is not None:
        stmt = stmt.where(Incident.status == status_.value)
    if kind is not None:
        stmt = stmt.where(Incident.kind == kind)
    if is_test is not None:
        stmt = stmt.where(Incident.is_test == is_test)
    items, total = paginate(session, stmt.order_by(Incident.id.desc()), limit=page.limit,
                            offset=page.offset)
    return Page(items=incident_reads(session, list(items), crs), total=total,
                limit=page.limit, offset=page.offset)


@router.get("/v1/incidents/{incident_id}", operation_id="get_incident",
            response_model=IncidentRead, responses=problem_responses(NotFound))
def get_incident(incident_id: int, session: DbSession, principal: DispatcherDep,
                 crs: ResponseCrs = Crs.wgs84) -> IncidentRead:
    return incident_read(session, service.get_incident(session, incident_id, principal), crs)


@router.get("/v1/incidents/{incident_id}/eido", operation_id="get_incident_eido",
            responses={**problem_responses(NotFound), 200: {
                "description": "The incident as a NENA EIDO JSON object.",
                "content": {"application/json": {"schema": {"type": "object"}}}}})
def get_incident_eido(incident_id: int, session: DbSession, principal: DispatcherDep
                      ) -> JSONResponse:
    """The incident, its location, a resource per responder and fetched AED, its
    disposition and timeline, in NENA's EIDO JSON shape for consoles that speak it."""
    incident = service.get_incident(session, incident_id, principal)
    return JSONResponse(incident_eido(incident, service.assignments_of(session, incident),
                                      service.timeline_of(session, incident), now=utcnow()))


@router.post("/v1/incidents/{incident_id}/close", operation_id="close_incident",
             response_model=IncidentRead, responses={
                 **problem_responses(NotFound, Conflict),
                 204: {"description": "Closed; no body, as asked with `Prefer: return=minimal` "
                                      "(the answer carries `Preference-Applied`)."}})
async def close_incident(incident_id: int, data: IncidentClose, units: UnitsDep,
                         principal: DispatcherDep, settings: SettingsDep,
                         crs: ResponseCrs = Crs.wgs84,
                         prefer: Annotated[str | None, Header(
                             max_length=200, description="`return=minimal` (RFC 7240): "
                             "answer 204 without the closed incident, for integrations "
                             "that do not need it.", examples=["return=minimal"])] = None,
                         ) -> Response:
    """Record the outcome. Responders still alerted are stood down; the others are released,
    credited with service hours and asked to check in (how are you, a debrief talk?); the
    owner of every fetched AED is asked to check it, and it stays out of dispatch until
    then."""
    # What to close, read without the write lock.
    closing = await units.read(
        lambda session: service.read_for_closing(session, incident_id, principal))
    closed = await units.write(
        lambda tx: service.close(tx, settings, closing, by=principal.subject,
                                 outcome=data.outcome, now=utcnow()))
    if prefers_minimal(prefer):
        return no_content_as_preferred()
    # After the write lock is free.
    timeline = await units.read(lambda session: service.timeline_of(session, closed.incident))
    return json_response(incident_read_of(closed.incident, closed.assignments, timeline, crs))


def _alert(session: Session, assignment: Assignment, crs: Crs) -> AlertRead | AcceptedRead:
    incident = session.get(Incident, assignment.incident_id)
    base = {"assignment_id": assignment.id, "incident_id": incident.id, "kind": incident.kind,
            "role": assignment.role, "status": assignment.status,
            "distance_m": round(assignment.distance_m, 1), "is_test": incident.is_test}
    if assignment.status not in ("accepted", "arrived"):
        return AlertRead(**base)
    aed = service.fetched_aed(session, assignment)
    return AcceptedRead(**base, address=incident.address, access_notes=incident.access_notes,
                        location=point_out(incident.location, crs),
                        aed_location=point_out(aed.location, crs) if aed else None,
                        aed_floor_note=aed.floor_note if aed else None,
                        cabinet_pin=aed.cabinet_pin if aed else None)


@router.get("/v1/volunteers/me/alerts", operation_id="list_my_alerts",
            response_model=list[AcceptedRead | AlertRead], responses=problem_responses())
def my_alerts(session: DbSession, principal: SelfVolunteer, crs: ResponseCrs = Crs.wgs84
              ) -> list[AlertRead | AcceptedRead]:
    """My active alerts: kind and walking distance; after acceptance also the address,
    access notes and (for fetchers) the AED and its cabinet PIN."""
    rows = session.scalars(select(Assignment).where(
        Assignment.volunteer_id == principal.volunteer_id,
        Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)).order_by(Assignment.id))
    return [_alert(session, a, crs) for a in rows]


@router.post("/v1/volunteers/me/test-alert", operation_id="trigger_my_test_alert",
             response_model=AlertRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(Conflict))
def trigger_test_alert(session: DbSession, principal: SelfVolunteer, live: Live,
                       crs: ResponseCrs = Crs.wgs84) -> AlertRead | AcceptedRead:
    """A drill: a test incident at my position with only me alerted, to practise accepting,
    arriving and being released. Counts in no statistics."""
    assignment = service.test_alert(session, live, principal.volunteer_id, now=utcnow())
    return _alert(session, assignment, crs)


class Action(StrEnum):
    accept = "accept"
    decline = "decline"
    arrive = "arrive"
    release = "release"


@router.post("/v1/assignments/{assignment_id}/{action}", operation_id="respond_to_assignment",
             response_model=AcceptedRead | AlertRead,
             responses=problem_responses(NotFound, Conflict))
async def respond(assignment_id: int,
                  action: Annotated[Action, Path(description="accept, decline, arrive or "
                                                 "release.")],
                  units: UnitsDep, principal: SelfVolunteer, networks: Networks, live: Live,
                  settings: SettingsDep, crs: ResponseCrs = Crs.wgs84
                  ) -> AlertRead | AcceptedRead:
    """Accept (idempotent), decline, mark arrival, or be released. Invalid steps are 409.
    A decline is replaced by the next best responder at once."""

    def answer(tx: Session) -> AlertRead | AcceptedRead:
        now = utcnow()
        assignment = service.transition(tx, assignment_id, principal.volunteer_id,
                                        action.value, now=now)
        if action is Action.decline:
            service.escalate(tx, networks, live, settings,
                             tx.get(Incident, assignment.incident_id), now=now)
        return _alert(tx, assignment, crs)

    return await units.write(answer)
