"""The incident timeline: every step of an incident is an event; the notifiers (streams,
webhooks, WeChat) follow it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent


def event(session: Session, incident: Incident, event_kind: str, *, at: datetime,
          volunteer_id: int | None = None, **data: Any) -> None:
    session.add(IncidentEvent(incident_id=incident.id, kind=event_kind, at=at,
                              volunteer_id=volunteer_id, data=data))
