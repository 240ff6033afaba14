"""Server CPU per request of two revisions, measured side by side: the only fair comparison
on a VM whose speed swings by a factor of two within minutes.

bench_request_cpu.py measures one revision; two of its runs minutes apart differ by more
than most changes do. Here both revisions serve at once, one uvicorn worker each, on copies
of one city database (bench_http_dispatch's city, volunteers and fixes, SQLite +
SpatiaLite, live state in Redis), and their requests alternate (A, B, B, A, ...), so a
slow minute slows both alike. Each revision's server CPU (user + system, from /proc) is
summed over its own requests of each kind.

The other revision needs a work tree of its own, e.g.
``git worktree add /tmp/base <rev>`` (it uses this project's environment: the same
packages). Writes its section of bench/RESULTS.md.

    python bench/ab_request_cpu.py /tmp/base . [--requests 150] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
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
from bench.bench_request_cpu import server_cpu_s, server_pid
from bench.http_harness import build_city, serve
from bench.results_md import machine, update_section

LABELS = ("`GET /healthz`", "`POST /v1/dispatch/rank`", "`POST /v1/incidents`",
          "`POST /v1/incidents/{id}/close`")


def revision(tree: Path) -> str:
    commit = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h"],
                            capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "app"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return f"`{commit}`" + (" with uncommitted changes to app/" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree_a", type=Path, help="work tree of the base revision")
    parser.add_argument("tree_b", type=Path, help="work tree of the revision compared to it")
    parser.add_argument("--requests", type=int, default=150, help="per kind, round and tree")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    trees = [args.tree_a.resolve(), args.tree_b.resolve()]

    import redis

    from app.live import open_live_state
    from app.settings import Settings

    redis.Redis.from_url(REDIS_URL).flushdb()
    live = open_live_state(REDIS_URL, policy=Settings(live_fresh_s=900).live_policy())
    cpu_ms: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        city = build_city(Path(tmp), extra_aeds=5000)
        ids, lon, lat = add_volunteers(city, 3000, aed_share=0.6)
        go_on_duty(city, live, ids, lon, lat, report_only=False)
        layout = street_layout(city.city.network, 4000, city.rng)
        points = np.column_stack([layout.lon, layout.lat])
        database = city.env["RESCUE_DATABASE_URL"].removeprefix("sqlite:///")
        headers = {"Authorization": f"Bearer {dispatcher_token(city)}"}
        served = []
        for k, tree in enumerate(trees):
            copy = f"{database}.{k}"
            for suffix in ("", "-wal", "-shm"):  # the database is in WAL mode
                if os.path.exists(database + suffix):
                    shutil.copy(database + suffix, copy + suffix)
            base = stack.enter_context(serve({
                **city.env, "RESCUE_DATABASE_URL": f"sqlite:///{copy}",
                "RESCUE_REDIS_URL": REDIS_URL, "RESCUE_LIVE_FRESH_S": "900",
                "RESCUE_ESCALATION_INTERVAL_S": "0"}, workers=1, tree=tree))
            served.append((stack.enter_context(httpx.Client(base_url=base, headers=headers)),
                           server_pid(base)))
        clients = [client for client, _ in served]

        def alternate(label: str, send: Callable[[int, int], httpx.Response]
                      ) -> list[list[httpx.Response]]:
            answers: list[list[httpx.Response]] = [[], []]
            used = [0.0, 0.0]
            for i in range(args.requests):
                for k in (0, 1) if i % 2 == 0 else (1, 0):
                    pid = served[k][1]
                    before = server_cpu_s(pid)
                    answers[k].append(send(k, i))
                    used[k] += server_cpu_s(pid) - before
            for k in (0, 1):
                cpu_ms.setdefault((label, k), []).append(1000 * used[k] / args.requests)
            return answers

        def rank(k: int, i: int) -> httpx.Response:
            return clients[k].post("/v1/dispatch/rank",
                                   json={"location": location(points, i), "kind": KIND})

        for i in range(30):  # warm-up: caches, compiled kernels, connections
            rank(0, i), rank(1, i)
        for round_ in range(args.rounds):
            offset = 2000 + round_ * args.requests
            alternate(LABELS[0], lambda k, i: clients[k].get("/healthz"))
            alternate(LABELS[1], rank)
            created = alternate(LABELS[2], lambda k, i, offset=offset: clients[k].post(
                "/v1/incidents", json={"location": location(points, offset + i),
                                       "kind": KIND, "address": "[BENCH]"}))
            if any(r.status_code != 201 for answers in created for r in answers):
                raise SystemExit("some incidents were not created")
            incident_ids = [[r.json()["incident"]["id"] for r in answers] for answers in created]
            alternate(LABELS[3], lambda k, i, ids=incident_ids: clients[k].post(
                f"/v1/incidents/{ids[k][i]}/close", json={"outcome": "false_alarm"}))
    live.close()

    def cell(label: str, k: int) -> str:
        return f"{float(np.median(cpu_ms[(label, k)])):.2f}"

    table = "\n".join(
        f"| {label} | {cell(label, 0)} | {cell(label, 1)} | "
        f"{np.median(cpu_ms[(label, 1)]) / np.median(cpu_ms[(label, 0)]):.2f} |"
        for label in LABELS)
    markdown = f"""## Server CPU per request, two revisions side by side \
(`python bench/ab_request_cpu.py A B`)

{machine()}. A = {revision(trees[0])}, B = {revision(trees[1])}.
Both serve at once (one uvicorn worker each) copies of one city database: the city,
volunteers and fixes of bench_http_dispatch (3,000 on duty, SQLite + SpatiaLite, live state
in Redis); their requests alternate, one at a time, so the VM's changing speed hits both
alike. {args.rounds} rounds of {args.requests} requests of each kind per revision; server
CPU per request (user + system, from /proc), median of the rounds. Closing (with the
closed incident in the answer) closes the incidents created just before.

| request | A, CPU ms | B, CPU ms | B / A |
|---|---|---|---|
{table}
"""
    print(markdown)
    print(f"wrote {update_section('ab_request_cpu', markdown)}")


if __name__ == "__main__":
    main()
