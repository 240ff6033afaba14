"""What the HTTP benchmarks share: a real city on SQLite + SpatiaLite (or PostGIS), a
uvicorn server with worker processes, an open-loop load generator and latency percentiles.

Latency is counted from each request's *scheduled* send time (open loop), so a request
that waited behind others, in the client or the server, counts its wait.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXTRACT = ROOT.parent / "shared" / "data" / "osm" / "aed" / "liechtenstein_2024-03-04.osm.pbf"
SEED = 20261123
CITY_CODE = "li"
SECRET_KEY = "bench-secret-key-of-sufficient-length-0123456789"


@dataclass
class BenchCity:
    """The Liechtenstein extract imported into a fresh database under a temporary folder."""

    env: dict[str, str]  # RESCUE_* variables the server needs to serve this city
    settings: Any  # app.settings.Settings of the same database and data folder
    sessionmaker: Any
    city: Any  # app.networks.CityNetwork
    region_id: int
    probes: np.ndarray  # (n, 2) lon/lat: random street points moved up to ~30 m off
    rng: np.random.Generator
    build_s: float


BENCH_DATABASE = "rescue_bench"


def fresh_database(workdir: Path, postgres: str | None) -> str:
    """A SQLite file under ``workdir``, or, given the URL of a PostgreSQL server, an empty
    database named ``rescue_bench`` on it (dropped first if a run left one)."""
    if postgres is None:
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(postgres)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    admin.dispose()
    return server.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def build_city(workdir: Path, *, extra_aeds: int, probes: int = 4000,
               postgres: str | None = None) -> BenchCity:
    """Import the extract (its 148 real AEDs) and add ``extra_aeds`` AEDs near the streets,
    into SQLite under ``workdir`` or a fresh database on the ``postgres`` server."""
    from sqlalchemy import select

    from app.db import make_engine, make_sessionmaker, transaction
    from app.geo.snap import snap_points
    from app.migrate import upgrade_to_head
    from app.models import EquipmentPoint, Region
    from app.networks import NetworkRegistry
    from app.services.osm_import import import_osm
    from app.settings import Settings
    from app.spatial import lonlat_element

    if not EXTRACT.exists():
        raise SystemExit(f"missing {EXTRACT} (the shared OSM data)")
    started = time.perf_counter()
    env = {"RESCUE_DATABASE_URL": fresh_database(workdir, postgres),
           "RESCUE_DATA_DIR": str(workdir / "data"),
           "RESCUE_SECRET_KEY": SECRET_KEY}
    settings = Settings(database_url=env["RESCUE_DATABASE_URL"], data_dir=workdir / "data",
                        secret_key=SECRET_KEY)
    upgrade_to_head(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    registry = NetworkRegistry(settings.data_dir)
    with transaction(factory) as session:
        import_osm(session, settings, EXTRACT, city_code=CITY_CODE, timezone="Europe/Vaduz",
                   registry=registry)
    city = registry.get(CITY_CODE)
    network = city.network
    rng = np.random.default_rng(SEED)
    main_nodes = np.flatnonzero(network.node_in_main)

    # AEDs and probes at random nodes, moved up to 30 m off the street
    def jittered(count: int) -> tuple[np.ndarray, np.ndarray]:
        nodes = rng.choice(main_nodes, count)
        return (network.node_lon[nodes] + rng.normal(0, 0.0002, count),
                network.node_lat[nodes] + rng.normal(0, 0.0001, count))

    lon, lat = jittered(extra_aeds)
    snapped = snap_points(network, lon, lat)
    with transaction(factory) as session:
        region_id = session.scalar(select(Region.id).where(Region.code == CITY_CODE))
        session.add_all([EquipmentPoint(
            kind="aed", name=f"bench AED {i}", region_id=region_id,
            location=lonlat_element(lon[i], lat[i]),
            opening_hours="24/7" if i % 3 else "Mo-Su 06:00-22:00",
            pads_expire_on=date(2030, 1, 1), battery_expires_on=date(2030, 1, 1),
            last_verified_on=date(2026, 1, 1) if i % 4 else None,
            snap_version=city.version,
            snap_edge_id=int(snapped.edge_id[i]) if snapped.ok[i] else None,
            snap_offset_m=float(snapped.offset_m[i]) if snapped.ok[i] else None,
            snap_distance_m=float(snapped.distance_m[i]) if snapped.ok[i] else None)
            for i in range(extra_aeds)])
    probe_lon, probe_lat = jittered(probes)
    return BenchCity(env=env, settings=settings, sessionmaker=factory, city=city,
                     region_id=region_id, probes=np.column_stack([probe_lon, probe_lat]),
                     rng=rng, build_s=time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(env: dict[str, str], *, workers: int, tree: Path = ROOT,
          app: str = "app.main:app") -> Iterator[str]:
    """``uvicorn app.main:app`` (or another ``app``) with ``workers`` processes, serving the
    code of the work tree ``tree`` (this one by default); yields its base URL once healthy."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        cwd=tree, env={**os.environ, **env})
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            with suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass(frozen=True)
class Answer:
    """A response read in full by the load generator."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoadClient:
    """The load generator's HTTP client: aiohttp, because the client shares the server's
    two cores and httpx's asyncio client spent ~3.5 ms of CPU per request there (0.8 of
    a core at 220 requests/s), which the server then lacked."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer:
        async with self._session.get(path, params=params) as response:
            return Answer(response.status, await response.read())

    async def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None
                   ) -> Answer:
        async with self._session.post(path, json=json, headers=headers) as response:
            return Answer(response.status, await response.read())


try:
    # uvloop (uvicorn's own loop, where uvicorn's extras install it): the client shares the
    # server's cores, and the stdlib loop cost it more CPU per request
    import uvloop

    _run_loop = uvloop.run
except ImportError:
    _run_loop = asyncio.run

# What counts as "no answer": connection refused or reset, or the client's timeout.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
# One request: the client and the request's index; returns the answer.
Send = Callable[[LoadClient, int], Awaitable[Answer]]
# Untimed follow-up of one answer (e.g. closing the incident it created).
After = Callable[[LoadClient, int, Answer], Awaitable[None]]


TRANSPORT_ERROR = 0  # the status recorded for a request that got no answer (e.g. timeout)


@dataclass
class Run:
    """The outcome of one open-loop run at a fixed arrival rate."""

    rate: float
    latencies_ms: np.ndarray
    statuses: dict[int, int]  # status code -> requests; TRANSPORT_ERROR: no answer
    responses: list[Answer] = field(repr=False)  # those that were answered
    started: float = 0.0  # wall time (time.time()) of the first scheduled request
    ended: float = 0.0  # wall time when the last answer came

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def ok(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def percentiles(self) -> tuple[float, float, float, float]:
        """p50, p90, p99 and max, in milliseconds."""
        p50, p90, p99 = np.percentile(self.latencies_ms, [50, 90, 99])
        return float(p50), float(p90), float(p99), float(self.latencies_ms.max())


async def open_loop(base: str, send: Send, *, rate: float, seconds: float,
                    headers: dict[str, str] | None = None, after: After | None = None,
                    timeout_s: float = 10) -> Run:
    """Send ``rate * seconds`` requests on a fixed schedule, whatever the answers take.

    A request not answered within ``timeout_s`` counts with that latency as an error.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    responses: list[Answer] = []
    count = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(
            base, headers=headers, connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        client = LoadClient(session)

        async def one(i: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            started = time.perf_counter()
            try:
                response: Answer | None = await send(client, i)
            except TRANSPORT_ERRORS:
                response = None
            # from the scheduled time: a request that waited for a slot counts its wait
            latencies.append(time.perf_counter() - min(started, due))
            status = TRANSPORT_ERROR if response is None else response.status_code
            statuses[status] = statuses.get(status, 0) + 1
            if response is not None:
                responses.append(response)
                if after is not None:
                    await after(client, i, response)

        start = time.perf_counter() + 0.5
        started = time.time() + 0.5
        await asyncio.gather(*(one(i, start + i / rate) for i in range(count)))
    return Run(rate, np.array(latencies) * 1000, statuses, responses, started, time.time())


def wait_until_idle(base: str, *, quick_s: float = 0.05, limit_s: float = 300) -> None:
    """Wait until ``/healthz`` answers quickly: work a saturating run left queued in the
    server must not spill into the next run."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with suppress(httpx.HTTPError):
            httpx.get(base + "/healthz", timeout=limit_s)
        if time.perf_counter() - started < quick_s:
            return
        time.sleep(1)


def measure(base: str, send: Send, *, label: str, rates: list[float], seconds: float,
            headers: dict[str, str] | None = None, after: After | None = None,
            before_each: Callable[[], None] | None = None,
            warmup_rate: float = 20, warmup_s: float = 3) -> list[Run]:
    """A short warm-up (caches, threads), then one open-loop run per rate.

    ``before_each`` runs untimed before the warm-up and each run, once the server is idle.
    Each run's figures are printed to stderr, headed ``label``. The load generator's own
    garbage collector pauses would count as server latency, so it is off during runs.
    """
    def run(rate: float, run_seconds: float) -> Run:
        wait_until_idle(base)
        if before_each is not None:
            before_each()
        gc.collect()
        gc.disable()
        try:
            result = _run_loop(open_loop(base, send, rate=rate, seconds=run_seconds,
                                         headers=headers, after=after))
        finally:
            gc.enable()
        p50, _, p99, worst = result.percentiles()
        print(f"{label} at {rate:g}/s: {result.count} requests, p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms, max {worst:.1f} ms, statuses {result.statuses}",
              file=sys.stderr, flush=True)
        return result

    run(warmup_rate, warmup_s)
    return [run(rate, seconds) for rate in rates]


def parse_rates(text: str) -> list[float]:
    return [float(r) for r in text.split(",") if r.strip()]
