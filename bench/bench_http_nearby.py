"""HTTP benchmark: `GET /v1/equipment/nearby` at a fixed arrival rate.

Builds a real city in a temporary directory (the Liechtenstein extract with its 148 real
AEDs, plus 5 000 AEDs placed at random street positions, on SQLite + SpatiaLite), serves
it with uvicorn (two worker processes by default, one per core), and sends requests on
an open-loop schedule (50 and 100 requests/s, 20 s each, from random street points of
the main component) so that
latency is measured as a caller sees it, queueing included. Writes its section of
bench/RESULTS.md. Target: p99 <= 20 ms at 100 requests/s.

    python bench/bench_http_nearby.py [--rates 50,100] [--seconds 20] [--aeds 5000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_harness import Answer, LoadClient, build_city, measure, parse_rates, serve
from bench.results_md import machine, update_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="50,100", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--aeds", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2,
                        help="uvicorn worker processes (one per core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        city = build_city(Path(tmp), extra_aeds=args.aeds)
        probes = city.probes

        def nearby(client: LoadClient, i: int) -> Awaitable[Answer]:
            lon, lat = probes[i % len(probes)]
            return client.get("/v1/equipment/nearby",
                              params={"lon": lon, "lat": lat, "minutes": 4})

        with serve(city.env, workers=args.workers) as base:
            runs = measure(base, nearby, label="GET /v1/equipment/nearby",
                           rates=parse_rates(args.rates), seconds=args.seconds)
    table = []
    for run in runs:
        p50, p90, p99, worst = run.percentiles()
        ok = run.ok(200)
        table.append(f"| {run.rate:g} | {run.count} | {ok} | {run.count - ok} | "
                     f"{p50:.1f} | {p90:.1f} | {p99:.1f} | {worst:.1f} |")
    rows = "\n".join(table)
    markdown = f"""## HTTP `GET /v1/equipment/nearby` (`python bench/bench_http_nearby.py`)

{machine()}. uvicorn (httptools) with {args.workers} worker process(es) on SQLite +
SpatiaLite; city = Liechtenstein extract
(11,304 nodes; © OpenStreetMap contributors) with its 148 real AEDs plus {args.aeds:,} AEDs
at random street positions (built in {city.build_s:.1f} s), default settings (4 handler
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
