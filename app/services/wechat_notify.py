"""Alerts, stand-downs and risk warnings as WeChat subscription messages (订阅消息).

Like webhooks, this notifier follows the incident timeline from a stored cursor, so a
WeChat outage never blocks an incident and nothing is lost: the next sweep retries. It
sends outside any write transaction and moves the cursor afterwards in a short write.
Messages carry only the kind and walking distance; details come with acceptance.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Assignment, DeliveryCursor, Incident, IncidentEvent, Volunteer
from app.services.timeline import settled_event_id
from app.settings import Settings

CURSOR = "wechat_subscribe"
NOTIFIED_KINDS = ("alerted", "replacement_alerted", "stood_down", "warning")
BATCH = 200


@dataclass
class AccessToken:
    """WeChat's client-credential token, cached until shortly before it expires."""

    value: str = ""
    expires_at: float = 0.0
    fetched: int = field(default=0)

    def get(self, client: httpx.Client, settings: Settings) -> str:
        if self.value and time.monotonic() < self.expires_at:
            return self.value
        payload = client.get("/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": settings.wechat_app_id,
            "secret": settings.wechat_app_secret}).json()
        if "access_token" not in payload:
            raise httpx.HTTPError(f"no access token (errcode {payload.get('errcode')})")
        self.value = payload["access_token"]
        self.expires_at = time.monotonic() + int(payload.get("expires_in", 7200)) - 300
        self.fetched += 1
        return self.value


def _message(session: Session, event: IncidentEvent, volunteer: Volunteer,
             settings: Settings) -> dict[str, object]:
    """One template for every push: title, what, and a short figure."""
    if event.warning_id is not None:
        title, what = "风险预警", str(event.data.get("warning_kind", ""))
        figure = str(event.data.get("severity", ""))
        page = f"pages/warning/index?id={event.warning_id}"
    else:
        assignment = session.scalar(select(Assignment).where(
            Assignment.incident_id == event.incident_id,
            Assignment.volunteer_id == volunteer.id))
        title = {"alerted": "急救呼叫", "replacement_alerted": "急救呼叫",
                 "stood_down": "任务取消"}[event.kind]
        what = session.get(Incident, event.incident_id).kind
        figure = f"{assignment.distance_m:.0f} 米" if assignment else "-"
        page = f"pages/alert/index?assignment={assignment.id if assignment else ''}"
    return {"template_id": settings.wechat_alert_template_id, "page": page,
            "data": {"thing1": {"value": title}, "thing2": {"value": what},
                     "character_string3": {"value": figure}}}


def any_pending(session: Session, settings: Settings) -> bool:
    """Whether there may be messages to send (a cheap read for the sweep)."""
    if not (settings.wechat_alert_template_id and settings.wechat_app_id):
        return False
    cursor = session.get(DeliveryCursor, CURSOR)
    latest = session.scalar(select(func.max(IncidentEvent.id))) or 0
    return cursor is None or cursor.last_event_id < latest


@dataclass(frozen=True)
class Progress:
    """How far sending got, to be recorded afterwards by :func:`record`."""

    cursor_was: int | None  # None: no cursor yet
    cursor: int


def send_pending(session: Session, settings: Settings, token: AccessToken, *,
                 client: httpx.Client, now: datetime) -> Progress | None:
    """Send the new alert events to the volunteers who signed in with WeChat; stops at
    the first failure and resumes there next time. Only reads; None when not configured.
    Without a cursor yet it only sets one at the newest event: history is not replayed."""
    if not (settings.wechat_alert_template_id and settings.wechat_app_id):
        return None
    cursor = session.get(DeliveryCursor, CURSOR)
    if cursor is None:
        latest = session.scalar(select(func.max(IncidentEvent.id))) or 0
        return Progress(None, latest)
    events = session.scalars(select(IncidentEvent).where(
        IncidentEvent.id > cursor.last_event_id,
        IncidentEvent.id <= settled_event_id(session, now))
        .order_by(IncidentEvent.id).limit(BATCH)).all()
    done = cursor.last_event_id
    for event in events:
        if event.kind in NOTIFIED_KINDS and event.volunteer_id is not None:
            volunteer = session.get(Volunteer, event.volunteer_id)
            if volunteer is not None and volunteer.wechat_openid:
                try:
                    access = token.get(client, settings)
                    reply = client.post("/cgi-bin/message/subscribe/send",
                                        params={"access_token": access},
                                        json={"touser": volunteer.wechat_openid,
                                              **_message(session, event, volunteer,
                                                         settings)}).json()
                except (httpx.HTTPError, ValueError):
                    break
                # 43101: the user did not subscribe; nothing to retry for that message.
                if reply.get("errcode", 0) not in (0, 43101):
                    break
        done = event.id
    return Progress(cursor.last_event_id, done)


def record(session: Session, progress: Progress) -> None:
    """Move the cursor, unless another worker's sweep moved it meanwhile (its messages may
    then go twice: at least once, never backwards)."""
    if progress.cursor_was is None:
        with suppress(IntegrityError), session.begin_nested():
            session.add(DeliveryCursor(name=CURSOR, last_event_id=progress.cursor))
    elif progress.cursor != progress.cursor_was:
        session.execute(update(DeliveryCursor).where(
            DeliveryCursor.name == CURSOR, DeliveryCursor.last_event_id == progress.cursor_was)
            .values(last_event_id=progress.cursor))
