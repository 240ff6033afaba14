"""Admission control: at most N requests are inside the app at once; the rest wait in line.

Sync routes run in a thread pool (the calls of an emergency are coroutines, whose units of
work run in the event loop on SQLite and in that pool on PostgreSQL), and a request holds
its database connection from its first query until its session closes in a later
thread-pool call. Without a bound on the
requests in flight, a burst fills every thread with requests waiting for a connection while
the connections wait for a thread to commit: latency explodes, then the pool times out.
Waiting here costs nothing (no thread, no connection), and the line is first come, first
served. Long-lived streams (``/stream``) are not counted.

One slot is kept for the calls of an emergency (creating an incident, ranking, a
responder's answer): other requests (an audit that computes for seconds, a list, a close)
may fill all but that one, so an emergency call never waits behind them for a slot.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

# Paths of the calls an emergency waits on (POST only).
_EMERGENCY_PATHS = frozenset({"/v1/incidents", "/v1/dispatch/rank"})
_RESPONDER_ANSWERS = "/v1/assignments/"


def is_emergency_call(scope: Scope) -> bool:
    """Creating an incident, ranking responders, or a responder answering an alert."""
    if scope["method"] != "POST":
        return False
    path: str = scope["path"]
    return path in _EMERGENCY_PATHS or path.startswith(_RESPONDER_ANSWERS)


class AdmissionControl:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        # With a single slot there is nothing to keep: everything shares it.
        self.max_other = max(max_in_flight - 1, 1)
        self._slots: asyncio.Semaphore | None = None
        self._other_slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created inside the running event loop
            self._slots = asyncio.Semaphore(self.max_in_flight)
            self._other_slots = asyncio.Semaphore(self.max_other)
        if is_emergency_call(scope):
            async with self._slots:
                await self.app(scope, receive, send)
            return
        assert self._other_slots is not None
        async with self._other_slots, self._slots:
            await self.app(scope, receive, send)
