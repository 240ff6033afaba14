"""Server CPU per request, one request at a time: what each dispatch request costs.

The HTTP benchmark (bench_http_dispatch.py) measures latency under load; this one explains
it. It builds the same city (bench_http_dispatch's volunteers and fixes), serves it with
one uvicorn worker, sends requests one after another and reads the server's CPU time
(user + system, from /proc) before and after each batch:

* `GET /healthz` (the HTTP stack alone), `POST /v1/dispatch/rank`;
* `POST /v1/incidents`, then `POST /v1/incidents/{id}/close` for each incident created
  (half of them with `Prefer: return=minimal`: no body back).

Writes its section of bench/RESULTS.md.

    python bench/bench_request_cpu.py [--requests 200] [--rounds 5] [--volunteers 3000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_dispatch import street_layout
from bench.bench_http_dispatch import (
    KIND,
    REDIS_URL,
    add_volunteers,
    dispatcher_token,
    go_on_duty,
    location,
)
from bench.http_harness import build_city, serve
from bench.results_md import machine, update_section


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200,
                        help="per kind of request and round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of all kinds; the table gives the best and the median")
    parser.add_argument("--volunteers", type=int, default=3000)
    parser.add_argument("--aeds", type=int, default=5000)
    args = parser.parse_args()

    import redis

    from app.live import open_live_state
    from app.settings import Settings

    redis.Redis.from_url(REDIS_URL).flushdb()
    live = open_live_state(REDIS_URL, policy=Settings(live_fresh_s=900).live_policy())
    with tempfile.TemporaryDirectory() as tmp:
        city = build_city(Path(tmp), extra_aeds=args.aeds)
        ids, lon, lat = add_volunteers(city, args.volunteers, aed_share=0.6)
        go_on_duty(city, live, ids, lon, lat, report_only=False)
        layout = street_layout(city.city.network, 4000, city.rng)
        points = np.column_stack([layout.lon, layout.lat])
        env = {**city.env, "RESCUE_REDIS_URL": REDIS_URL, "RESCUE_LIVE_FRESH_S": "900",
               "RESCUE_ESCALATION_INTERVAL_S": "0"}
        headers = {"Authorization": f"Bearer {dispatcher_token(city)}"}
        with serve(env, workers=1) as base, httpx.Client(base_url=base,
                                                          headers=headers) as client:
            pid = server_pid(base)

            cpu_ms: dict[str, list[float]] = {}
            wall_ms: dict[str, list[float]] = {}

            def batch(label: str, send, count: int = args.requests) -> list[httpx.Response]:
                cpu, wall = server_cpu_s(pid), time.perf_counter()
                answers = [send(i) for i in range(count)]
                cpu_ms.setdefault(label, []).append(1000 * (server_cpu_s(pid) - cpu) / count)
                wall_ms.setdefault(label, []).append(
                    1000 * (time.perf_counter() - wall) / count)
                return answers

            def rank(i: int) -> httpx.Response:
                return client.post("/v1/dispatch/rank",
                                   json={"location": location(points, i), "kind": KIND})

            for i in range(30):  # warm-up: caches, compiled kernels, connections
                rank(i)
            for round_ in range(args.rounds):
                offset = 2000 + round_ * args.requests
                batch("`GET /healthz`", lambda i: client.get("/healthz"))
                batch("`POST /v1/dispatch/rank`", rank)
                created = batch("`POST /v1/incidents`", lambda i, offset=offset: client.post(
                    "/v1/incidents", json={"location": location(points, offset + i),
                                           "kind": KIND, "address": "[BENCH]"}))
                incident_ids = [r.json()["incident"]["id"] for r in created
                                if r.status_code == 201]
                if len(incident_ids) != args.requests:
                    raise SystemExit("some incidents were not created")
                half = args.requests // 2
                batch("`POST /v1/incidents/{id}/close`",
                      lambda i, ids=incident_ids: client.post(
                          f"/v1/incidents/{ids[i]}/close", json={"outcome": "false_alarm"}),
                      half)
                batch("`POST /v1/incidents/{id}/close`, `Prefer: return=minimal`",
                      lambda i, ids=incident_ids[half:]: client.post(
                          f"/v1/incidents/{ids[i]}/close", json={"outcome": "false_alarm"},
                          headers={"Prefer": "return=minimal"}), half)
    live.close()
    table = "\n".join(
        f"| {label} | {min(cpu_ms[label]):.2f} | {float(np.median(cpu_ms[label])):.2f} "
        f"| {min(wall_ms[label]):.2f} |" for label in cpu_ms)
    markdown = f"""## Server CPU per request (`python bench/bench_request_cpu.py`)

{machine()}. The city, volunteers and fixes of bench_http_dispatch ({args.volunteers:,} on
duty, SQLite + SpatiaLite, live state in Redis), one uvicorn worker; {args.rounds} rounds
of {args.requests} requests of each kind sent one after another; server CPU (user + system,
from /proc) and wall time per request, the best round and the median round (this VM's
speed varies from minute to minute). Closing closes the incidents created just before
(half of them each way).

| request | server CPU ms, best | server CPU ms, median | wall ms, best |
|---|---|---|---|
{table}
"""
    print(markdown)
    print(f"wrote {update_section('bench_request_cpu', markdown)}")


def server_pid(base: str) -> int:
    """The uvicorn process serving ``base`` (its port is unique to this run)."""
    port = base.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"uvicorn" in cmdline and port.encode() in cmdline:
                return int(entry.name)
    raise SystemExit("cannot find the server process")


if __name__ == "__main__":
    main()
