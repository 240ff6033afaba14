"""Application factory. ``uvicorn app.main:app`` serves it with settings from the environment."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app import __version__
from app.admission import AdmissionControl
from app.db import make_engine, make_sessionmaker
from app.deps import RegionPaths, Units
from app.errors import install_error_handlers
from app.escalation import sweep_forever
from app.geo.warmup import warm_up
from app.live import open_live_state
from app.networks import NetworkRegistry
from app.routers import (
    auth,
    certifications,
    coverage,
    devices,
    dispatch,
    drills,
    equipment,
    hazards,
    health,
    imports,
    incidents,
    inventory,
    live,
    regions,
    service,
    stream,
    teams,
    training,
    volunteers,
    walking,
    warnings,
    webhooks,
)
from app.services.wechat_notify import AccessToken
from app.settings import Settings

# Matching tries routers in this order, each of its routes in turn: the calls of an
# emergency first (a profile showed matching walk every router ahead). A path with a fixed
# segment comes before a pattern that would also match it (stream before incidents); a test
# checks that no operation is hidden behind an earlier one.
ROUTERS: tuple[APIRouter, ...] = (
    health.router, stream.router, dispatch.router, incidents.router, live.router,
    auth.router, regions.router, teams.router, volunteers.router, certifications.router,
    equipment.router, imports.router, walking.router, coverage.router, webhooks.router,
    service.router, drills.router, devices.router, inventory.router, hazards.router,
    warnings.router, training.router,
)

DESCRIPTION = """
Backend of a **4-minute rescue circle** (4分钟救护圈): certified volunteers and AED /
first-aid equipment, ranked by real walking time over OpenStreetMap street networks.

* Every location input is `{lon, lat, crs}` with `crs` one of `wgs84`, `gcj02`, `bd09`;
  responses take `?crs=`.
* Errors are RFC 9457 `application/problem+json` with `errors: [{field, message}]`.
* Street network data © OpenStreetMap contributors (ODbL).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, spatialite_library=settings.spatialite_library)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Compile the walking kernels and load the networks before taking requests.
        await anyio.to_thread.run_sync(warm_up)
        await anyio.to_thread.run_sync(app.state.networks.refresh)
        # Everything loaded so far (~240k objects: libraries, numba, the app) lives as long
        # as the process. A full collection over it took 130-160 ms, a stall that hit about
        # one request in a hundred; frozen objects are never scanned again.
        gc.collect()
        gc.freeze()
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        async with anyio.create_task_group() as tasks:
            if settings.escalation_interval_s > 0:
                tasks.start_soon(sweep_forever, app)
            yield
            tasks.cancel_scope.cancel()
        app.state.live.close()
        engine.dispose()

    app = FastAPI(title="Rescue Circle", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.region_paths = RegionPaths(app.state.sessionmaker)
    app.state.units = Units(app.state.sessionmaker)
    app.state.networks = NetworkRegistry(settings.data_dir)
    app.state.wechat_token = AccessToken()
    app.state.live = open_live_state(settings.redis_url, policy=settings.live_policy(),
                                     key_prefix=settings.live_key_prefix)
    install_error_handlers(app)
    app.add_middleware(AdmissionControl, max_in_flight=settings.worker_threads)
    for router in ROUTERS:
        app.include_router(router)
    return app


def api_routes() -> list[APIRoute]:
    """Every operation the app serves, with its full path (for checks that walk routes)."""
    return [route for router in ROUTERS for route in router.routes
            if isinstance(route, APIRoute)]


def __getattr__(name: str) -> Any:
    # `uvicorn app.main:app` asks for `app`; build it then, not at import time.
    if name == "app":
        return create_app()
    raise AttributeError(name)
