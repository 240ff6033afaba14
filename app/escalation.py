"""The periodic sweep: times out unanswered alerts and replaces them; pushes risk warnings
whose start has come; delivers webhooks and WeChat messages."""

from __future__ import annotations

import logging
from datetime import datetime

import anyio
import httpx
from fastapi import FastAPI

from app.db import transaction
from app.models import Incident
from app.models.base import utcnow
from app.services import webhooks, wechat_notify
from app.services.incidents import escalate, open_incidents_needing_attention
from app.services.warnings import any_due, push_due

log = logging.getLogger(__name__)


def sweep_once(app: FastAPI, *, now: datetime | None = None) -> int:
    """Escalate every open incident with an alert past its timeout; returns how many.

    It first looks (reads only) for work; each kind of work then gets its own write
    transaction, so an idle sweep never takes the write lock that requests wait for."""
    settings = app.state.settings
    factory = app.state.sessionmaker
    now = now or utcnow()
    with transaction(factory, write=False) as session:
        ids = open_incidents_needing_attention(session, settings, now=now)
        warnings_due = any_due(session, now=now)
        webhooks_behind = webhooks.any_behind(session)
        wechat_pending = wechat_notify.any_pending(session, settings)
    for incident_id in ids:  # one transaction each: a failure does not hold up the others
        with transaction(factory) as session:
            escalate(session, app.state.networks, app.state.live, settings,
                     session.get(Incident, incident_id), now=now)
    if warnings_due:
        with transaction(factory) as session:
            push_due(session, app.state.live, now=now)
    # Webhooks and WeChat messages follow the timeline: a receiver that is down never
    # blocks an incident (nothing is sent inside a write transaction), and the next sweep
    # resumes where this one stopped.
    if webhooks_behind:
        with transaction(factory, write=False) as session:
            deliveries = webhooks.deliver_all(session, settings, now=now)
        with transaction(factory) as session:
            webhooks.record(session, deliveries)
    if wechat_pending:
        with transaction(factory, write=False) as session, httpx.Client(
                base_url=settings.wechat_api_base, timeout=settings.wechat_timeout_s,
                follow_redirects=False) as client:
            progress = wechat_notify.send_pending(session, settings, app.state.wechat_token,
                                                  client=client, now=now)
        if progress is not None:
            with transaction(factory) as session:
                wechat_notify.record(session, progress)
    return len(ids)


async def sweep_forever(app: FastAPI) -> None:
    interval = app.state.settings.escalation_interval_s
    # A thread of its own, not one of the request handlers': a sweep waits on webhooks and
    # WeChat, and meanwhile the requests let in would find a handler thread fewer.
    own_thread = anyio.CapacityLimiter(1)
    while True:
        await anyio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(sweep_once, app, limiter=own_thread)
        except Exception:  # the sweep must outlive any single failure; it is logged
            log.exception("escalation sweep failed")
