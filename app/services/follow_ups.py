"""After an incident: service hours for the responders, a check-in with each of them, and a
check of every AED that was fetched (it stays out of dispatch until its owner answers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Conflict, not_found
from app.models import Assignment, EquipmentPoint, FollowUp, Incident, IncidentEvent, Volunteer
from app.models.equipment import EquipmentStatus
from app.models.incident import AssignmentRole, AssignmentStatus
from app.models.service import FollowUpKind, FollowUpStatus, HoursSource
from app.schemas.service import AedCheckAnswer, CheckInAnswer, Wellbeing
from app.security import Principal, volunteer_actor
from app.services import service_hours
from app.services.scope import get_scoped, visible
from app.services.timeline import event, new_event
from app.settings import Settings

# A volunteer's own drill (``test_alert``) earns nothing: it could be repeated at will.
SELF_DRILL_KIND = "drill"
# The timeline event of a fetcher's acceptance that took an AED out of its cabinet.
AED_TAKEN = "aed_taken"


def after_close(session: Session, settings: Settings, incident: Incident,
                assignments: list[Assignment], *, now: datetime,
                timeline: list[IncidentEvent]) -> None:
    """Credit hours to everyone who took part and ask the follow-ups of a real incident;
    appends the events, not yet stored, to ``timeline``."""
    served = [a for a in assignments if a.status == AssignmentStatus.released.value
              and a.responded_at is not None]
    for a in served:
        if incident.is_test:
            if incident.kind == SELF_DRILL_KIND:
                continue
            source, minutes = HoursSource.drill, settings.drill_credit_minutes
        else:
            source = HoursSource.incident
            minutes = service_hours.minutes_served(
                a.responded_at, a.released_at or now,
                round_to=settings.service_credit_round_minutes,
                minimum=settings.incident_min_credit_minutes)
        if minutes > 0 and service_hours.credit(session, a.volunteer_id, source=source,
                                                source_id=incident.id, minutes=minutes,
                                                at=now, note=incident.kind):
            timeline.append(new_event(incident, "hours_credited", at=now,
                                      volunteer_id=a.volunteer_id, minutes=minutes,
                                      source=source.value))
    if incident.is_test:
        return
    regions = dict(session.execute(select(Volunteer.id, Volunteer.region_id).where(
        Volunteer.id.in_([a.volunteer_id for a in served]))).all()) if served else {}
    for a in served:
        session.add(FollowUp(kind=FollowUpKind.responder_checkin.value, incident_id=incident.id,
                             volunteer_id=a.volunteer_id, region_id=regions[a.volunteer_id],
                             asked_at=now))
        timeline.append(new_event(incident, "check_in_requested", at=now,
                                  volunteer_id=a.volunteer_id))
    # Every AED that left its cabinet, also when its fetcher was stood down later: until
    # its owner checks it, it stays out of dispatch. Only a fetcher's answer takes one out.
    if not any(a.role == AssignmentRole.fetch_aed.value and a.responded_at is not None
               for a in assignments):
        return
    taken = session.scalars(select(IncidentEvent.data).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == AED_TAKEN))
    for aed_id in sorted({data["aed_id"] for data in taken}):
        region_id = session.scalar(select(EquipmentPoint.region_id)
                                   .where(EquipmentPoint.id == aed_id))
        session.add(FollowUp(kind=FollowUpKind.aed_check.value, incident_id=incident.id,
                             equipment_id=aed_id, region_id=region_id, asked_at=now))
        timeline.append(new_event(incident, "aed_check_requested", at=now, aed_id=aed_id))


def take_aed(session: Session, assignment: Assignment) -> EquipmentPoint | None:
    """A fetcher accepted: the AED leaves its cabinet and no other incident is sent to it
    until its owner checks it after the incident."""
    if assignment.role != AssignmentRole.fetch_aed.value or assignment.equipment_id is None:
        return None
    aed = session.get(EquipmentPoint, assignment.equipment_id)
    if aed is None or aed.status != EquipmentStatus.available.value:
        return None
    aed.status = EquipmentStatus.in_use.value
    return aed


def my_check_ins_query(volunteer_id: int, status: FollowUpStatus | None) -> Select:
    stmt = select(FollowUp).where(FollowUp.volunteer_id == volunteer_id,
                                  FollowUp.kind == FollowUpKind.responder_checkin.value)
    if status is not None:
        stmt = stmt.where(FollowUp.status == status.value)
    return stmt.order_by(FollowUp.id.desc())


def follow_ups_query(session: Session, principal: Principal, *, region_code: str | None,
                     kind: FollowUpKind | None, status: FollowUpStatus | None) -> Select:
    stmt = select(FollowUp).where(visible(session, FollowUp.region_id, principal,
                                          within_code=region_code))
    if kind is not None:
        stmt = stmt.where(FollowUp.kind == kind.value)
    if status is not None:
        stmt = stmt.where(FollowUp.status == status.value)
    return stmt.order_by(FollowUp.id.desc())


def _pending(follow_up: FollowUp, *, field: str = "follow_up_id") -> None:
    if follow_up.status != FollowUpStatus.pending.value:
        raise Conflict("this follow-up was already answered", field=field,
                       code="already_answered")


def answer_check_in(session: Session, check_in_id: int, volunteer_id: int,
                    answer: CheckInAnswer, *, now: datetime) -> FollowUp:
    """Record a responder's check-in. When someone should reach out, the incident's
    timeline says so, without the answer: the timeline goes to consoles and webhooks, how a
    volunteer feels does not."""
    follow_up = session.get(FollowUp, check_in_id)
    if (follow_up is None or follow_up.volunteer_id != volunteer_id
            or follow_up.kind != FollowUpKind.responder_checkin.value):
        raise not_found("check-in", check_in_id, field="check_in_id")
    _pending(follow_up, field="check_in_id")
    _answered(follow_up, volunteer_actor(volunteer_id), answer, now)
    if answer.wants_debrief or answer.wellbeing in (Wellbeing.distressed, Wellbeing.injured):
        event(session, session.get(Incident, follow_up.incident_id), "support_requested",
              at=now, volunteer_id=volunteer_id, follow_up_id=follow_up.id)
    session.flush()
    return follow_up


def answer_aed_check(session: Session, follow_up_id: int, principal: Principal,
                     answer: AedCheckAnswer, *, now: datetime) -> tuple[FollowUp,
                                                                       EquipmentPoint]:
    """The owner's check puts the AED back into service, or on the maintenance list when
    its pads were used, it is missing or it fails its self-test."""
    follow_up = get_scoped(session, FollowUp, follow_up_id, principal, entity="follow-up",
                           field="follow_up_id")
    if follow_up.kind != FollowUpKind.aed_check.value:
        raise not_found("AED check", follow_up_id, field="follow_up_id")
    _pending(follow_up)
    _answered(follow_up, principal.subject, answer, now)
    aed = session.get(EquipmentPoint, follow_up.equipment_id)
    if answer.returned and answer.working and not answer.pads_used:
        aed.status = EquipmentStatus.available.value
        aed.last_verified_on = now.date()
    else:
        aed.status = EquipmentStatus.needs_service.value
    session.flush()
    return follow_up, aed


def _answered(follow_up: FollowUp, by: str, answer: CheckInAnswer | AedCheckAnswer,
              now: datetime) -> None:
    follow_up.status = FollowUpStatus.answered.value
    follow_up.answered_at = now
    follow_up.answered_by = by
    follow_up.answer = answer.model_dump(mode="json")
