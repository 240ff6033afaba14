"""The incident timeline: every step of an incident is an event; the notifiers (streams,
webhooks, WeChat) follow it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, RiskWarning


def event(session: Session, incident: Incident, event_kind: str, *, at: datetime,
          volunteer_id: int | None = None, **data: Any) -> None:
    session.add(IncidentEvent(incident_id=incident.id, kind=event_kind, at=at,
                              volunteer_id=volunteer_id, data=data))


def warning_event(session: Session, warning: RiskWarning, event_kind: str, *, at: datetime,
                  volunteer_id: int, **data: Any) -> None:
    """A risk warning pushed to one volunteer rides the same timeline as alerts."""
    session.add(IncidentEvent(warning_id=warning.id, kind=event_kind, at=at,
                              volunteer_id=volunteer_id, data=data))
