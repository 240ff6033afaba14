"""Request dependencies: the session that commits before the response, the caller, the scope."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import is_sqlite, run_unit, transaction
from app.errors import Forbidden, Unauthorized, Unprocessable
from app.geo.crs import Crs, to_wgs84
from app.live.state import LiveState
from app.models import Region
from app.networks import NetworkRegistry
from app.schemas.common import BBox
from app.security import ADMIN_ROLES, READ_ROLES, InvalidToken, Principal, Role, read_token
from app.settings import Settings

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def read_only(endpoint: EndpointT) -> EndpointT:
    """Mark a POST that only reads (a computation such as AED placements): its request runs without
    the write lock, which SQLite holds for the whole of a writing request."""
    endpoint.read_only = True  # type: ignore[attr-defined]
    return endpoint


def _writes(request: Request) -> bool:
    route = request.scope.get("route")
    return (request.method not in _SAFE_METHODS
            and not getattr(getattr(route, "endpoint", None), "read_only", False))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. It commits when the route returns, before the response is
    sent (``scope="function"`` below), so an acknowledged write is never lost; services only
    flush. Any exception rolls the whole request back: no half-written change.

    A read session does no I/O until its first query, so it opens here in the event loop;
    one that writes may wait for the write lock, so it opens in a worker thread and ends in
    one (commit or rollback), as does a failed request and every session on PostgreSQL.
    Each thread-pool trip costs a wait for the interpreter lock when the process is busy,
    which is when it matters."""
    writes = _writes(request)
    unit = transaction(request.app.state.sessionmaker, write=writes)
    # Shielded: a client that goes away must not leave a unit entered and never left (a
    # writer would keep its process's write turn).
    with anyio.CancelScope(shield=True):
        session = await anyio.to_thread.run_sync(unit.__enter__) if writes \
            else unit.__enter__()
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            suppressed = await _in_exit_thread(unit.__exit__, type(exc), exc, exc.__traceback__)
        if not suppressed:
            raise
    else:
        if not writes and is_sqlite(request.app.state.engine):
            # Ending a read on the embedded database is a few microseconds in the library,
            # no I/O: cheaper here than the thread-pool trip (PostgreSQL's is a round trip).
            unit.__exit__(None, None, None)
            return
        with anyio.CancelScope(shield=True):
            await _in_exit_thread(unit.__exit__, None, None, None)


async def _in_exit_thread(function: Callable[..., Any], *args: Any) -> Any:
    # Not from the shared thread budget: every token may be held by requests waiting for
    # the write turn that this exit releases (FastAPI ends its sync dependencies the same way).
    return await anyio.to_thread.run_sync(function, *args, limiter=anyio.CapacityLimiter(1))


SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Units:
    """Units of work for a route that is a coroutine: the calls of an emergency (ranking,
    creating and closing an incident, a responder's answer). Each unit is one transaction
    (``app.db.run_unit``): on SQLite it runs in the event loop, with no thread-pool trip,
    and a writing unit competes with none of the loop's other requests for the interpreter
    while it holds the write lock; on PostgreSQL in a worker thread. A route reads in one
    unit and writes in a short one of its own, so the lock is not held while it ranks or
    builds its response."""

    sessionmaker: sessionmaker[Session]

    async def read(self, work: Callable[[Session], T]) -> T:
        return await run_unit(self.sessionmaker, work, write=False)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Committed before it returns; no network call inside (on SQLite the write lock
        is held, and the worker's event loop with it, until the unit ends)."""
        return await run_unit(self.sessionmaker, work, write=True)


async def get_units(request: Request) -> Units:
    return request.app.state.units


UnitsDep = Annotated[Units, Depends(get_units)]


async def get_networks(request: Request) -> NetworkRegistry:
    return request.app.state.networks


Networks = Annotated[NetworkRegistry, Depends(get_networks)]


async def get_live_state(request: Request) -> LiveState:
    return request.app.state.live


Live = Annotated[LiveState, Depends(get_live_state)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A token from /v1/auth/* or the CLI.")


class RegionPaths:
    """The path of a token's region, remembered for ``ttl_s``.

    Every request needs its caller's scope, and reading it took a query and a thread-pool
    trip per request. A region's path is made of ids and a region never moves, so a
    remembered path stays right; what the memory delays is noticing a deleted region
    (its tokens stop working within ``ttl_s``, not at once)."""

    def __init__(self, sessionmaker: sessionmaker[Session], *, ttl_s: float = 60.0) -> None:
        self._sessionmaker = sessionmaker
        self._ttl_s = ttl_s
        self._known: dict[int, tuple[str, float]] = {}

    def remembered(self, region_id: int) -> str | None:
        known = self._known.get(region_id)
        if known is None or known[1] <= time.monotonic():
            return None
        return known[0]

    async def load(self, region_id: int) -> str | None:
        path = await run_unit(self._sessionmaker, lambda session: session.scalar(
            _REGION_PATH, {"region_id": region_id}), write=False)
        if path is not None:
            self._known[region_id] = (path, time.monotonic() + self._ttl_s)
        return path


_REGION_PATH = select(Region.path).where(Region.id == bindparam("region_id"))


async def get_principal(request: Request, settings: Settings,
                        credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    try:
        claims = read_token(credentials.credentials, secret_key=settings.secret_key)
    except InvalidToken as exc:
        raise Unauthorized(f"Invalid token: {exc}") from exc
    role = Role(str(claims["role"]))
    region_id = claims.get("region_id")
    region_path = None
    if region_id is not None:
        paths: RegionPaths = request.app.state.region_paths
        region_path = paths.remembered(int(region_id))
        if region_path is None:
            region_path = await paths.load(int(region_id))
        if region_path is None:
            raise Unauthorized("The token's region no longer exists")
    volunteer_id = claims.get("volunteer_id")
    if role is Role.volunteer and volunteer_id is None:
        raise Unauthorized("A volunteer token must name its volunteer")
    if role is not Role.volunteer and region_path is None:
        raise Unauthorized("A console token must carry a region scope")
    return Principal(role=role, subject=str(claims["sub"]),
                     region_id=int(region_id) if region_id is not None else None,
                     region_path=region_path,
                     volunteer_id=int(volunteer_id) if volunteer_id is not None else None)


@dataclass(frozen=True)
class Allow:
    """A route's declared permission. Every route depends on exactly one ``Allow``; a test
    walks ``app.routes`` and fails on a route without one. (Async: with the caller's region
    path remembered it does no I/O, and a sync dependency costs a thread-pool trip.)"""

    roles: frozenset[Role]
    public: bool = False

    async def __call__(
        self,
        request: Request,
        settings: SettingsDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal | None:
        if self.public:
            return None
        principal = await get_principal(request, settings, credentials)
        if principal.role not in self.roles:
            raise Forbidden(f"Role {principal.role} may not call this operation")
        return principal


def allow(*roles: Role) -> Allow:
    return Allow(roles=frozenset(roles))


PUBLIC = Allow(roles=frozenset(), public=True)

# The usual permissions, declared once.
Reader = Annotated[Principal, Depends(allow(*READ_ROLES))]
Admin = Annotated[Principal, Depends(allow(*ADMIN_ROLES))]
SelfVolunteer = Annotated[Principal, Depends(allow(Role.volunteer))]
DispatcherDep = Annotated[Principal, Depends(allow(Role.dispatcher, *ADMIN_ROLES))]


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


async def get_page_params(
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, description="Page size (at most the configured maximum).",
                                examples=[50])] = 50,
    offset: Annotated[int, Query(ge=0, description="How many matches to skip.",
                                 examples=[0])] = 0,
) -> PageParams:
    if limit > settings.max_page_size:
        raise Unprocessable(f"limit must be at most {settings.max_page_size}", field="limit")
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(get_page_params)]
ResponseCrs = Annotated[Crs, Query(
    description="Coordinate system for locations in the response: wgs84, gcj02 or bd09.",
    examples=["gcj02"])]


@dataclass(frozen=True)
class SpatialFilter:
    """A list's optional area filter, already converted to WGS-84."""

    bbox: BBox | None
    near: tuple[float, float, float] | None  # lon, lat, radius_m


def lonlat_text(text: str, field: str) -> tuple[float, float]:
    """Parse a ``lon,lat`` query value, naming ``field`` when it is wrong."""
    try:
        lon_text, lat_text = text.split(",")
        lon, lat = float(lon_text), float(lat_text)
    except ValueError as exc:
        raise Unprocessable("expected `lon,lat`", field=field) from exc
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        raise Unprocessable("lon must be within ±180 and lat within ±90", field=field)
    return lon, lat


async def get_spatial_filter(
    crs: ResponseCrs = Crs.wgs84,
    bbox: Annotated[str | None, Query(
        description="Only objects inside `min_lon,min_lat,max_lon,max_lat` (in `crs`).",
        examples=["117.19,39.11,117.22,39.14"])] = None,
    near: Annotated[str | None, Query(
        description="Only objects within `radius_m` of this `lon,lat` (in `crs`).",
        examples=["117.2009,39.1336"])] = None,
    radius_m: Annotated[float, Query(gt=0, le=50_000, description="Radius for `near`, metres.",
                                     examples=[500])] = 1000,
) -> SpatialFilter:
    box = None
    if bbox is not None:
        try:
            box = BBox.parse(bbox)
        except ValueError as exc:
            raise Unprocessable(str(exc), field="bbox") from exc
        if crs is not Crs.wgs84:
            min_lon, min_lat = to_wgs84(box.min_lon, box.min_lat, crs)
            max_lon, max_lat = to_wgs84(box.max_lon, box.max_lat, crs)
            box = BBox(min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
    centre = None
    if near is not None:
        lon, lat = to_wgs84(*lonlat_text(near, "near"), crs)
        centre = (lon, lat, radius_m)
    return SpatialFilter(bbox=box, near=centre)


SpatialDep = Annotated[SpatialFilter, Depends(get_spatial_filter)]


# Query parameters shared by the walking-time endpoints.
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False,
                             description="Longitude in `crs`.", examples=[117.2009])]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False,
                             description="Latitude in `crs`.", examples=[39.1336])]
CrsQuery = Annotated[Crs, Query(description="Coordinate system of the input and of the "
                                "answer: wgs84, gcj02 or bd09.", examples=["gcj02"])]
SpeedQuery = Annotated[float | None, Query(gt=0, le=10, description="Walking speed, m/s "
                                           "(default: the city's setting).", examples=[1.8])]
