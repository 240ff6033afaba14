"""The incident timeline: every step of an incident is an event; the notifiers (streams,
webhooks, WeChat) follow it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, RiskWarning

# Event ids are taken before commit, and on PostgreSQL commits can land out of id order: a
# reader that follows the timeline by id takes only events this old, whose every lower id
# has committed (a transaction here commits well within it).
SETTLED = timedelta(seconds=2)


def settled_event_id(session: Session, now: datetime) -> int:
    """The highest event id a notifier that follows the timeline by id may go up to."""
    return session.scalar(select(func.max(IncidentEvent.id)).where(
        IncidentEvent.at <= now - SETTLED)) or 0


def event(session: Session, incident: Incident, event_kind: str, *, at: datetime,
          volunteer_id: int | None = None, **data: Any) -> IncidentEvent:
    added = IncidentEvent(incident_id=incident.id, kind=event_kind, at=at,
                          volunteer_id=volunteer_id, data=data)
    session.add(added)
    return added


def warning_event(session: Session, warning: RiskWarning, event_kind: str, *, at: datetime,
                  volunteer_id: int, **data: Any) -> None:
    """A risk warning pushed to one volunteer rides the same timeline as alerts."""
    session.add(IncidentEvent(warning_id=warning.id, kind=event_kind, at=at,
                              volunteer_id=volunteer_id, data=data))
