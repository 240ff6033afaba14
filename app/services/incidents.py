"""Incidents: creation (idempotent) with the first alerts, the assignment life cycle, closing.

Escalation (replacing declines and silent responders, widening the budget) and the push
channels build on these functions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Select, bindparam, case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Conflict, Unprocessable, not_found
from app.geo.errors import TooFarFromNetwork
from app.geo.search import bounded_search, times_to_points
from app.geo.snap import snap_point
from app.live.state import LiveState
from app.models import (
    Assignment,
    EquipmentPoint,
    IdempotencyRecord,
    Incident,
    IncidentEvent,
    Region,
)
from app.models.base import UTCDateTime
from app.models.incident import (
    ACTIVE_ASSIGNMENT_STATUSES,
    AssignmentRole,
    AssignmentStatus,
    IncidentStatus,
)
from app.networks import NetworkRegistry
from app.schemas.common import PointIn
from app.schemas.incident import IncidentCreate
from app.security import Principal, volunteer_actor
from app.services.assignments import claim_all, claim_responder, new_assignment
from app.services.dispatch import RankedIncident, rank
from app.services.follow_ups import AED_TAKEN, SELF_DRILL_KIND, after_close, take_aed
from app.services.scope import city_of, get_scoped
from app.services.timeline import event, new_event, store_events
from app.services.volunteers import get_self
from app.settings import Settings
from app.spatial import in_radius, lonlat_element, radius_params, wgs84_lonlat

DUPLICATE_RADIUS_M = 100.0
DUPLICATE_WINDOW = timedelta(seconds=120)

# Which transitions a volunteer may make; anything else is a 409.
TRANSITIONS: dict[str, dict[str, str]] = {
    "accept": {"alerted": "accepted", "accepted": "accepted"},  # accept is idempotent
    "decline": {"alerted": "declined"},
    "arrive": {"accepted": "arrived", "arrived": "arrived"},
    "release": {"accepted": "released", "arrived": "released"},
}


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def replay(session: Session, principal: Principal, key: str, body_hash: str
           ) -> IdempotencyRecord | None:
    """The stored first response for this key, or None; the same key with another body
    is refused (the client is confused about what it sent)."""
    record = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.principal == principal.subject, IdempotencyRecord.key == key))
    if record is not None and record.request_hash != body_hash:
        raise Unprocessable("this Idempotency-Key was used with a different request body",
                            field="Idempotency-Key", code="idempotency_key_reused")
    return record


def reserve(session: Session, principal: Principal, key: str, body_hash: str
            ) -> tuple[IdempotencyRecord, bool]:
    """Inside the write transaction: take the key before doing the work; returns the record
    and whether it is ours to fill. A concurrent request with the same key waits on the
    unique index until this one commits, then gets the stored response."""
    record = IdempotencyRecord(principal=principal.subject, key=key, request_hash=body_hash,
                               status_code=0, response={})
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return replay(session, principal, key, body_hash), False
    return record, True


def remember(session: Session, record: IdempotencyRecord, status_code: int,
             response: dict[str, Any]) -> None:
    record.status_code = status_code
    record.response = response
    session.flush()


@dataclass(frozen=True)
class CreatedIncident:
    incident: Incident
    ranking: RankedIncident
    duplicates: list[int]
    # What this transaction wrote, so that the response needs no second read of it.
    assignments: list[Assignment]  # nearest first, as assignments_of orders them
    timeline: list[IncidentEvent]  # in order


def create_incident(session: Session, networks: NetworkRegistry, live: LiveState,
                    settings: Settings, principal: Principal, data: IncidentCreate, *,
                    now: datetime) -> CreatedIncident:
    ranked = rank_new_incident(session, networks, live, settings, principal, data, now=now)
    return open_incident(session, settings, data, ranked, created_by=principal.subject,
                         alert_count=settings.dispatch_alert_count, now=now)


def rank_new_incident(session: Session, networks: NetworkRegistry, live: LiveState,
                      settings: Settings, principal: Principal, data: IncidentCreate, *,
                      now: datetime) -> RankedIncident:
    """The ranking for a new incident in the caller's area. It only reads, so it can run
    before the write transaction that stores the incident and claims the responders (the
    database refuses a responder claimed in between)."""
    ranked = rank(session, networks, live, settings, location=data.location, kind=data.kind,
                  budget_s=data.budget_s, limit=settings.dispatch_alert_count, now=now)
    city = ranked.located.region
    if principal.region_path is None or not (
            city.path.startswith(principal.region_path)
            or principal.region_path.startswith(city.path)):
        raise Unprocessable("the location lies outside your area", field="location",
                            code="outside_your_area")
    return ranked


@lru_cache(maxsize=2)
def _possible_duplicates(dialect: str) -> Select:
    """Open incidents of a kind near a point since a moment (built once, run per incident)."""
    return select(Incident.id).where(
        Incident.kind == bindparam("kind"), Incident.status == IncidentStatus.open.value,
        Incident.is_test == bindparam("is_test"),
        Incident.created_at >= bindparam("since", type_=UTCDateTime()),
        in_radius(Incident.location, dialect=dialect))


_INCIDENT_COLUMNS = ("kind", "status", "location", "address", "access_notes", "region_id",
                     "created_by", "is_test", "budget_s", "under_covered", "outcome",
                     "closed_at", "created_at", "updated_at")
_INSERT_INCIDENT = insert(Incident.__table__).returning(Incident.__table__.c.id)
_MARK_UNDER_COVERED = update(Incident.__table__).where(
    Incident.__table__.c.id == bindparam("incident_id")).values(under_covered=True)


def open_incident(session: Session, settings: Settings, data: IncidentCreate,
                  ranked: RankedIncident, *, created_by: str, alert_count: int, now: datetime
                  ) -> CreatedIncident:
    """Store the incident, list possible duplicates and alert the best ranked responders."""
    duplicates = list(session.connection().execute(
        _possible_duplicates(session.get_bind().dialect.name),
        {"kind": data.kind, "is_test": data.is_test, "since": now - DUPLICATE_WINDOW,
         **radius_params(ranked.located.lon, ranked.located.lat, DUPLICATE_RADIUS_M)}).scalars())
    # Known before the claims, so stored with the row (no UPDATE after it, as a rule).
    no_aed = data.kind in settings.aed_fetch_kinds and ranked.plan.first_aed_seconds is None
    incident = Incident(kind=data.kind, status=IncidentStatus.open.value,
                        location=lonlat_element(ranked.located.lon, ranked.located.lat),
                        address=data.address, access_notes=data.access_notes,
                        region_id=ranked.located.region.id, created_by=created_by,
                        is_test=data.is_test, budget_s=ranked.budget_s, outcome=None,
                        closed_at=None, created_at=now, updated_at=now,
                        under_covered=no_aed or not ranked.plan.responders)
    # One Core INSERT; the object stays out of the session, like the assignments and the
    # events: it describes what was written (the ORM's unit of work cost more than the
    # INSERT), and a later read loads it afresh.
    incident.id = session.connection().execute(
        _INSERT_INCIDENT, {column: getattr(incident, column) for column in _INCIDENT_COLUMNS}
    ).scalar_one()
    timeline = [new_event(incident, "created", at=now, incident_kind=data.kind,
                          by=created_by, possible_duplicates=duplicates)]
    alerted = _claim_ranked(session, incident, ranked, skip=set(), count=alert_count, now=now,
                            event_kind="alerted", timeline=timeline)
    if not alerted and not incident.under_covered:  # all ranked were claimed meanwhile
        session.connection().execute(_MARK_UNDER_COVERED, {"incident_id": incident.id})
        incident.under_covered = True
    if incident.under_covered:
        timeline.append(new_event(incident, "under_covered", at=now, alerted=len(alerted),
                                  aed_in_reach=ranked.plan.first_aed_seconds is not None))
    store_events(session, timeline)
    return CreatedIncident(incident, ranked, duplicates,
                           sorted(alerted, key=lambda a: (a.eta_s, a.id)), timeline)


def _claim_ranked(session: Session, incident: Incident, ranked: RankedIncident, *,
                  skip: set[int], count: int, now: datetime, event_kind: str,
                  timeline: list[IncidentEvent]) -> list[Assignment]:
    """Alert up to ``count`` ranked responders not in ``skip``, best first. One claimed by
    another incident since the ranking is skipped (the timeline says so) and the next
    best taken instead. Returns the assignments; appends the events, not yet stored, to
    ``timeline`` in ranking order."""
    candidates = [(row, volunteer.id) for row, volunteer
                  in zip(ranked.plan.responders, ranked.volunteers, strict=True)
                  if volunteer.id not in skip]
    alerted: list[Assignment] = []
    taken = 0
    while len(alerted) < count and taken < len(candidates):
        batch = candidates[taken:taken + count - len(alerted)]
        taken += len(batch)
        offered = [new_assignment(
            incident_id=incident.id, volunteer_id=volunteer_id, role=AssignmentRole(row.role),
            eta_s=row.eta_seconds, distance_m=row.distance_m,
            equipment_id=ranked.aeds[row.aed] if row.aed is not None else None,
            aed_eta_s=row.to_aed_seconds, alerted_at=now) for row, volunteer_id in batch]
        claimed = {a.volunteer_id for a in claim_all(session, offered)}
        for (row, volunteer_id), assignment in zip(batch, offered, strict=True):
            if volunteer_id not in claimed:
                timeline.append(new_event(incident, "skipped_busy", at=now,
                                          volunteer_id=volunteer_id))
                continue
            alerted.append(assignment)
            timeline.append(new_event(incident, event_kind, at=now, volunteer_id=volunteer_id,
                                      role=row.role, eta_s=round(row.eta_seconds, 1),
                                      aed_id=assignment.equipment_id))
    return alerted


def escalate(session: Session, networks: NetworkRegistry, live: LiveState, settings: Settings,
             incident: Incident, *, now: datetime) -> None:
    """Time out silent alerts, replace them and the declines with the next best responders,
    and when nobody is left within the budget widen it step by step (under-covered)."""
    if incident.status != IncidentStatus.open.value:
        return
    assignments = assignments_of(session, incident)
    timeout = timedelta(seconds=settings.alert_timeout_s)
    timeline: list[IncidentEvent] = []
    for a in assignments:
        if a.status == AssignmentStatus.alerted.value and now - a.alerted_at >= timeout:
            a.status = AssignmentStatus.timed_out.value
            a.responded_at = now
            timeline.append(new_event(incident, "timed_out", at=now,
                                      volunteer_id=a.volunteer_id))
    active = sum(a.status in ACTIVE_ASSIGNMENT_STATUSES for a in assignments)
    missing = settings.dispatch_alert_count - active
    if missing > 0:
        _replace(session, networks, live, settings, incident, assignments, missing=missing,
                 now=now, timeline=timeline)
    store_events(session, timeline)


def _replace(session: Session, networks: NetworkRegistry, live: LiveState, settings: Settings,
             incident: Incident, assignments: list[Assignment], *, missing: int,
             now: datetime, timeline: list[IncidentEvent]) -> None:
    """Alert ``missing`` responders not tried before, widening the budget step by step
    when nobody new is within it."""
    tried = {a.volunteer_id for a in assignments}
    lon, lat = wgs84_lonlat(incident.location)
    budgets = [incident.budget_s, *(b for b in settings.escalation_budgets_s
                                    if b > incident.budget_s)]
    for budget in budgets:
        ranked = rank(session, networks, live, settings, location=PointIn(lon=lon, lat=lat),
                      kind=incident.kind, budget_s=budget,
                      limit=settings.dispatch_alert_count + len(tried), now=now)
        has_new = any(v.id not in tried for v in ranked.volunteers)
        if not has_new and budget != budgets[-1]:
            continue
        if budget != incident.budget_s:
            timeline.append(new_event(incident, "widened", at=now, from_s=incident.budget_s,
                                      to_s=budget))
            incident.budget_s = budget
            if not incident.under_covered:
                incident.under_covered = True
                timeline.append(new_event(incident, "under_covered", at=now,
                                          reason="too few accepted"))
        _claim_ranked(session, incident, ranked, skip=tried, count=missing, now=now,
                      event_kind="replacement_alerted", timeline=timeline)
        return


def test_alert(session: Session, live: LiveState, volunteer_id: int, *, now: datetime
               ) -> Assignment:
    """A drill for one volunteer: a test incident at their live position (or home anchor)
    with only them alerted, so the whole flow can be practised; drills are marked
    ``is_test`` and count in no statistics."""
    volunteer = get_self(session, volunteer_id)
    fix = live.get(volunteer_id, now=now).fix
    if fix is not None:
        lon, lat = fix.lon, fix.lat
    elif volunteer.home_location is not None:
        lon, lat = wgs84_lonlat(volunteer.home_location)
    else:
        raise Unprocessable("report a location or set a home anchor first",
                            field="location", code="no_position")
    city = city_of(session, session.get(Region, volunteer.region_id))
    incident = Incident(kind=SELF_DRILL_KIND, location=lonlat_element(lon, lat), region_id=city.id,
                        created_by=volunteer_actor(volunteer_id), is_test=True, budget_s=240,
                        address="[TEST] 演练", created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    event(session, incident, "created", at=now, incident_kind=SELF_DRILL_KIND, test=True)
    assignment = claim_responder(session, incident_id=incident.id, volunteer_id=volunteer_id,
                                 role=AssignmentRole.direct, eta_s=60.0, distance_m=100.0,
                                 alerted_at=now)
    event(session, incident, "alerted", at=now, volunteer_id=volunteer_id, test=True)
    session.flush()
    return assignment


def stand_down(session: Session, volunteer_id: int, *, reason: str, now: datetime
               ) -> list[Incident]:
    """Cancel the volunteer's active assignments (e.g. gone off duty) with a message on the
    timeline; returns the incidents that now need a replacement."""
    incidents = []
    for assignment in session.scalars(select(Assignment).where(
            Assignment.volunteer_id == volunteer_id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES))):
        assignment.status = AssignmentStatus.cancelled.value
        assignment.released_at = now
        incident = session.get(Incident, assignment.incident_id)
        event(session, incident, "stood_down", at=now, volunteer_id=volunteer_id,
              reason=reason)
        incidents.append(incident)
    session.flush()
    return incidents


# A responder further than this many times the incident's budget is out of reach.
OUT_OF_REACH_FACTOR = 1.5


def out_of_reach(session: Session, networks: NetworkRegistry, volunteer_id: int, *,
                 lon: float, lat: float, now: datetime, max_snap_m: float) -> list[Incident]:
    """Stand the volunteer down from incidents it can no longer reach on foot in time
    (walking time from its new position beyond 1.5 x the budget)."""
    active = list(session.scalars(select(Assignment).where(
        Assignment.volunteer_id == volunteer_id,
        Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES))))
    far: list[Incident] = []
    for assignment in active:
        incident = session.get(Incident, assignment.incident_id)
        ilon, ilat = wgs84_lonlat(incident.location)
        city = networks.containing(ilon, ilat)
        if city is None or assignment.status == AssignmentStatus.arrived.value:
            continue
        region = session.get(Region, incident.region_id)
        speed = region.responder_speed_mps
        horizon = incident.budget_s * OUT_OF_REACH_FACTOR
        try:
            here = snap_point(city.network, lon, lat, max_snap_m=max_snap_m)
            there = snap_point(city.network, ilon, ilat, max_snap_m=max_snap_m)
        except TooFarFromNetwork:
            continue  # a wild fix is the plausibility check's business, not a stand-down
        seconds = times_to_points(bounded_search(city.network, there, budget_seconds=horizon,
                                                 speed_mps=speed),
                                  np.array([here.edge_id], np.int32),
                                  np.array([here.offset_m]))[0]
        if not np.isfinite(seconds):
            far.append(incident)
    for incident in far:
        for assignment in active:
            if assignment.incident_id == incident.id:
                assignment.status = AssignmentStatus.cancelled.value
                assignment.released_at = now
        event(session, incident, "stood_down", at=now, volunteer_id=volunteer_id,
              reason="out_of_reach")
    session.flush()
    return far


def open_incidents_needing_attention(session: Session, settings: Settings, *, now: datetime
                                     ) -> list[int]:
    """Open incidents with an alert past its timeout (for the periodic sweep)."""
    cutoff = now - timedelta(seconds=settings.alert_timeout_s)
    return list(session.scalars(select(Incident.id).join(
        Assignment, Assignment.incident_id == Incident.id).where(
        Incident.status == IncidentStatus.open.value,
        Assignment.status == AssignmentStatus.alerted.value,
        Assignment.alerted_at <= cutoff).distinct()))


def get_incident(session: Session, incident_id: int, principal: Principal) -> Incident:
    return get_scoped(session, Incident, incident_id, principal, entity="incident",
                      field="incident_id")


def assignments_of(session: Session, incident: Incident) -> list[Assignment]:
    return assignments_by_incident(session, [incident.id])[incident.id]


def timeline_of(session: Session, incident: Incident) -> list[IncidentEvent]:
    return timelines_by_incident(session, [incident.id])[incident.id]


def assignments_by_incident(session: Session, incident_ids: list[int]
                            ) -> dict[int, list[Assignment]]:
    """Each incident's assignments, nearest first."""
    found: dict[int, list[Assignment]] = {i: [] for i in incident_ids}
    for a in session.scalars(select(Assignment).where(Assignment.incident_id.in_(incident_ids))
                             .order_by(Assignment.eta_s, Assignment.id)):
        found[a.incident_id].append(a)
    return found


def timelines_by_incident(session: Session, incident_ids: list[int]
                          ) -> dict[int, list[IncidentEvent]]:
    """Each incident's timeline, in order."""
    found: dict[int, list[IncidentEvent]] = {i: [] for i in incident_ids}
    for e in session.scalars(select(IncidentEvent)
                             .where(IncidentEvent.incident_id.in_(incident_ids))
                             .order_by(IncidentEvent.at, IncidentEvent.id)):
        found[e.incident_id].append(e)
    return found


def own_assignment(session: Session, assignment_id: int, volunteer_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.volunteer_id != volunteer_id:
        raise not_found("assignment", assignment_id, field="assignment_id")
    return assignment


def transition(session: Session, assignment_id: int, volunteer_id: int, action: str, *,
               now: datetime) -> Assignment:
    assignment = own_assignment(session, assignment_id, volunteer_id)
    target = TRANSITIONS[action].get(assignment.status)
    if target is None:
        raise Conflict(f"cannot {action} an assignment that is {assignment.status}",
                       field="status", code="invalid_transition")
    if target == assignment.status:
        return assignment  # a retried accept or arrive changes nothing
    assignment.status = target
    stamp = {"accepted": "responded_at", "declined": "responded_at", "arrived": "arrived_at",
             "released": "released_at"}[target]
    setattr(assignment, stamp, now)
    incident = session.get(Incident, assignment.incident_id)
    event(session, incident, target, at=now, volunteer_id=volunteer_id)
    if target == AssignmentStatus.accepted.value and not incident.is_test:
        taken = take_aed(session, assignment)
        if taken is not None:
            event(session, incident, AED_TAKEN, at=now, volunteer_id=volunteer_id,
                  aed_id=taken.id)
    session.flush()
    return assignment


@dataclass(frozen=True)
class Closing:
    """An incident to close, read before the write transaction that closes it (a close
    holds SQLite's write lock only for its writes): in the caller's area, open when read,
    and its assignments as they were then. ``close`` reconciles what changed meanwhile."""

    incident: Incident
    assignments: list[Assignment]


def read_for_closing(session: Session, incident_id: int, principal: Principal) -> Closing:
    incident = get_incident(session, incident_id, principal)
    _must_be_open(incident)
    return Closing(incident, assignments_of(session, incident))


def _must_be_open(incident: Incident) -> None:
    if incident.status != IncidentStatus.open.value:
        raise Conflict(f"the incident is already {incident.status}", field="status",
                       code="invalid_transition")


@dataclass(frozen=True)
class ClosedIncident:
    incident: Incident
    # As they were written, nearest first (as assignments_of orders them). The timeline is
    # read after the write lock is free, where a close no longer holds the lock for it.
    assignments: list[Assignment]


_ASSIGNMENTS = Assignment.__table__.c
_CLOSED_AT = bindparam("now", type_=UTCDateTime())
_INCIDENTS = Incident.__table__.c
_CLOSE_OPEN_INCIDENT = (
    update(Incident.__table__)
    .where(_INCIDENTS.id == bindparam("closing"),
           _INCIDENTS.status == IncidentStatus.open.value)
    .values(status=IncidentStatus.closed.value, outcome=bindparam("outcome"),
            closed_at=_CLOSED_AT, updated_at=_CLOSED_AT)
    # what the escalation sweep may have changed since the incident was read
    .returning(_INCIDENTS.budget_s, _INCIDENTS.under_covered))
# What an active assignment's responder may change until it ends.
_CHANGING_ASSIGNMENT_COLUMNS = ("status", "responded_at", "arrived_at", "released_at",
                                "updated_at")
# Responders still alerted are stood down, the others released: one statement for all of an
# incident's active assignments (per-row UPDATEs are as many round trips into SQLite, each
# a wait for the interpreter lock while the writer holds the database's write lock). It
# returns what it did, so the timeline tells exactly that.
_END_ACTIVE_ASSIGNMENTS = (
    update(Assignment.__table__)
    .where(_ASSIGNMENTS.incident_id == bindparam("closing"),
           _ASSIGNMENTS.status.in_(ACTIVE_ASSIGNMENT_STATUSES))
    .values(status=case((_ASSIGNMENTS.status == AssignmentStatus.alerted.value,
                         AssignmentStatus.cancelled.value),
                        else_=AssignmentStatus.released.value),
            released_at=_CLOSED_AT, updated_at=_CLOSED_AT)
    .returning(_ASSIGNMENTS.id, *(_ASSIGNMENTS[c] for c in _CHANGING_ASSIGNMENT_COLUMNS)))


def close(session: Session, settings: Settings, closing: Closing, *, by: str, outcome: str,
          now: datetime) -> ClosedIncident:
    """Record the outcome; responders still alerted are stood down, the others released,
    credited with service hours and asked how they are; fetched AEDs are to be checked.

    ``closing`` may have been read in another transaction: the statements here change only
    what is still active or open, say what they changed, and the assignments are read
    again in the rare case that one changed in between."""
    incident = closing.incident
    _must_be_open(incident)
    session.flush()  # what the session holds first, as the ORM's autoflush would
    ended = {row.id: row for row in session.connection().execute(
        _END_ACTIVE_ASSIGNMENTS, {"closing": incident.id, "now": now})}
    assignments = closing.assignments
    known = {a.id for a in assignments}
    if not ended.keys() <= known or any(
            a.status in ACTIVE_ASSIGNMENT_STATUSES and a.id not in ended for a in assignments):
        # A responder answered, or the sweep alerted another, since they were read.
        assignments = assignments_of(session, incident)  # read after the UPDATE: as ended
    else:
        for assignment in assignments:
            row = ended.get(assignment.id)
            for column in _CHANGING_ASSIGNMENT_COLUMNS if row is not None else ():
                set_committed_value(assignment, column, getattr(row, column))  # as written
    timeline = [new_event(incident, ended[a.id].status, at=now, volunteer_id=a.volunteer_id,
                          reason="incident closed") for a in assignments if a.id in ended]
    # One Core UPDATE (the ORM's unit of work cost more than the statement); only an open
    # incident is closed, so two closings racing cannot both go through.
    closed = session.connection().execute(_CLOSE_OPEN_INCIDENT, {
        "closing": incident.id, "outcome": outcome, "now": now}).first()
    if closed is None:
        raise Conflict("the incident was closed meanwhile", field="status",
                       code="invalid_transition")
    for key, value in (("status", IncidentStatus.closed.value), ("outcome", outcome),
                       ("closed_at", now), ("updated_at", now), ("budget_s", closed.budget_s),
                       ("under_covered", closed.under_covered)):
        set_committed_value(incident, key, value)  # as written, not to write again
    timeline.append(new_event(incident, "closed", at=now, outcome=outcome, by=by))
    after_close(session, settings, incident, assignments, now=now, timeline=timeline)
    store_events(session, timeline)
    return ClosedIncident(incident, assignments)


def fetched_aed(session: Session, assignment: Assignment) -> EquipmentPoint | None:
    if assignment.equipment_id is None:
        return None
    return session.get(EquipmentPoint, assignment.equipment_id)
