"""HTTP benchmark: dispatch ranking and incident creation at fixed arrival rates.

Issue #4: incident creation through the first alerts handed to the notifier p99 <= 50 ms,
ranking p99 <= 20 ms, over HTTP at 100 requests/s on the benchmark city.

Builds the benchmark city of bench/bench_http_nearby.py (Liechtenstein extract, its 148
real AEDs plus 5 000 at random street positions, SQLite + SpatiaLite), registers
volunteers at random street positions (uniform by street length, as in
bench/bench_dispatch.py) with valid CPR certificates (some also AED-use), puts them on duty
with fresh fixes through the app's own duty service into Redis (db 14, flushed), and
serves the city with uvicorn (two worker processes sharing that live state). Then, open
loop from random street points:

* `POST /v1/dispatch/rank` (cardiac arrest) at 100 requests/s;
* `POST /v1/incidents` (cardiac arrest) at 20, 50 and 100 requests/s. Its response is sent
  after the incident, its first alerts (assignments) and their timeline events are
  committed, and the notifiers (webhooks, WeChat, the push stream) read that timeline: the
  response latency is "creation through first alert handed to the notifier". Each incident
  is closed (`POST /v1/incidents/{id}/close`, untimed) `--hold` seconds after it was
  created, so its responders become free again, as they do in a city whose incidents end
  at the rate they start. The load generator does not read the closed incident, so it
  asks for none (`Prefer: return=minimal`: 204, as a bulk-closing integration would).

Fixes are refreshed (untimed) before each run, so they stay within the default
freshness window. Writes its section of bench/RESULTS.md. With `--write-lock-probe`
(SQLite) the server times its write lock (bench/write_lock_probe.py) and the section says
how busy the lock was in each incident run.

    python bench/bench_http_dispatch.py [--rank-rates 100] [--incident-rates 20,50]
        [--seconds 20] [--volunteers 3000] [--hold 2] [--postgres URL]
        [--worker-threads N] [--write-lock-probe]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import Awaitable
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_dispatch import street_area_km2, street_layout
from bench.http_harness import (
    CITY_CODE,
    TRANSPORT_ERRORS,
    Answer,
    BenchCity,
    LoadClient,
    Run,
    build_city,
    measure,
    parse_rates,
    serve,
)
from bench.results_md import machine, update_section

REDIS_URL = "redis://127.0.0.1:6379/14"
KIND = "cardiac_arrest"
RANK_TARGET_MS, INCIDENT_TARGET_MS = 20.0, 50.0
DEFAULT_FRESH_S = 120.0  # RESCUE_LIVE_FRESH_S default (app/settings.py)


def add_volunteers(city: BenchCity, count: int, *, aed_share: float
                   ) -> tuple[list[int], np.ndarray, np.ndarray]:
    """``count`` active volunteers in one community of the city, at random street positions,
    each with a valid CPR certificate and ``aed_share`` of them also AED-use."""
    from app.db import transaction
    from app.models import Certification, Volunteer
    from app.models.base import utcnow
    from app.models.volunteer import Skill
    from app.schemas.region import RegionCreate
    from app.security import Principal, Role
    from app.services.regions import create_region

    operator = Principal(role=Role.city_admin, subject="bench", region_path="/")
    layout = street_layout(city.city.network, count, city.rng)
    fetches = city.rng.random(count) < aed_share
    issued = utcnow() - timedelta(days=30)
    with transaction(city.sessionmaker) as session:
        district = create_region(session, RegionCreate(
            code=f"{CITY_CODE}-d", name="Bench district", level="district",
            parent_code=CITY_CODE), principal=operator)
        community = create_region(session, RegionCreate(
            code=f"{CITY_CODE}-d-1", name="Bench community", level="community",
            parent_code=district.code), principal=operator)
        volunteers = [Volunteer(name=f"bench volunteer {i}", phone=f"139{i:08d}",
                                region_id=community.id, roles=["resident"])
                      for i in range(count)]
        session.add_all(volunteers)
        session.flush()
        ids = [v.id for v in volunteers]
        session.add_all([Certification(
            volunteer_id=vid, skill=skill.value, issued_at=issued,
            expires_at=issued + timedelta(days=730), issuer="bench",
            number=f"{skill.value}-{vid}")
            for vid, fetch in zip(ids, fetches, strict=True)
            for skill in ((Skill.cpr, Skill.aed) if fetch else (Skill.cpr,))])
    return ids, layout.lon, layout.lat


def go_on_duty(city: BenchCity, live, ids: list[int], lon: np.ndarray, lat: np.ndarray,
               *, report_only: bool) -> float:
    """On duty (unless ``report_only``) and one fresh fix each, through app.services.duty;
    returns the seconds it took. Every fix must be accepted."""
    from app.db import transaction
    from app.models.base import utcnow
    from app.schemas.live import LocationIn
    from app.services.duty import report_locations, set_duty

    started = time.perf_counter()
    with transaction(city.sessionmaker, write=False) as session:
        for vid, x, y in zip(ids, lon, lat, strict=True):
            now = utcnow()
            if not report_only:
                set_duty(session, live, vid, on_duty=True, now=now)
            verdict, = report_locations(live, vid, [LocationIn(
                lon=float(x), lat=float(y), accuracy_m=10.0, recorded_at=now)],
                received_at=now)
            if not verdict.live:
                raise SystemExit(f"volunteer {vid}: fix not kept: {verdict}")
    return time.perf_counter() - started


def close_open_incidents(base: str, headers: dict[str, str]) -> int:
    """Close the incidents a run left open (its close failed, or its creation answered after
    the client gave up); returns how many."""
    closed = 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while items := client.get("/v1/incidents", params={
                "status": "open", "limit": 200}).raise_for_status().json()["items"]:
            for item in items:
                client.post(f"/v1/incidents/{item['id']}/close",
                            json={"outcome": "false_alarm"}).raise_for_status()
            closed += len(items)
    return closed


def dispatcher_token(city: BenchCity) -> str:
    from app.security import Role, issue_token

    return issue_token(secret_key=city.settings.secret_key, role=Role.dispatcher,
                       subject="bench:dispatcher", region_id=city.region_id, ttl_s=3600)


def location(points: np.ndarray, i: int) -> dict[str, float]:
    lon, lat = points[i % len(points)]
    return {"lon": float(lon), "lat": float(lat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rank-rates", default="100", help="requests/s, comma-separated")
    parser.add_argument("--incident-rates", default="20,50,100", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20, help="per rate")
    parser.add_argument("--aeds", type=int, default=5000)
    parser.add_argument("--volunteers", type=int, default=3000)
    parser.add_argument("--aed-share", type=float, default=0.6,
                        help="share of the volunteers also certified for AED use")
    parser.add_argument("--hold", type=float, default=2.0,
                        help="seconds an incident stays open before it is closed (untimed)")
    parser.add_argument("--workers", type=int, default=2,
                        help="uvicorn worker processes (one per core)")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="serve from PostgreSQL + PostGIS: a fresh database on this server "
                        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) "
                        "instead of SQLite + SpatiaLite")
    parser.add_argument("--worker-threads", type=int, default=None,
                        help="RESCUE_WORKER_THREADS of the server (default: its default); "
                        "writes a section of its own")
    parser.add_argument("--escalation-interval", type=float, default=5.0,
                        help="RESCUE_ESCALATION_INTERVAL_S of the server (0: no sweep)")
    parser.add_argument("--write-lock-probe", action="store_true",
                        help="SQLite: serve bench/write_lock_probe.py's app, which times the "
                        "write lock, and report how busy it was in each run")
    args = parser.parse_args()
    if args.write_lock_probe and args.postgres:
        parser.error("--write-lock-probe times SQLite's write lock; PostgreSQL has none")
    # A run must fit in the freshness window (fixes are refreshed before each run).
    fresh_s = max(DEFAULT_FRESH_S, math.ceil(args.seconds + args.hold + 30))

    import redis

    from app.live import open_live_state
    from app.settings import Settings

    redis.Redis.from_url(REDIS_URL).flushdb()
    live = open_live_state(REDIS_URL, policy=Settings(live_fresh_s=fresh_s).live_policy())
    with tempfile.TemporaryDirectory() as tmp:
        city = build_city(Path(tmp), extra_aeds=args.aeds, postgres=args.postgres)
        area_km2 = street_area_km2(city.city.network, city.rng)
        ids, vol_lon, vol_lat = add_volunteers(city, args.volunteers, aed_share=args.aed_share)
        on_duty_s = go_on_duty(city, live, ids, vol_lon, vol_lat, report_only=False)
        points = street_layout(city.city.network, 4000, city.rng)
        points = np.column_stack([points.lon, points.lat])
        env = {**city.env, "RESCUE_REDIS_URL": REDIS_URL,
               "RESCUE_LIVE_FRESH_S": str(fresh_s),
               "RESCUE_ESCALATION_INTERVAL_S": str(args.escalation_interval)}
        if args.worker_threads is not None:
            env["RESCUE_WORKER_THREADS"] = str(args.worker_threads)
        headers = {"Authorization": f"Bearer {dispatcher_token(city)}"}

        def refresh() -> None:
            go_on_duty(city, live, ids, vol_lon, vol_lat, report_only=True)

        def rank(client: LoadClient, i: int) -> Awaitable[Answer]:
            return client.post("/v1/dispatch/rank",
                               json={"location": location(points, i), "kind": KIND})

        def create(client: LoadClient, i: int) -> Awaitable[Answer]:
            return client.post("/v1/incidents", json={
                "location": location(points, 2000 + i), "kind": KIND,
                "address": "[BENCH]"})

        async def close(client: LoadClient, i: int, response: Answer) -> None:
            if response.status_code == 201:
                await asyncio.sleep(args.hold)
                with suppress(*TRANSPORT_ERRORS):  # left open: closed before the next run
                    await client.post(f"/v1/incidents/{response.json()['incident']['id']}"
                                      "/close", json={"outcome": "false_alarm"},
                                      headers={"Prefer": "return=minimal"})

        lock_log = Path(tmp) / "write-lock"
        app = "app.main:app"
        if args.write_lock_probe:
            lock_log.mkdir()
            env["RESCUE_BENCH_LOCK_LOG"] = str(lock_log)
            app = "bench.write_lock_probe:app"
        with serve(env, workers=args.workers, app=app) as base:
            left_open: list[int] = []

            def sweep_up() -> None:
                left_open.append(close_open_incidents(base, headers))
                refresh()

            rank_runs = measure(base, rank, label="POST /v1/dispatch/rank",
                                rates=parse_rates(args.rank_rates), seconds=args.seconds,
                                headers=headers, before_each=refresh)
            incident_runs = measure(base, create, label="POST /v1/incidents",
                                    rates=parse_rates(args.incident_rates),
                                    seconds=args.seconds, headers=headers, after=close,
                                    before_each=sweep_up)
            sweep_up()
        locks = ([lock_line(lock_log, run) for run in incident_runs]
                 if args.write_lock_probe else [])
    live.close()
    write(args, city, area_km2=area_km2, on_duty_s=on_duty_s, fresh_s=fresh_s,
          rank_runs=rank_runs, incident_runs=incident_runs, left_open=sum(left_open),
          locks=locks)


def lock_line(folder: Path, run: Run) -> str:
    """How busy SQLite's write lock was during a run (creations and their closes), from
    the lines bench/write_lock_probe.py's workers wrote: one per committed write group."""
    held, groups = 0.0, 0
    per_worker: list[int] = []  # writers, one file per worker process
    for path in folder.glob("*.txt"):
        per_worker.append(0)
        for line in path.read_text().splitlines():
            at, hold_s, count = line.split()
            if run.started <= float(at) <= run.ended:
                held += float(hold_s)
                per_worker[-1] += int(count)
                groups += 1
    writers = sum(per_worker)
    if not groups:
        return f"write lock at {run.rate:g}/s: no write group committed"
    split = " / ".join(f"{n / writers:.0%}" for n in sorted(per_worker, reverse=True))
    return (f"write lock at {run.rate:g}/s (creations and their closes): held "
            f"{held / (run.ended - run.started):.0%} of the run, {1000 * held / writers:.1f} ms "
            f"per writer, {writers / groups:.2f} writers per group; the workers' shares of "
            f"the writes {split}")


def row(endpoint: str, run: Run, status: int, target_ms: float) -> str:
    p50, p90, p99, worst = run.percentiles()
    mark = "✅" if p99 <= target_ms and run.ok(status) == run.count else "❌"
    return (f"| {endpoint} | {run.rate:g} | {run.count} | {p50:.1f} | {p90:.1f} | "
            f"{p99:.1f} | {worst:.1f} | {run.count - run.ok(status)} | "
            f"p99 ≤ {target_ms:g} ms {mark} |")


def work_done(rank_runs: list[Run], incident_runs: list[Run]) -> list[str]:
    """What the requests did: responders ranked, alerts created per incident. Most
    incidents must have alerted someone, or the benchmark measured too little work."""
    lines = []
    for run in rank_runs:
        bodies = [r.json() for r in run.responses if r.status_code == 200] or [
            {"responders": [], "eligible_responders": 0}]
        ranked = np.array([len(b["responders"]) for b in bodies])
        eligible = np.array([b["eligible_responders"] for b in bodies])
        lines.append(f"ranking at {run.rate:g}/s: {eligible.mean():.1f} eligible responders "
                     f"within the budget and {ranked.mean():.1f} ranked per request on "
                     f"average, {np.mean(ranked > 0):.0%} with at least one")
    for run in incident_runs:
        bodies = [r.json()["incident"] for r in run.responses if r.status_code == 201] or [
            {"assignments": [], "timeline": []}]
        alerts = np.array([len(b["assignments"]) for b in bodies])
        events = np.array([len(b["timeline"]) for b in bodies])
        lines.append(f"incidents at {run.rate:g}/s: {alerts.mean():.2f} alerts per incident "
                     f"(max {alerts.max()}), {np.mean(alerts > 0):.0%} with at least one, "
                     f"{events.mean():.1f} timeline events each")
        if np.mean(alerts > 0) < 0.5:
            raise SystemExit(f"too few incidents alerted anyone: {lines[-1]}")
    return lines


def write(args: argparse.Namespace, city: BenchCity, *, area_km2: float, on_duty_s: float,
          fresh_s: float, rank_runs: list[Run], incident_runs: list[Run],
          left_open: int, locks: list[str]) -> None:
    rows = "\n".join([*(row("`POST /v1/dispatch/rank`", r, 200, RANK_TARGET_MS)
                        for r in rank_runs),
                      *(row("`POST /v1/incidents`", r, 201, INCIDENT_TARGET_MS)
                        for r in incident_runs)])
    work = "\n".join(f"- {line}" for line in [
        *work_done(rank_runs, incident_runs),
        f"incidents left open by the runs (close failed, or created after the client gave "
        f"up at 10 s), closed between runs: {left_open}", *locks])
    freshness = ("default freshness (RESCUE_LIVE_FRESH_S 120 s)" if fresh_s == DEFAULT_FRESH_S
                 else f"RESCUE_LIVE_FRESH_S raised to {fresh_s:g} s for runs this long")
    sweep = (f"escalation sweep on (every {args.escalation_interval:g} s)"
             if args.escalation_interval > 0 else
             "escalation sweep off (RESCUE_ESCALATION_INTERVAL_S=0)")
    from app.settings import Settings

    threads = args.worker_threads or Settings.model_fields["worker_threads"].default
    database, section, flag = ("SQLite + SpatiaLite", "bench_http_dispatch", "")
    if args.postgres:
        database, section, flag = ("PostgreSQL 15 + PostGIS 3 (same machine)",
                                   "bench_http_dispatch_postgis", " --postgres URL")
    if args.worker_threads is not None:
        section += f"_threads{args.worker_threads}"
        flag += f" --worker-threads {args.worker_threads}"
    if args.write_lock_probe:  # a server with the probe's timing: a section of its own
        section += "_lockprobe"
        flag += " --write-lock-probe"
    unit_place = ("ranking, creating and closing run their units of work in each worker's event "
                  "loop, not in those threads" if args.postgres is None else
                  "ranking, creating and closing run their units of work in those threads")
    markdown = f"""## HTTP ranking and incident creation on {database.split(' (')[0]} \
(`python bench/bench_http_dispatch.py{flag}`)

{machine()}. uvicorn (httptools) with {args.workers} worker process(es) on {database},
live state in Redis (`{REDIS_URL}`, shared by the workers); city =
Liechtenstein extract (11,304 nodes; © OpenStreetMap contributors) with its 148 real AEDs
plus {args.aeds:,} at random street positions (built in {city.build_s:.1f} s).
**Setup**: {args.volunteers:,} volunteers on duty at random street positions (uniform by
length; {args.volunteers / area_km2:.0f} per km² of the {area_km2:.0f} km² of
street-covered 100 m cells, between bench_dispatch's Tianjin-like 10 and dense 40; Tianjin
as a whole has ~1,800 on duty), all with a valid CPR certificate and {args.aed_share:.0%}
also AED-use, fixes set through `app.services.duty` ({on_duty_s:.1f} s for all) and
refreshed before each run; {freshness}; {sweep}; default dispatch settings (budget 240 s at
1.8 m/s, 7 alerts per incident, admission control), {threads} handler threads per worker
({unit_place}). A
dispatcher token scoped to the city. Open-loop load from a Python asyncio client (aiohttp on uvloop)
on the same 2 cores,
{args.seconds:g} s per rate, cardiac arrests at random street points; latency counted from
the scheduled send time. `POST /v1/incidents` answers after the incident, its first
alerts and their timeline events (what the notifiers read) are committed; each incident is
closed {args.hold:g} s later (untimed, same server, `Prefer: return=minimal`: the closed
incident is not sent back), so the server also takes that many closes per second.

| endpoint | requests/s | requests | p50 ms | p90 ms | p99 ms | max ms | errors | target |
|---|---|---|---|---|---|---|---|---|
{rows}

{work}
"""
    print(markdown)
    print(f"wrote {update_section(section, markdown)}")


if __name__ == "__main__":
    main()
