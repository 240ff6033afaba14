"""Claiming responders for incidents: the database decides who is busy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Assignment
from app.models.base import utcnow
from app.models.incident import AssignmentRole


def new_assignment(*, incident_id: int, volunteer_id: int, role: AssignmentRole,
                   eta_s: float, distance_m: float, equipment_id: int | None = None,
                   aed_eta_s: float | None = None, alerted_at: datetime | None = None
                   ) -> Assignment:
    return Assignment(incident_id=incident_id, volunteer_id=volunteer_id, role=role.value,
                      eta_s=eta_s, distance_m=distance_m, equipment_id=equipment_id,
                      aed_eta_s=aed_eta_s, alerted_at=alerted_at or utcnow())


def claim_responder(session: Session, **fields: Any) -> Assignment:
    """Alert a volunteer for an incident. A volunteer with another active assignment makes
    the partial unique index refuse the row, whatever the concurrency: 409."""
    assignment = new_assignment(**fields)
    if not claim_all(session, [assignment]):
        raise Conflict("the volunteer is already on an active incident", field="volunteer_id",
                       code="volunteer_busy")
    return assignment


def claim_all(session: Session, assignments: list[Assignment]) -> bool:
    """Claim several volunteers in one statement batch; False (nothing claimed) if any of
    them is on another active incident. The usual case, everyone free, costs one savepoint
    instead of one per responder."""
    try:
        with session.begin_nested():
            session.add_all(assignments)
    except IntegrityError:
        return False
    return True
