"""The periodic sweep: times out unanswered alerts and replaces them; pushes risk warnings
whose start has come; delivers webhooks and WeChat messages."""

from __future__ import annotations

import logging

import anyio
import httpx
from fastapi import FastAPI

from app.db import transaction
from app.models import Incident
from app.models.base import utcnow
from app.services.incidents import escalate, open_incidents_needing_attention
from app.services.warnings import push_due
from app.services.webhooks import deliver_all
from app.services.wechat_notify import send_pending

log = logging.getLogger(__name__)


def sweep_once(app: FastAPI) -> int:
    """Escalate every open incident with an alert past its timeout; returns how many."""
    settings = app.state.settings
    now = utcnow()
    with transaction(app.state.sessionmaker, write=False) as session:
        ids = open_incidents_needing_attention(session, settings, now=now)
    for incident_id in ids:  # one transaction each: a failure does not hold up the others
        with transaction(app.state.sessionmaker) as session:
            escalate(session, app.state.networks, app.state.live, settings,
                     session.get(Incident, incident_id), now=now)
    with transaction(app.state.sessionmaker) as session:
        push_due(session, app.state.live, now=now)
    # Webhooks and WeChat messages follow the timeline: a receiver that is down never
    # blocks an incident, and the next sweep resumes where this one stopped.
    with transaction(app.state.sessionmaker) as session:
        deliver_all(session, settings, now=now)
    with transaction(app.state.sessionmaker) as session, httpx.Client(
            base_url=settings.wechat_api_base, timeout=settings.wechat_timeout_s,
            follow_redirects=False) as client:
        send_pending(session, settings, app.state.wechat_token, client=client)
    return len(ids)


async def sweep_forever(app: FastAPI) -> None:
    interval = app.state.settings.escalation_interval_s
    while True:
        await anyio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(sweep_once, app)
        except Exception:  # the sweep must outlive any single failure; it is logged
            log.exception("escalation sweep failed")
