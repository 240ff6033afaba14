"""Admission control: at most N requests are inside the app at once; the rest wait in line.

Sync routes run in a thread pool, and a request holds its database connection from its
first query until its session closes in a later thread-pool call. Without a bound on the
requests in flight, a burst fills every thread with requests waiting for a connection while
the connections wait for a thread to commit: latency explodes, then the pool times out.
Waiting here costs nothing (no thread, no connection), and the line is first come, first
served. Long-lived streams (``/stream``) are not counted.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionControl:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created inside the running event loop
            self._slots = asyncio.Semaphore(self.max_in_flight)
        async with self._slots:
            await self.app(scope, receive, send)
