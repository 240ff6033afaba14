"""Signed webhooks for console integrations.

Deliveries read the incident timeline from a per-webhook cursor, so they never block
incident creation, survive restarts and arrive in order (at least once). Sending happens
outside any write transaction (a receiver that hangs must not hold SQLite's single write
lock); the cursors move afterwards in one short write. Each request is
signed: ``Rescue-Signature: v1=<hex HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the
webhook's secret, so a receiver can reject tampering and replays (check the timestamp).
Only allow-listed hosts, no redirects, short timeouts.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.models import Incident, IncidentEvent, Region, Webhook
from app.security import Principal, signature
from app.services.scope import region_by_id_in_scope
from app.services.timeline import settled_event_id
from app.settings import Settings

BATCH = 100


def register(session: Session, settings: Settings, principal: Principal, *, url: str
             ) -> Webhook:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Unprocessable("url must be an absolute http(s) URL", field="url")
    if parts.hostname not in settings.webhook_allowed_hosts:
        raise Unprocessable(f"{parts.hostname} is not on the webhook allow-list", field="url",
                            code="host_not_allowed")
    region = region_by_id_in_scope(session, principal.region_id, principal, field="region")
    latest = session.scalar(select(IncidentEvent.id).order_by(IncidentEvent.id.desc()).limit(1))
    webhook = Webhook(url=url, secret=secrets.token_hex(32), region_id=region.id,
                      last_event_id=latest or 0)  # from now on, not the whole history
    session.add(webhook)
    session.flush()
    return webhook


@dataclass(frozen=True)
class Delivery:
    """What sending to one webhook achieved, to be recorded afterwards."""

    webhook_id: int
    cursor_was: int
    cursor: int  # the last event sent, or skipped as outside the webhook's area
    delivered: int
    error: str | None  # why sending stopped; None: it did not fail


def deliver(session: Session, webhook: Webhook, *, now: datetime, client: httpx.Client,
            latest: int) -> Delivery:
    """Send the events after the cursor, one request per event, stopping at the first
    failure (retried on the next sweep). Only reads: :func:`record` stores the outcome."""
    region = session.get(Region, webhook.region_id)
    events = session.scalars(
        select(IncidentEvent).join(Incident, Incident.id == IncidentEvent.incident_id)
        .join(Region, Region.id == Incident.region_id)
        .where(IncidentEvent.id > webhook.last_event_id, IncidentEvent.id <= latest,
               Region.path.startswith(region.path, autoescape=True))
        .order_by(IncidentEvent.id).limit(BATCH)).all()
    cursor, delivered, error = webhook.last_event_id, 0, None
    for event in events:
        body = json.dumps({"id": event.id, "incident_id": event.incident_id, "kind": event.kind,
                           "at": event.at.isoformat(), "volunteer_id": event.volunteer_id,
                           "data": event.data}, ensure_ascii=False).encode()
        delivery_id = f"evt-{event.id}"
        timestamp = int(now.timestamp())
        try:
            response = client.post(webhook.url, content=body, headers={
                "Content-Type": "application/json", "Rescue-Delivery": delivery_id,
                "Rescue-Timestamp": str(timestamp),
                "Rescue-Signature": signature(webhook.secret, delivery_id, timestamp, body)})
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        if error is not None:
            break
        cursor = event.id
        delivered += 1
    if error is None and len(events) < BATCH:
        # Everything up to ``latest`` in its area was sent: skip the rest of the timeline
        # (other areas, warnings) so that an idle sweep sees nothing to do.
        cursor = max(cursor, latest)
    return Delivery(webhook.id, webhook.last_event_id, cursor, delivered, error)


def deliver_all(session: Session, settings: Settings, *, now: datetime) -> list[Delivery]:
    """Send what every active webhook is behind on (reads only; see :func:`record`)."""
    latest = settled_event_id(session, now)
    with httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False) as client:
        return [deliver(session, w, now=now, client=client, latest=latest)
                for w in session.scalars(select(Webhook).where(Webhook.active))]


def record(session: Session, deliveries: list[Delivery]) -> None:
    """Move the cursors. A cursor that another worker's sweep moved meanwhile is left to
    it (its events may then arrive twice: delivery is at least once, never backwards)."""
    for d in deliveries:
        if d.cursor == d.cursor_was and d.error is None:
            continue
        values: dict[str, object] = {"last_event_id": d.cursor}
        if d.error is not None:
            values |= {"failures": Webhook.failures + 1, "last_error": d.error}
        elif d.delivered:
            values |= {"failures": 0, "last_error": None}
        session.execute(update(Webhook).where(Webhook.id == d.webhook_id,
                                              Webhook.last_event_id == d.cursor_was)
                        .values(values))


def any_behind(session: Session) -> bool:
    """Whether some active webhook has timeline events it was not sent yet (a cheap read,
    so that the sweep takes the write lock only when there is work)."""
    latest = session.scalar(select(func.max(IncidentEvent.id))) or 0
    return session.scalar(select(Webhook.id).where(
        Webhook.active, Webhook.last_event_id < latest).limit(1)) is not None
