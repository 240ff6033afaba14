"""Server-sent events: the console's incident timeline and a volunteer's own alerts.

The stream reads the incident timeline (the database is the source of truth), so it works
across API workers, loses nothing, and resumes from ``Last-Event-ID`` = the last event id
seen. Heartbeat comments keep proxies from closing an idle stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select

from app.db import transaction
from app.deps import DispatcherDep, SelfVolunteer
from app.errors import problem_responses
from app.models import Incident, IncidentEvent
from app.models.base import utcnow
from app.security import Principal
from app.services.scope import region_filter
from app.services.timeline import settled_event_id

router = APIRouter(tags=["push"])

POLL_S = 0.5
HEARTBEAT_S = 15.0
BATCH = 500
# What a volunteer's own stream carries: never another volunteer's details.
VOLUNTEER_EVENT_KINDS = ("alerted", "replacement_alerted", "cancelled", "stood_down", "closed",
                         "warning", "warning_withdrawn")

LastEventId = Annotated[int | None, Header(description="Resume after this event id.",
                                           examples=[1024])]
MaxSeconds = Annotated[float | None, Query(gt=0, le=3600, description="Close the stream "
                                           "after this long (default: never).",
                                           examples=[600])]


def _sse(event: IncidentEvent) -> str:
    data = {"incident_id": event.incident_id, "warning_id": event.warning_id,
            "kind": event.kind, "at": event.at.isoformat(),
            "volunteer_id": event.volunteer_id, "data": event.data}
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _stream(request: Request, query: Callable[[int], Select[Any]], last_id: int,
            max_seconds: float | None) -> StreamingResponse:
    factory = request.app.state.sessionmaker

    def fetch(floor: int) -> tuple[list[IncidentEvent], int]:
        with transaction(factory, write=False) as session:
            batch = list(session.scalars(query(floor).order_by(IncidentEvent.id).limit(BATCH)))
            return batch, settled_event_id(session, utcnow())

    async def events() -> AsyncIterator[str]:
        # Below `floor` every event was sent (or is not for this stream). Above it events
        # are sent as they appear and remembered, because until the timeline has settled
        # a lower id can still commit on PostgreSQL (ids are taken before commit).
        floor, sent = last_id, set[int]()
        started = beat = time.monotonic()
        yield "retry: 2000\n\n"
        while max_seconds is None or time.monotonic() - started < max_seconds:
            if await request.is_disconnected():
                return
            batch, settled = await anyio.to_thread.run_sync(fetch, floor)
            for event in batch:
                if event.id not in sent:
                    sent.add(event.id)
                    yield _sse(event)
            read_up_to = batch[-1].id if len(batch) == BATCH else settled
            floor = max(floor, min(settled, read_up_to))
            sent = {i for i in sent if i > floor}
            if time.monotonic() - beat >= HEARTBEAT_S:
                beat = time.monotonic()
                yield ": heartbeat\n\n"
            await anyio.sleep(POLL_S)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _console_query(principal: Principal) -> Callable[[int], Select[Any]]:
    def query(after: int) -> Select[Any]:
        incidents = select(Incident.id).where(region_filter(Incident.region_id, principal))
        return select(IncidentEvent).where(IncidentEvent.id > after,
                                           IncidentEvent.incident_id.in_(incidents))
    return query


@router.get("/v1/incidents/stream", operation_id="stream_incidents",
            response_class=StreamingResponse, responses=problem_responses())
def stream_incidents(request: Request, principal: DispatcherDep,
                     last_event_id: LastEventId = None, max_seconds: MaxSeconds = None
                     ) -> StreamingResponse:
    """Every timeline event of the incidents in the caller's area, as server-sent events."""
    return _stream(request, _console_query(principal), last_event_id or 0, max_seconds)


@router.get("/v1/volunteers/me/alerts/stream", operation_id="stream_my_alerts",
            response_class=StreamingResponse, responses=problem_responses())
def stream_my_alerts(request: Request, principal: SelfVolunteer,
                     last_event_id: LastEventId = None, max_seconds: MaxSeconds = None
                     ) -> StreamingResponse:
    """My alerts and stand-downs, and risk warnings for where I am, as server-sent events
    (alert details come with acceptance)."""
    me = principal.volunteer_id

    def query(after: int) -> Select[Any]:
        return select(IncidentEvent).where(IncidentEvent.id > after,
                                           IncidentEvent.volunteer_id == me,
                                           IncidentEvent.kind.in_(VOLUNTEER_EVENT_KINDS))
    return _stream(request, query, last_event_id or 0, max_seconds)
