"""Claiming responders for incidents: the database decides who is busy."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, text
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.errors import Conflict
from app.models import Assignment
from app.models.base import utcnow
from app.models.incident import ACTIVE_ASSIGNMENT_SQL, AssignmentRole, AssignmentStatus

# The columns a claim writes; the others keep their defaults.
_CLAIMED = ("incident_id", "volunteer_id", "role", "status", "eta_s", "distance_m",
            "equipment_id", "aed_eta_s", "alerted_at", "created_at", "updated_at")


def new_assignment(*, incident_id: int, volunteer_id: int, role: AssignmentRole,
                   eta_s: float, distance_m: float, equipment_id: int | None = None,
                   aed_eta_s: float | None = None, alerted_at: datetime | None = None
                   ) -> Assignment:
    """An alert not yet claimed (not in any session): ``claim_all`` stores it."""
    at = alerted_at or utcnow()
    return Assignment(incident_id=incident_id, volunteer_id=volunteer_id, role=role.value,
                      status=AssignmentStatus.alerted.value, eta_s=eta_s,
                      distance_m=distance_m, equipment_id=equipment_id, aed_eta_s=aed_eta_s,
                      alerted_at=at, created_at=at, updated_at=at, responded_at=None,
                      arrived_at=None, released_at=None)


def claim_responder(session: Session, **fields: Any) -> Assignment:
    """Alert a volunteer for an incident; 409 when it is on another active incident."""
    claimed = claim_all(session, [new_assignment(**fields)])
    if not claimed:
        raise Conflict("the volunteer is already on an active incident", field="volunteer_id",
                       code="volunteer_busy")
    stored = session.get(Assignment, claimed[0].id)
    assert stored is not None
    return stored


@lru_cache(maxsize=2)
def _claim_statement(dialect: str) -> Insert:
    """Built once: run with a list of rows, SQLAlchemy sends them as one multi-row INSERT
    whose RETURNING names the rows that went in."""
    return (dialect_insert(dialect, Assignment.__table__)
            .on_conflict_do_nothing(index_elements=["volunteer_id"],
                                    index_where=text(ACTIVE_ASSIGNMENT_SQL))
            .returning(Assignment.volunteer_id, Assignment.id))


def claim_all(session: Session, assignments: list[Assignment]) -> list[Assignment]:
    """Claim several volunteers in one statement; returns the assignments claimed, with
    their ids, in the order given. A volunteer with another active assignment is left
    out: the partial unique index refuses its row whatever the concurrency, and ``ON
    CONFLICT DO NOTHING`` turns that into a missing row instead of an error, so that
    the others are still claimed without a savepoint per responder.

    The assignments stay out of the session (the identity map would cost more than the
    insert): they describe what was written, and a later read loads them afresh."""
    if not assignments:
        return []
    # Rows go in volunteer order: two transactions claiming overlapping responders then
    # wait for each other in the same order, never in a deadlock (PostgreSQL).
    rows = sorted(({column: getattr(a, column) for column in _CLAIMED} for a in assignments),
                  key=lambda row: row["volunteer_id"])
    # Core execution on the session's connection (the ORM's execute costs more than this
    # INSERT); what the session holds goes first, as the ORM's autoflush would send it.
    session.flush()
    ids = dict(session.connection().execute(_claim_statement(session.get_bind().dialect.name),
                                            rows).all())
    claimed = [a for a in assignments if a.volunteer_id in ids]
    for a in claimed:
        a.id = ids[a.volunteer_id]
    return claimed
