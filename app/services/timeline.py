"""The incident timeline: every step of an incident is an event; the notifiers (streams,
webhooks, WeChat) follow it."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, func, select, text
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
    """An event not yet stored: ``store_events`` stores a batch of them (``event`` one)."""
    return IncidentEvent(incident_id=incident.id, warning_id=None, kind=event_kind, at=at,
                         volunteer_id=volunteer_id, data=data)


def event(session: Session, incident: Incident, event_kind: str, *, at: datetime,
          volunteer_id: int | None = None, **data: Any) -> None:
    """Store one event now, after what the session holds."""
    store_events(session, [new_event(incident, event_kind, at=at, volunteer_id=volunteer_id,
                                     **data)])


_EVENT_COLUMNS = ("incident_id", "warning_id", "kind", "at", "volunteer_id", "data")


def store_events(session: Session, events: list[IncidentEvent]) -> None:
    """Store events in one multi-row INSERT, in order, after what the session holds: the
    one way events are written. (The ORM would send one INSERT per event to learn each
    id, which nobody needs here; a DB-API batch steps SQLite once per row, and each step
    waits for the interpreter lock again while the writer holds the write lock.) The
    events stay out of the session; they describe what was written."""
    session.flush()  # anything pending comes first on the timeline
    if events:
        session.connection().execute(_insert_events(len(events)),
                                     {f"{column}_{i}": getattr(e, column)
                                      for i, e in enumerate(events)
                                      for column in _EVENT_COLUMNS})


@lru_cache(maxsize=64)
def _insert_events(count: int) -> TextClause:
    """The INSERT of ``count`` events, built once per count. As text: SQLAlchemy compiles
    an ``insert().values([...])`` of several rows again at every use (it has no cache key),
    a text statement once."""
    table = IncidentEvent.__table__
    rows = ", ".join("(" + ", ".join(f":{column}_{i}" for column in _EVENT_COLUMNS) + ")"
                     for i in range(count))
    return text(f"INSERT INTO {table.name} ({', '.join(_EVENT_COLUMNS)}) VALUES {rows}"
                ).bindparams(*(bindparam(f"{column}_{i}", type_=table.c[column].type)
                               for i in range(count) for column in _EVENT_COLUMNS))


def warning_event(session: Session, warning: RiskWarning, event_kind: str, *, at: datetime,
                  volunteer_id: int, **data: Any) -> None:
    """A risk warning pushed to one volunteer rides the same timeline as alerts."""
    store_events(session, [IncidentEvent(incident_id=None, warning_id=warning.id,
                                         kind=event_kind, at=at, volunteer_id=volunteer_id,
                                         data=data)])
