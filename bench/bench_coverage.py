"""Benchmark of whole-city coverage and AED placement (app.geo.coverage/placement).

    python bench/bench_coverage.py [--aeds 5000] [--baseline-aeds 200] [--sites 20]
                                   [--dense beijing_haidian_bupt_2025.osm.pbf] [--nodes N]

Three graphs of ~1 M nodes (`--nodes`), each a real extract read with `read_osm`, tiled
and stitched with bench/bench_network.py's `tile`, one after the other (only one is alive
at a time):

- Liechtenstein, compacted (nodes = junctions and way ends, as the service imports it);
  5 000 AEDs at random positions near random buildings of the tiled extract (fixed seed;
  AEDs stand where people are), snapped;
- dense Chinese urban, compacted: a real Beijing/Shanghai extract from
  ../shared/data/osm/china (default: BUPT campus, Haidian, the one whose 240 s searches
  reach the most nodes; all three are measured and reported); 5 000 AEDs at random
  street positions (uniform by length, fixed seed);
- the same Chinese extract uncompacted (`read_osm(compact=False)`: every way vertex a
  node, one edge per segment), i.e. the graph audit notebooks get from pyrosm/osmium
  without simplification; AEDs as on the compacted one.

On each graph:

- ours: one multi-source search + exact covered length of every edge (240 s at
  1.8 m/s); also the whole-network search that gives exact p50/p90 of nearest times;
- baseline, what audit notebooks do: one NetworkX `single_source_dijkstra_path_length
  (cutoff=...)` per AED, unioned (per-node minimum), then the covered length of every
  edge from the node times. It is timed on a random subset of AEDs and extrapolated
  linearly to all of them (the union step is per AED too; the final per-edge pass is
  timed once); its answers are checked against ours on the same subset, and the nodes
  each per-AED search reaches are counted (what the speed-up depends on); the faster
  of two baseline runs is kept;
- placement: 20 new AEDs by greedy maximal covering of the uncovered street length.
Results go to the "bench_coverage" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.geo.coverage import edge_coverage, length_summary, uncovered_stretches  # noqa: E402
from app.geo.osm_import import read_osm  # noqa: E402
from app.geo.placement import (  # noqa: E402
    Sites,
    least_valuable_sources,
    length_demand,
    place_sources,
    point_sites,
)
from app.geo.snap import snap_points  # noqa: E402
from bench.bench_network import (  # noqa: E402
    DATA,
    TARGET_NODES,
    near_buildings,
    networkx_graph,
    random_points_on_edges,
    tile,
    tile_points,
    tiling,
)
from bench.results_md import machine, update_section  # noqa: E402

BUDGET_S, SPEED_MPS = 240.0, 1.8
REPEATS = 7
CHINA = (ROOT / "../shared/data/osm/china").resolve()
# compact names of the Chinese extracts (osm.org exports, Shanghai: an OSMnx drive network)
CHINA_EXTRACTS = {
    "beijing_haidian_bupt_2025.osm.pbf": "Beijing Haidian, BUPT campus (osm.org export 2025)",
    "beijing_haidian_cau_2026.osm.pbf": "Beijing Haidian, CAU east campus (osm.org export 2026)",
    "shanghai_huangpu_osmnx_drive_2026.osm.pbf": "Shanghai Huangpu (OSMnx drive network 2026)",
}


def timed(fn, repeats: int = REPEATS) -> tuple[float, object]:
    """Median seconds over `repeats` calls (after one warm-up call) and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)), result


def edge_cover_from_nodes(net, node_m: np.ndarray, edges: np.ndarray,
                          offsets: np.ndarray, limit_m: float) -> np.ndarray:
    """The notebook's last step: covered metres per edge from the unioned node distances."""
    length = net.edge_length_m
    covered = np.minimum(length, np.maximum(0.0, limit_m - node_m[net.edge_u])
                         + np.maximum(0.0, limit_m - node_m[net.edge_v]))
    # AEDs inside an edge also cover around themselves
    on_edge: dict[int, list[tuple[float, float]]] = {}
    for e, off in zip(edges.tolist(), offsets.tolist(), strict=True):
        on_edge.setdefault(e, []).append((max(0.0, off - limit_m), min(length[e], off + limit_m)))
    for e, around in on_edge.items():
        a = min(length[e], max(0.0, limit_m - node_m[net.edge_u[e]]))
        b = max(0.0, length[e] - max(0.0, limit_m - node_m[net.edge_v[e]]))
        total, end = 0.0, 0.0
        for s, t in sorted([(0.0, a), (b, length[e]), *around]):
            if t > end:
                total += t - max(s, end)
                end = t
        covered[e] = min(length[e], total)
    return covered


def networkx_union(net, graph, edges: np.ndarray, offsets: np.ndarray,
                   limit_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per AED: NetworkX bounded Dijkstra from the AED's point, unioned by node minimum.

    Returns the unioned node metres, and per AED the nodes reached and the seconds taken.
    """
    import networkx as nx

    best = np.full(net.node_count, np.inf)
    reached = np.zeros(edges.shape[0], np.int64)
    seconds = np.zeros(edges.shape[0])
    for i, (e, off) in enumerate(zip(edges.tolist(), offsets.tolist(), strict=True)):
        started = time.perf_counter()
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        graph.add_edge(-1, u, w=off if u != v else min(off, length - off))
        if u != v:
            graph.add_edge(-1, v, w=length - off)
        try:
            dist = nx.single_source_dijkstra_path_length(graph, -1, cutoff=limit_m, weight="w")
        finally:
            graph.remove_node(-1)
        dist.pop(-1, None)
        nodes = np.fromiter(dist.keys(), np.int64, len(dist))
        meters = np.fromiter(dist.values(), float, len(dist))
        np.minimum.at(best, nodes, meters)
        seconds[i] = time.perf_counter() - started
        reached[i] = len(dist)
    return best, reached, seconds


def single_reach(net, count: int, rng: np.random.Generator) -> float:
    """Median nodes reached within the budget from one random street point (untiled graph)."""
    edges, offsets = random_points_on_edges(net, count, rng)
    reached = [int(np.isfinite(edge_coverage(net, edges[i:i + 1].astype(np.int64),
                                              offsets[i:i + 1], speed_mps=SPEED_MPS,
                                              budget_seconds=BUDGET_S,
                                              horizon_seconds=BUDGET_S).node_seconds).sum())
               for i in range(count)]
    return float(np.median(reached))


def run_graph(net, aed_e: np.ndarray, aed_o: np.ndarray, sites: Sites, args,
              uniform: bool) -> dict[str, object]:
    """Ours, the NetworkX per-AED union and placement on one graph."""
    out: dict[str, object] = {}
    n_aeds = int(aed_e.shape[0])
    limit_m = BUDGET_S * SPEED_MPS

    # ------------------------------------------------------------------ ours
    def cover(edges=aed_e, offsets=aed_o, horizon=BUDGET_S):
        return edge_coverage(net, edges, offsets, speed_mps=SPEED_MPS, budget_seconds=BUDGET_S,
                             horizon_seconds=horizon)

    ours_s, cov = timed(cover)
    full_s, full = timed(lambda: cover(horizon=None), repeats=3)
    summary_s, summary = timed(lambda: length_summary(full), repeats=3)
    gaps_s, gaps = timed(lambda: uncovered_stretches(full), repeats=3)
    assert np.array_equal(cov.covered_m, full.covered_m)
    out["ours"] = {"aeds": n_aeds, "coverage_s": ours_s, "full_search_s": full_s,
                   "summary_s": summary_s, "stretches_s": gaps_s, "gaps": len(gaps),
                   "share": cov.share, "covered_km": cov.covered_length_m / 1000,
                   "p50_s": float(summary.p50_seconds[0]), "p90_s": float(summary.p90_seconds[0]),
                   "nodes_reached": int(np.isfinite(cov.node_seconds).sum())}
    del gaps
    if uniform:
        uni_e, uni_o = random_points_on_edges(net, args.aeds, np.random.default_rng(7))
        uniform_s, uni = timed(lambda: cover(uni_e.astype(np.int64), uni_o))
        out["ours"] |= {"uniform_s": uniform_s, "uniform_share": uni.share}
        del uni
    print("  ours", out["ours"], flush=True)

    # ------------------------------------------------------------------ baseline
    started = time.perf_counter()
    graph = networkx_graph(net)
    nx_build = time.perf_counter() - started
    n_sub = min(args.baseline_aeds, n_aeds)
    subset = np.sort(np.random.default_rng(3).choice(n_aeds, n_sub, replace=False))
    sub_e, sub_o = aed_e[subset], aed_o[subset]
    nx_search = np.inf
    for _ in range(2):  # the faster of two runs (in favour of the baseline)
        started = time.perf_counter()
        best, reached_per_aed, seconds = networkx_union(net, graph, sub_e, sub_o, limit_m)
        elapsed = time.perf_counter() - started
        if elapsed < nx_search:
            nx_search, per_aed_s = elapsed, seconds
    del graph
    gc.collect()
    started = time.perf_counter()
    nx_covered = edge_cover_from_nodes(net, best, sub_e, sub_o, limit_m)
    nx_edges = time.perf_counter() - started
    check = cover(sub_e, sub_o)
    reached = np.isfinite(best)
    assert np.array_equal(reached, np.isfinite(check.node_seconds))
    assert np.allclose(best[reached] / SPEED_MPS, check.node_seconds[reached], atol=1e-6)
    assert np.allclose(nx_covered, check.covered_m, atol=1e-6)
    per_aed = nx_search / n_sub
    extrapolated = per_aed * n_aeds + nx_edges
    # per-AED cost model: seconds = fixed + per_node * nodes reached (least squares)
    per_node, fixed = np.polyfit(reached_per_aed.astype(float), per_aed_s, 1)
    out["networkx"] = {"aeds_timed": n_sub, "per_aed_ms": per_aed * 1000,
                       "edge_pass_s": nx_edges, "total_s": extrapolated, "graph_build_s": nx_build,
                       "reach_median": float(np.median(reached_per_aed)),
                       "reach_p90": float(np.percentile(reached_per_aed, 90)),
                       "fixed_us": fixed * 1e6, "per_node_us": per_node * 1e6}
    print("  networkx", out["networkx"], flush=True)

    # ------------------------------------------------------------------ placement
    started = time.perf_counter()
    demand = length_demand(cov, step_m=25.0)
    demand_s = time.perf_counter() - started
    demand_points = len(demand)
    started = time.perf_counter()
    placement = place_sources(net, demand, count=args.sites, speed_mps=SPEED_MPS,
                              budget_seconds=BUDGET_S, max_candidates=args.max_candidates)
    place_s = time.perf_counter() - started
    new_e = np.concatenate((aed_e, placement.sites.edge_id))
    new_o = np.concatenate((aed_o, placement.sites.offset_m))
    after = cover(new_e, new_o)
    del demand
    started = time.perf_counter()
    values = least_valuable_sources(net, sites, length_demand(cov, covered=True, step_m=25.0),
                                    speed_mps=SPEED_MPS, budget_seconds=BUDGET_S)
    values_s = time.perf_counter() - started
    out["placement"] = {
        "sites": len(placement.gain), "demand_points": demand_points, "demand_s": demand_s,
        "candidates": placement.candidates_considered, "seconds": place_s,
        "gain_km": placement.covered_gain / 1000,
        "first_gain_m": float(placement.gain[0]), "last_gain_m": float(placement.gain[-1]),
        "exact_gain_km": (after.covered_length_m - cov.covered_length_m) / 1000,
        "values_s": values_s,
        "zero_unique": int(np.sum(values.unique_weight == 0)),
    }
    print("  placement", out["placement"], flush=True)
    return out


def graph_info(base, net, build_s: float, target_nodes: int) -> dict[str, object]:
    copies, _, width, height = tiling(base, target_nodes)
    return {"km_per_km2": net.total_length_m * 1000 / (copies * width * height),
            "base_nodes": base.node_count, "base_edges": base.edge_count,
            "base_km": base.total_length_m / 1000,
            "nodes": net.node_count, "edges": net.edge_count,
            "km": net.total_length_m / 1000, "build_s": build_s,
            "nodes_per_km": net.node_count / (net.total_length_m / 1000),
            "base_nodes_per_km": base.node_count / (base.total_length_m / 1000),
            "copies": copies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeds", type=int, default=5000)
    parser.add_argument("--baseline-aeds", type=int, default=200)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--max-candidates", type=int, default=20_000)
    parser.add_argument("--dense", default="beijing_haidian_bupt_2025.osm.pbf",
                        choices=sorted(CHINA_EXTRACTS))
    parser.add_argument("--nodes", type=int, default=TARGET_NODES,
                        help="tile each graph to about this many nodes (smaller: a quick check)")
    args = parser.parse_args()
    for path in (DATA, CHINA / args.dense):
        if not path.exists():
            sys.exit(f"missing {path} (see shared/data/README.md)")
    out: dict[str, object] = {"machine": machine(), "dense": args.dense}

    # ------------------------------------------------ Liechtenstein, AEDs near buildings
    print("liechtenstein", flush=True)
    rng = np.random.default_rng(2025)
    extract = read_osm(DATA)
    base = extract.network
    started = time.perf_counter()
    net = tile(base, args.nodes)
    info = graph_info(base, net, time.perf_counter() - started, args.nodes)
    print("  graph", info, flush=True)
    blon, blat = tile_points(base, extract.buildings.lon, extract.buildings.lat, args.nodes)
    lon, lat = near_buildings(net, blon, blat, args.aeds, rng)
    del blon, blat, extract
    snapped = snap_points(net, lon, lat)
    aed_e = snapped.edge_id[snapped.ok].astype(np.int64)
    aed_o = snapped.offset_m[snapped.ok]
    sites = point_sites(snapped, speed_mps=SPEED_MPS)
    out["liechtenstein"] = {"graph": info} | run_graph(net, aed_e, aed_o, sites, args,
                                                       uniform=True)
    del net, snapped, sites, aed_e, aed_o
    gc.collect()

    # ------------------------------------------------ dense Chinese extract, uniform AEDs
    out["china_reach"] = {
        name: {key: single_reach(read_osm(CHINA / name, with_buildings=False,
                                          compact=compact).network,
                                 200, np.random.default_rng(11))
               for key, compact in (("compacted", True), ("uncompacted", False))}
        for name in sorted(CHINA_EXTRACTS) if (CHINA / name).exists()}
    print("china single-search reach (untiled)", out["china_reach"], flush=True)
    for key, compact in (("dense_graph", True), ("dense_uncompacted", False)):
        print("dense", args.dense, "compacted" if compact else "uncompacted", flush=True)
        out[key] = run_dense(args, compact=compact)
        gc.collect()
    write_results(out)


def run_dense(args, *, compact: bool) -> dict[str, object]:
    """The dense Chinese extract (compacted or not) tiled, with AEDs uniform by length."""
    base = read_osm(CHINA / args.dense, with_buildings=False, compact=compact).network
    started = time.perf_counter()
    net = tile(base, args.nodes)
    info = graph_info(base, net, time.perf_counter() - started, args.nodes)
    print("  graph", info, flush=True)
    edges, offsets = random_points_on_edges(net, args.aeds, np.random.default_rng(2026))
    aed_e = edges.astype(np.int64)
    ex, ey = edge_point_xy(net, aed_e, offsets)
    lon, lat = net.to_lonlat(ex, ey)
    sites = Sites(aed_e, offsets, np.zeros(aed_e.shape[0]), lon, lat)
    return {"graph": info} | run_graph(net, aed_e, offsets, sites, args, uniform=False)


def edge_point_xy(net, edges: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projected position of points on edges (straight between the end nodes; labels only)."""
    f = np.where(net.edge_length_m[edges] > 0, offsets / np.maximum(net.edge_length_m[edges],
                                                                     1e-9), 0.0)
    u, v = net.edge_u[edges], net.edge_v[edges]
    return (net.node_x[u] + f * (net.node_x[v] - net.node_x[u]),
            net.node_y[u] + f * (net.node_y[v] - net.node_y[u]))


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def write_results(out: dict) -> None:
    graphs = {"Liechtenstein": out["liechtenstein"], "dense": out["dense_graph"],
              "uncompacted": out["dense_uncompacted"]}
    dense_name = CHINA_EXTRACTS[out["dense"]].split(" (")[0]
    label = {"Liechtenstein": "Liechtenstein tiled",
             "dense": f"{dense_name} tiled (dense urban)",
             "uncompacted": f"{dense_name} tiled, uncompacted"}
    for r in graphs.values():
        r["speedup"] = r["networkx"]["total_s"] / r["ours"]["coverage_s"]
        r["speedup_full"] = r["networkx"]["total_s"] / r["ours"]["full_search_s"]

    def row(title: str, fn) -> str:
        return f"| {title} | " + " | ".join(fn(r) for r in graphs.values()) + " |"

    li, de, un = graphs["Liechtenstein"], graphs["dense"], graphs["uncompacted"]
    lines = [
        "## Whole-city coverage and AED placement (`python bench/bench_coverage.py`)",
        "",
        f"{out['machine']}. Data: Liechtenstein extract 2024-03-04 and "
        f"{CHINA_EXTRACTS[out['dense']]}, `{out['dense']}` (© OpenStreetMap contributors, "
        "ODbL).",
        "",
        "Each graph is a real extract read with `read_osm`, tiled in projected space and "
        "stitched at the borders (`bench_network.tile`) to ~1 M nodes; one graph is in "
        "memory at a time. The first two are **compacted** as the service imports them "
        "(nodes are junctions and way ends; edges keep their polylines); the third is the "
        "same Chinese extract **uncompacted** (`read_osm(compact=False)`: every OSM way "
        "vertex a node, one edge per segment, as audit notebooks get it from pyrosm/osmium "
        "without simplification; same streets, same lengths). "
        f"{li['ours']['aeds']:,} / {de['ours']['aeds']:,} / {un['ours']['aeds']:,} AEDs, "
        f"budget {BUDGET_S:.0f} s at {SPEED_MPS} m/s; ours and the baseline run on the same "
        "graph with the same AEDs. Whole-city coverage = node times + exact covered length "
        "of every edge.",
        "",
        "| | " + " | ".join(label.values()) + " |",
        "|---|" + "---|" * len(graphs),
        row("extract → copies", lambda r: f"{r['graph']['base_nodes']:,} nodes, "
            f"{r['graph']['base_km']:,.0f} km → {r['graph']['copies']:,}×"),
        row("**tiled graph**", lambda r: f"{r['graph']['nodes']:,} nodes, "
            f"{r['graph']['edges']:,} edges, {r['graph']['km']:,.0f} km"),
        row("nodes per km of street in the extract (in the tiled graph, with its "
            "stitching links); street length per km² of a tile (its extract's box + the "
            "150 m gap)", lambda r: f"{r['graph']['base_nodes_per_km']:.1f} "
            f"({r['graph']['nodes_per_km']:.1f}); {r['graph']['km_per_km2']:.1f} km"),
        "| AEDs (fixed seed) | at random positions near random buildings, snapped | "
        "at random street positions (uniform by length) | the same recipe |",
        row("**nodes reached per per-AED 240 s search**, median (p90) — NetworkX, timed "
            "subset", lambda r: f"**{r['networkx']['reach_median']:.0f}** "
            f"({r['networkx']['reach_p90']:.0f})"),
        row("nodes within the budget of some AED; covered length",
            lambda r: f"{r['ours']['nodes_reached']:,}; {r['ours']['covered_km']:,.0f} km "
            f"({r['ours']['share']:.1%})"),
        row(f"**ours, fast**: `edge_coverage(horizon_seconds=budget)`, one multi-source "
            f"search (median of {REPEATS})", lambda r: f"**{r['ours']['coverage_s']:.3f} s**"),
        row("ours, exact whole network: `horizon_seconds=None` (median of 3); exact "
            "length-weighted p50 / p90", lambda r: f"{r['ours']['full_search_s']:.3f} s; "
            f"{r['ours']['p50_s']:.0f} s / {r['ours']['p90_s']:.0f} s"),
        row("NetworkX `single_source_dijkstra_path_length(cutoff=...)` per AED, unioned "
            "(node minimum) + per-edge pass: **AEDs timed on a random subset, extrapolated "
            "linearly** to all AEDs (faster of 2 runs)",
            lambda r: f"{r['networkx']['total_s']:.2f} s ({r['networkx']['aeds_timed']} "
            f"timed, {r['networkx']['per_aed_ms']:.3f} ms per AED; edge pass "
            f"{r['networkx']['edge_pass_s']:.3f} s)"),
        row("NetworkX per-AED cost, least-squares fit",
            lambda r: f"{r['networkx']['fixed_us']:.0f} µs + "
            f"{r['networkx']['per_node_us']:.2f} µs per node reached"),
        row("**speed-up** of ours (fast; exact whole-network mode)",
            lambda r: f"**{r['speedup']:.0f}×** ({r['speedup_full']:.1f}×)"),
        row("target ours ≤ 1 s", lambda r: _mark(r["ours"]["coverage_s"] <= 1.0)),
        row("target ≥ 50× faster than the baseline", lambda r: _mark(r["speedup"] >= 50)),
        row(f"**placement** of {li['placement']['sites']} new AEDs (target ≤ 30 s)",
            lambda r: f"**{r['placement']['seconds']:.1f} s** "
            f"{_mark(r['placement']['seconds'] <= 30)}"),
        "",
    ]
    reach = out["china_reach"]
    fit = un["networkx"]
    issue_nodes = (21.0 / 5000 * 1e6 - fit["fixed_us"]) / fit["per_node_us"]
    compacted_met = [label[k] for k in ("Liechtenstein", "dense")
                     if graphs[k]["speedup"] >= 50]
    lines += [
        "The baseline's node times and covered lengths equal ours on each timed subset "
        "(checked to 1e-6). NetworkX graph build (not timed above): "
        + " / ".join(f"{r['networkx']['graph_build_s']:.0f} s" for r in graphs.values())
        + ".",
        "",
        "**What the speed-up depends on.** Each NetworkX search costs a fixed overhead "
        "plus a per-node cost (fit above), so the baseline grows with the nodes one "
        "240 s search reaches; ours is one multi-source search over the nodes within the "
        "budget of some AED plus one pass over all edges, whatever the AEDs' overlap. "
        "On the compacted graphs (the service's own) a node is a junction or way end, so "
        f"{BUDGET_S * SPEED_MPS:.0f} m of walking reaches few nodes (median "
        f"{li['networkx']['reach_median']:.0f} in tiled Liechtenstein, "
        f"{de['networkx']['reach_median']:.0f} in the dense Chinese graph), each per-AED "
        f"search costs only {li['networkx']['per_aed_ms'] * 1000:.0f} / "
        f"{de['networkx']['per_aed_ms'] * 1000:.0f} µs, and ours is "
        f"{li['speedup']:.0f}× / {de['speedup']:.0f}× faster: "
        + ("**the ≥ 50× target is missed on both compacted graphs**" if not compacted_met
           else "the ≥ 50× target holds on " + " and ".join(compacted_met)
           + (" only" if len(compacted_met) == 1 else ""))
        + ". Uncompacted, the same streets carry "
        f"{un['graph']['base_nodes_per_km']:.1f} nodes per km instead of "
        f"{de['graph']['base_nodes_per_km']:.1f}, a per-AED search reaches a median of "
        f"{un['networkx']['reach_median']:.0f} nodes, the baseline takes "
        f"{un['networkx']['total_s']:.2f} s and ours {un['ours']['coverage_s']:.3f} s "
        f"(on the compacted graph of the same extract: {de['ours']['coverage_s']:.3f} s): "
        f"**{un['speedup']:.0f}×**, "
        + ("so **the ≥ 50× target holds on the uncompacted graph**" if un["speedup"] >= 50
           else "so **the ≥ 50× target is missed on the uncompacted graph too**")
        + ". Ours stays within 1 s on "
        + ("every graph" if all(r["ours"]["coverage_s"] <= 1.0 for r in graphs.values())
           else "only some graphs (see the table)") + ".",
        "",
        "The issue's reference (one multi-source search over 900 k nodes ≈ 0.3 s, per-AED "
        "NetworkX union ≈ 21 s, i.e. 4.2 ms per AED) corresponds, with the per-AED cost "
        f"fitted on the uncompacted graph on this machine, to about {issue_nodes:,.0f} "
        "nodes per search"
        + (": more than any graph here gives. " if issue_nodes > un["networkx"]["reach_median"]
           else ". ")
        + "Median nodes reached by one 240 s search from a random street point on each "
        "untiled Chinese extract, compacted / uncompacted: "
        + ", ".join(f"{CHINA_EXTRACTS[k].split(' (')[0]} {v['compacted']:.0f} / "
                    f"{v['uncompacted']:.0f}" for k, v in reach.items())
        + f" (the one tiled above, {dense_name}, reaches the most).",
        "",
        "How ours stays fast: the search is FIFO label correcting (exact; ties to the "
        "lower AED index), memory-bound, so it is kept local — seeds sorted by node id, "
        "and for a bounded search fed 256 at a time, each batch's search finishing before "
        "the next starts (batching stops by itself when batches overlap much, e.g. dense "
        "seeds or long horizons); covered lengths come from one tight pass over the edges "
        "without AEDs plus the few with AEDs. The networks' node order (by OSM id, within "
        "each tile here) is kept: renumbering the uncompacted graph by reverse "
        "Cuthill-McKee made the search slower when tried (not measured in this run).",
        "",
        f"Liechtenstein extras: {li['ours']['gaps']:,} uncovered stretches in "
        f"{li['ours']['stretches_s']:.3f} s, p50/p90 in {li['ours']['summary_s']:.3f} s; "
        f"with the AEDs spread uniformly by street length instead: "
        f"{li['ours']['uniform_s']:.3f} s ({li['ours']['uniform_share']:.1%} covered). "
        "Dense graph, compacted / uncompacted: "
        f"{de['ours']['gaps']:,} / {un['ours']['gaps']:,} uncovered stretches in "
        f"{de['ours']['stretches_s']:.3f} s / {un['ours']['stretches_s']:.3f} s, p50/p90 in "
        f"{de['ours']['summary_s']:.3f} s / {un['ours']['summary_s']:.3f} s.",
        "",
    ]
    for name, r in graphs.items():
        p = r["placement"]
        lines.append(
            f"**Placement, {label[name]}**: {p['sites']} new AEDs (greedy maximal covering, "
            f"CELF) over the uncovered length cut into ≤ 25 m pieces "
            f"({p['demand_points']:,} demand points, built in {p['demand_s']:.2f} s), "
            f"candidates: {p['candidates']:,} nodes sampled among those within the budget of "
            f"a gap: **{p['seconds']:.1f} s**. Predicted gain {p['gain_km']:.1f} km (first "
            f"site {p['first_gain_m']:.0f} m, last {p['last_gain_m']:.0f} m); exact coverage "
            f"after adding them grows by {p['exact_gain_km']:.1f} km. Unique coverage of the "
            f"{r['ours']['aeds']:,} existing AEDs (least valuable first): "
            f"{p['values_s']:.1f} s; {p['zero_unique']} cover nothing that another AED does "
            "not.")
        lines.append("")
    path = update_section("bench_coverage", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
