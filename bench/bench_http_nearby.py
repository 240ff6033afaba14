"""HTTP benchmark: `GET /v1/equipment/nearby` at a fixed arrival rate.

Builds a real city in a temporary directory (the Liechtenstein extract with its 148 real
AEDs, plus 5 000 AEDs placed at random street positions, on SQLite + SpatiaLite), serves
it with uvicorn (two worker processes by default, one per core), and sends requests on
an open-loop schedule (50 and 100 requests/s, 20 s each, from random street points of
the main component) so that
latency is measured as a caller sees it, queueing included. Writes its section of
bench/RESULTS.md. Target: p99 <= 20 ms at 100 requests/s.

    python bench/bench_http_nearby.py [--rate 100] [--seconds 20] [--aeds 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results_md import machine, update_section  # noqa: E402

EXTRACT = ROOT.parent / "shared" / "data" / "osm" / "aed" / "liechtenstein_2024-03-04.osm.pbf"
SEED = 20261123


def build_city(workdir: Path, extra_aeds: int) -> tuple[dict[str, str], np.ndarray]:
    """Import the extract, add AEDs on the streets; return the server env and probe points."""
    from sqlalchemy import select

    from app.db import make_engine, make_sessionmaker, transaction
    from app.geo.snap import snap_points
    from app.migrate import upgrade_to_head
    from app.models import EquipmentPoint, Region
    from app.networks import NetworkRegistry
    from app.services.osm_import import import_osm
    from app.settings import Settings
    from app.spatial import lonlat_element

    env = {"RESCUE_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
           "RESCUE_DATA_DIR": str(workdir / "data"),
           "RESCUE_SECRET_KEY": "bench-secret-key-of-sufficient-length-0123456789"}
    settings = Settings(database_url=env["RESCUE_DATABASE_URL"], data_dir=workdir / "data")
    upgrade_to_head(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    registry = NetworkRegistry(settings.data_dir)
    with transaction(factory) as session:
        import_osm(session, settings, EXTRACT, city_code="li", timezone="Europe/Vaduz",
                   registry=registry)
    city = registry.get("li")
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
        region_id = session.scalar(select(Region.id).where(Region.code == "li"))
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
    probe_lon, probe_lat = jittered(4000)
    probes = np.column_stack([probe_lon, probe_lat])
    return env, probes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(base: str, probes: np.ndarray, rate: float, seconds: float
               ) -> tuple[np.ndarray, dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    count = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        async def one(i: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            lon, lat = probes[i % len(probes)]
            started = time.perf_counter()
            response = await client.get("/v1/equipment/nearby",
                                        params={"lon": lon, "lat": lat, "minutes": 4})
            # from the scheduled time: a request that waited for a slot counts its wait
            latencies.append(time.perf_counter() - min(started, due) if due else 0)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(i, start + i / rate) for i in range(count)))
    return np.array(latencies) * 1000, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="50,100", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--aeds", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2,
                        help="uvicorn worker processes (one per core)")
    args = parser.parse_args()
    if not EXTRACT.exists():
        raise SystemExit(f"missing {EXTRACT} (the shared OSM data)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        env, probes = build_city(workdir, args.aeds)
        build_s = time.perf_counter() - t0
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
             "--workers", str(args.workers), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **env})
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(load(base, probes, rate=20, seconds=3))  # warm caches and threads
            # The load generator's own collector pauses would count as server latency.
            gc.collect()
            gc.disable()
            runs = [(rate, *asyncio.run(load(base, probes, rate, args.seconds)))
                    for rate in (float(r) for r in args.rates.split(","))]
            gc.enable()
        finally:
            server.terminate()
            server.wait(timeout=10)
    table = []
    for rate, latencies, statuses in runs:
        p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
        ok = statuses.get(200, 0)
        table.append(f"| {rate:g} | {len(latencies)} | {ok} | {len(latencies) - ok} | "
                     f"{p50:.1f} | {p90:.1f} | {p99:.1f} | {latencies.max():.1f} |")
    rows = "\n".join(table)
    markdown = f"""## HTTP `GET /v1/equipment/nearby` (`python bench/bench_http_nearby.py`)

{machine()}. uvicorn (httptools) with {args.workers} worker process(es) on SQLite +
SpatiaLite; city = Liechtenstein extract
(11,304 nodes; © OpenStreetMap contributors) with its 148 real AEDs plus {args.aeds:,} AEDs
at random street positions (built in {build_s:.1f} s), default settings (4 handler
threads, admission control). Open-loop load from a Python asyncio client on the same
2 cores: {args.seconds:g} s per rate from random street points, budget 4 min at the public
walking speed, up to 5 results each with its walking route; latency counted from the
scheduled send time. Target: p99 ≤ 20 ms at 100 requests/s.

| requests/s | requests | 200 OK | other | p50 ms | p90 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|
{rows}
"""
    print(markdown)
    print(f"wrote {update_section('bench_http_nearby', markdown)}")


if __name__ == "__main__":
    main()
