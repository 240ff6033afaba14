"""The incident timeline: every step of an incident is an event; the notifiers (streams,
webhooks, WeChat) follow it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
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


def new_event(incident: Incident, event_kind: str, *, at: datetime,
              volunteer_id: int | None = None, **data: Any) -> IncidentEvent:
    """An event not yet stored: ``store_events`` stores a batch of them."""
    return IncidentEvent(incident_id=incident.id, warning_id=None, kind=event_kind, at=at,
                         volunteer_id=volunteer_id, data=data)


def event(session: Session, incident: Incident, event_kind: str, *, at: datetime,
          volunteer_id: int | None = None, **data: Any) -> IncidentEvent:
    """Add one event to the session (stored with its next flush)."""
    added = new_event(incident, event_kind, at=at, volunteer_id=volunteer_id, **data)
    session.add(added)
    return added


_EVENT_COLUMNS = ("incident_id", "warning_id", "kind", "at", "volunteer_id", "data")


def store_events(session: Session, events: list[IncidentEvent]) -> None:
    """Store events in one statement batch, in order, after what the session holds.

    For the hot path (an incident and its first alerts): the ORM sends one INSERT per
    event to learn each id, which the timeline's readers do not need here. The events
    stay out of the session; they describe what was written."""
    session.flush()  # anything pending comes first on the timeline
    if events:
        session.execute(insert(IncidentEvent.__table__),
                        [{column: getattr(e, column) for column in _EVENT_COLUMNS}
                         for e in events])


def warning_event(session: Session, warning: RiskWarning, event_kind: str, *, at: datetime,
                  volunteer_id: int, **data: Any) -> None:
    """A risk warning pushed to one volunteer rides the same timeline as alerts."""
    session.add(IncidentEvent(warning_id=warning.id, kind=event_kind, at=at,
                              volunteer_id=volunteer_id, data=data))
