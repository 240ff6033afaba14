"""Benchmark of the walking-network engine (app.geo) against baselines, in one run.

    python bench/bench_network.py [--incidents 1000] [--baseline-incidents 200]

Tiles the Liechtenstein extract (../shared/data, © OpenStreetMap contributors, ODbL)
into a ~1 M-node graph and measures, per incident: snap + bounded 240 s search at
1.8 m/s + walking times of 30 000 responders and 5 000 AEDs + ranking; the same with
NetworkX `single_source_dijkstra_path_length(cutoff=...)` and with SciPy's compiled
`csgraph.dijkstra(limit=...)`; isochrones for 4 budgets; the import time of the
extract; and the memory of the 1 M-node network in a fresh process. Results go to a
section of bench/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.geo.isochrone import isochrones  # noqa: E402
from app.geo.network import WalkingNetwork  # noqa: E402
from app.geo.osm_import import read_osm  # noqa: E402
from app.geo.search import bounded_search, times_to_points  # noqa: E402
from app.geo.snap import snap_point, snap_points  # noqa: E402
from bench.results_md import machine, update_section  # noqa: E402

DATA = (ROOT / "../shared/data/osm/aed/liechtenstein_2024-03-04.osm.pbf").resolve()
BUDGET_S, SPEED_MPS = 240.0, 1.8
N_RESPONDERS, N_AEDS = 30_000, 5_000
TARGET_NODES = 1_000_000
GAP_M, LINKS_PER_BORDER = 150.0, 6


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


# ---------------------------------------------------------------------- tiled graph
def tiling(base: WalkingNetwork, target_nodes: int) -> tuple[int, int, float, float]:
    """(copies, columns, width, height) of the tile grid."""
    copies = int(np.ceil(target_nodes / base.node_count))
    cols = int(np.ceil(np.sqrt(copies)))
    width = float(base.geom_x.max() - base.geom_x.min()) + GAP_M
    height = float(base.geom_y.max() - base.geom_y.min()) + GAP_M
    return copies, cols, width, height


def tile_points(base: WalkingNetwork, lon: np.ndarray, lat: np.ndarray,
                target_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The same points in every copy of the tiled network."""
    copies, cols, width, height = tiling(base, target_nodes)
    x, y = base.to_xy(lon, lat)
    k = np.arange(copies)
    tx = (x[None, :] + (k % cols * width)[:, None]).ravel()
    ty = (y[None, :] + (k // cols * height)[:, None]).ravel()
    return base.to_lonlat(tx, ty)


def tile(base: WalkingNetwork, target_nodes: int) -> WalkingNetwork:
    """Copies of `base` on a grid in projected space, stitched at every shared border."""
    copies, cols, width, height = tiling(base, target_nodes)
    gx = base.geom_x.astype(np.float64)
    gy = base.geom_y.astype(np.float64)
    n, e, p = base.node_count, base.edge_count, gx.shape[0]
    main = np.flatnonzero(base.node_in_main)
    east = main[np.argsort(base.node_x[main])[-LINKS_PER_BORDER:]]
    west = main[np.argsort(base.node_x[main])[:LINKS_PER_BORDER]]
    north = main[np.argsort(base.node_y[main])[-LINKS_PER_BORDER:]]
    south = main[np.argsort(base.node_y[main])[:LINKS_PER_BORDER]]
    east, west = east[np.argsort(base.node_y[east])], west[np.argsort(base.node_y[west])]
    north, south = north[np.argsort(base.node_x[north])], south[np.argsort(base.node_x[south])]

    xs, ys, us, vs, offs, gxs, gys = [], [], [], [], [], [], []
    links: list[tuple[int, int]] = []
    for k in range(copies):
        r, c = divmod(k, cols)
        dx, dy = c * width, r * height
        xs.append(base.node_x + dx)
        ys.append(base.node_y + dy)
        us.append(base.edge_u + k * n)
        vs.append(base.edge_v + k * n)
        offs.append(base.geom_offsets[:-1] + k * p)
        gxs.append(gx + dx)
        gys.append(gy + dy)
        if c > 0:  # stitch to the copy on the left
            links += [(int(a + (k - 1) * n), int(b + k * n)) for a, b in zip(east, west,
                                                                             strict=True)]
        if r > 0:  # and to the copy below
            links += [(int(a + (k - cols) * n), int(b + k * n)) for a, b in zip(north, south,
                                                                                strict=True)]
    node_x, node_y = np.concatenate(xs), np.concatenate(ys)
    link = np.array(links, np.int64)
    edge_u = np.concatenate([*us, link[:, 0]]).astype(np.int32)
    edge_v = np.concatenate([*vs, link[:, 1]]).astype(np.int32)
    geom_x = np.concatenate([*gxs, np.column_stack((node_x[link[:, 0]],
                                                    node_x[link[:, 1]])).ravel()])
    geom_y = np.concatenate([*gys, np.column_stack((node_y[link[:, 0]],
                                                    node_y[link[:, 1]])).ravel()])
    geom_offsets = np.concatenate([*offs, copies * p + 2 * np.arange(len(link) + 1)])
    del xs, ys, gxs, gys
    node_lon, node_lat = base.to_lonlat(node_x, node_y)
    geom_lon, geom_lat = base.to_lonlat(geom_x, geom_y)
    del geom_x, geom_y
    names = [base.edge_name_of(i) for i in range(e)] * copies + ["link"] * len(link)
    return WalkingNetwork.from_edges(node_lon, node_lat, edge_u, edge_v,
                                     geom_offsets=geom_offsets, geom_lon=geom_lon,
                                     geom_lat=geom_lat, edge_names=names)


def random_points_on_edges(net: WalkingNetwork, count: int, rng: np.random.Generator):
    """(edge ids, offsets) uniformly by length over main-component edges."""
    main = np.flatnonzero(net.edge_in_main)
    weights = net.edge_length_m[main] / net.edge_length_m[main].sum()
    edges = rng.choice(main, count, p=weights)
    return edges.astype(np.int32), rng.uniform(0.0, 1.0, count) * net.edge_length_m[edges]


def near_buildings(net: WalkingNetwork, lon: np.ndarray, lat: np.ndarray, count: int,
                   rng: np.random.Generator, *, jitter_m: float = 15.0):
    """lon/lat of `count` random buildings (where people are), jittered a little."""
    pick = rng.choice(lon.shape[0], count, replace=count > lon.shape[0])
    x, y = net.to_xy(lon[pick], lat[pick])
    return net.to_lonlat(x + rng.uniform(-jitter_m, jitter_m, count),
                         y + rng.uniform(-jitter_m, jitter_m, count))


def presnap(net: WalkingNetwork, lon: np.ndarray, lat: np.ndarray):
    snapped = snap_points(net, lon, lat)
    ok = snapped.ok
    return snapped.edge_id[ok], snapped.offset_m[ok]


# ---------------------------------------------------------------------- pipelines
def ours(net, lon, lat, responders, aeds):
    incident = snap_point(net, lon, lat)
    result = bounded_search(net, incident, budget_seconds=BUDGET_S, speed_mps=SPEED_MPS)
    t_resp = times_to_points(result, *responders)
    t_aed = times_to_points(result, *aeds)
    return (rank(t_resp), rank(t_aed)), (t_resp, t_aed)


def check_same(got, expect) -> None:
    """Baseline and ours agree to 1 ms (membership may differ only at the budget edge)."""
    for a, b in zip(got[1], expect[1], strict=True):
        both = np.isfinite(a) & np.isfinite(b)
        assert np.allclose(a[both], b[both], atol=1e-3)
        only = np.isfinite(a) != np.isfinite(b)
        assert (np.minimum(a[only], b[only]) > BUDGET_S - 1e-3).all()


def rank(seconds: np.ndarray) -> np.ndarray:
    reached = np.flatnonzero(np.isfinite(seconds))
    return reached[np.argsort(seconds[reached], kind="stable")]


def lookup_dense(net, dense_m, points, source, limit_m):
    edges, offsets = points
    t = np.minimum(dense_m[net.edge_u[edges]] + offsets,
                   dense_m[net.edge_v[edges]] + net.edge_length_m[edges] - offsets)
    same = edges == source.edge_id
    t[same] = np.minimum(t[same], np.abs(offsets[same] - source.offset_m))
    t[t > limit_m] = np.inf
    return t / SPEED_MPS


def lookup_sparse(net, nodes, meters, points, source, limit_m):
    """`lookup_dense` for a sparse result (sorted node ids) without an O(nodes) array."""
    edges, offsets = points

    def at(node_ids):
        if nodes.shape[0] == 0:
            return np.full(node_ids.shape[0], np.inf)
        i = np.minimum(np.searchsorted(nodes, node_ids), nodes.shape[0] - 1)
        return np.where(nodes[i] == node_ids, meters[i], np.inf)

    t = np.minimum(at(net.edge_u[edges]) + offsets,
                   at(net.edge_v[edges]) + net.edge_length_m[edges] - offsets)
    same = edges == source.edge_id
    t[same] = np.minimum(t[same], np.abs(offsets[same] - source.offset_m))
    t[t > limit_m] = np.inf
    return t / SPEED_MPS


def networkx_pipeline(net, graph, lon, lat, responders, aeds):
    import networkx as nx

    incident = snap_point(net, lon, lat)
    e = incident.edge_id
    u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
    limit = BUDGET_S * SPEED_MPS
    to_u, to_v = incident.offset_m, length - incident.offset_m
    if u == v:
        graph.add_edge(-1, u, w=min(to_u, to_v))
    else:
        graph.add_edge(-1, u, w=to_u)
        graph.add_edge(-1, v, w=to_v)
    try:
        dist = nx.single_source_dijkstra_path_length(graph, -1, cutoff=limit, weight="w")
    finally:
        graph.remove_node(-1)
    dist.pop(-1, None)
    nodes = np.fromiter(dist.keys(), np.int64, len(dist))
    meters = np.fromiter(dist.values(), float, len(dist))
    order = np.argsort(nodes)
    nodes, meters = nodes[order], meters[order]
    times = (lookup_sparse(net, nodes, meters, responders, incident, limit),
             lookup_sparse(net, nodes, meters, aeds, incident, limit))
    return (rank(times[0]), rank(times[1])), times


def scipy_pipeline(net, csr, lon, lat, responders, aeds):
    from scipy.sparse.csgraph import dijkstra

    incident = snap_point(net, lon, lat)
    e = incident.edge_id
    u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
    limit = BUDGET_S * SPEED_MPS
    both = dijkstra(csr, directed=False, indices=[u, v], limit=limit)
    dense = np.minimum(both[0] + incident.offset_m, both[1] + (length - incident.offset_m))
    times = (lookup_dense(net, dense, responders, incident, limit),
             lookup_dense(net, dense, aeds, incident, limit))
    return (rank(times[0]), rank(times[1])), times


def networkx_graph(net: WalkingNetwork):
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(net.node_count))
    order = np.argsort(-net.edge_length_m)  # shortest parallel edge is added last, wins
    graph.add_weighted_edges_from(
        zip(net.edge_u[order].tolist(), net.edge_v[order].tolist(),
            net.edge_length_m[order].tolist(), strict=True), weight="w")
    return graph


def scipy_csr(net: WalkingNetwork):
    from scipy.sparse import csr_matrix

    # csgraph keeps the smallest of duplicate entries only for dense input; dedupe here
    key = np.minimum(net.edge_u, net.edge_v).astype(np.int64) * net.node_count + np.maximum(
        net.edge_u, net.edge_v)
    order = np.lexsort((net.edge_length_m, key))
    first = np.ones(order.shape[0], bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = order[first & (net.edge_u[order] != net.edge_v[order])]
    # explicit zeros are not edges for csgraph: keep zero-length edges as tiny weights
    weight = np.maximum(net.edge_length_m[keep], 1e-9)
    return csr_matrix((weight, (net.edge_u[keep], net.edge_v[keep])),
                      shape=(net.node_count, net.node_count))


# ---------------------------------------------------------------------- memory probe
def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_probe(path: str) -> None:
    """Run in a fresh process: load the saved network (and snap index), query it; print RSS.

    Uses VmHWM (peak RSS of this process image; ru_maxrss would carry the parent's peak
    across fork + exec).
    """
    rng = np.random.default_rng(5)
    snap_point(*_tiny_network(), 0.0, 0.0, max_snap_m=1e9)  # load the compiled kernels
    baseline = _status_mib("VmHWM")
    net = WalkingNetwork.load(path, mmap=False)
    grid = net.snap_grid
    responders = random_points_on_edges(net, N_RESPONDERS, rng)
    aeds = random_points_on_edges(net, N_AEDS, rng)
    lon, lat = net.to_lonlat(net.node_x[:50] + 5.0, net.node_y[:50] + 5.0)
    for i in range(50):
        ours(net, lon[i], lat[i], responders, aeds)
    print(json.dumps({"baseline_mb": baseline, "peak_mb": _status_mib("VmHWM"),
                      "network_mb": net.nbytes / 2**20, "grid_mb": grid.nbytes / 2**20}))


def _tiny_network() -> tuple[WalkingNetwork]:
    return (WalkingNetwork.from_edges([0.0, 0.001], [0.0, 0.0], [0], [1]),)


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--baseline-incidents", type=int, default=200)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    if not DATA.exists():
        sys.exit(f"missing {DATA} (see shared/data/README.md)")
    rng = np.random.default_rng(2024)
    out: dict[str, object] = {"machine": machine()}

    imports = []
    for _ in range(3):
        started = time.perf_counter()
        extract = read_osm(DATA)
        imports.append(time.perf_counter() - started)
    base = extract.network
    aed_lon, aed_lat = (np.array([getattr(a, k) for a in extract.aeds]) for k in ("lon", "lat"))
    out["import"] = {"seconds_median": float(np.median(imports)), "nodes": base.node_count,
                     "edges": base.edge_count, "aeds": len(extract.aeds),
                     "buildings": len(extract.buildings)}
    print("import", out["import"], flush=True)

    started = time.perf_counter()
    net = tile(base, TARGET_NODES)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    grid = net.snap_grid
    grid_s = time.perf_counter() - started
    out["graph"] = {"nodes": net.node_count, "edges": net.edge_count,
                    "points": int(net.geom_x.shape[0]), "km": net.total_length_m / 1000,
                    "copies": int(np.ceil(TARGET_NODES / base.node_count)),
                    "main_component": float(net.node_in_main.mean()),
                    "build_s": build_s, "snap_index_s": grid_s,
                    "network_mb": net.nbytes / 2**20, "snap_index_mb": grid.nbytes / 2**20}
    print("graph", out["graph"], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiled.npz"
        started = time.perf_counter()
        net.save(path)
        save_s = time.perf_counter() - started
        started = time.perf_counter()
        mapped = WalkingNetwork.load(path, mmap=True)
        load_s = time.perf_counter() - started
        del mapped
        probe = subprocess.run([sys.executable, __file__, "--memory-probe", str(path)],
                               capture_output=True, text=True, check=True)
        memory = json.loads(probe.stdout.strip().splitlines()[-1])
        memory |= {"save_s": save_s, "load_mmap_s": load_s,
                   "file_mb": path.stat().st_size / 2**20}
    out["memory"] = memory
    print("memory", memory, flush=True)

    # incidents and responders at random (tiled) buildings, AEDs at real (tiled) AED sites
    b_lon, b_lat = tile_points(base, extract.buildings.lon, extract.buildings.lat, TARGET_NODES)
    a_lon, a_lat = tile_points(base, aed_lon, aed_lat, TARGET_NODES)
    responders = presnap(net, *near_buildings(net, b_lon, b_lat, N_RESPONDERS, rng))
    pick = rng.choice(a_lon.shape[0], N_AEDS, replace=False)
    aeds = presnap(net, a_lon[pick], a_lat[pick])
    lon, lat = near_buildings(net, b_lon, b_lat, args.incidents, rng)
    out["points"] = {"responders": int(responders[0].shape[0]), "aeds": int(aeds[0].shape[0])}
    ours(net, lon[0], lat[0], responders, aeds)  # compile / warm up
    times, reached, found = [], [], []
    for i in range(args.incidents):
        started = time.perf_counter()
        (ranked_resp, ranked_aed), _ = ours(net, lon[i], lat[i], responders, aeds)
        times.append(time.perf_counter() - started)
        found.append(len(ranked_resp) + len(ranked_aed))
    # breakdown on the same incidents
    snap_t, search_t, lookup_t = [], [], []
    for i in range(min(args.incidents, 300)):
        t0 = time.perf_counter()
        incident = snap_point(net, lon[i], lat[i])
        t1 = time.perf_counter()
        result = bounded_search(net, incident, budget_seconds=BUDGET_S, speed_mps=SPEED_MPS)
        t2 = time.perf_counter()
        rank(times_to_points(result, *responders))
        rank(times_to_points(result, *aeds))
        t3 = time.perf_counter()
        snap_t.append(t1 - t0)
        search_t.append(t2 - t1)
        lookup_t.append(t3 - t2)
        reached.append(result.node_ids.shape[0])
    p50, p99 = percentiles(times)
    out["ours"] = {"incidents": args.incidents, "p50_ms": p50, "p99_ms": p99,
                   "snap_p50_ms": percentiles(snap_t)[0],
                   "search_p50_ms": percentiles(search_t)[0],
                   "lookup_rank_p50_ms": percentiles(lookup_t)[0],
                   "reached_nodes_median": float(np.median(reached)),
                   "ranked_points_mean": float(np.mean(found))}
    print("ours", out["ours"], flush=True)

    scaling = []
    for budget in (600.0, 1800.0):  # larger budgets reach many more nodes
        times, reached = [], []
        for i in range(min(args.incidents, 100)):
            started = time.perf_counter()
            incident = snap_point(net, lon[i], lat[i])
            result = bounded_search(net, incident, budget_seconds=budget, speed_mps=SPEED_MPS)
            rank(times_to_points(result, *responders))
            rank(times_to_points(result, *aeds))
            times.append(time.perf_counter() - started)
            reached.append(result.node_ids.shape[0])
        p50, p99 = percentiles(times)
        scaling.append({"budget_s": budget, "p50_ms": p50, "p99_ms": p99,
                        "reached_nodes_median": float(np.median(reached))})
    out["scaling"] = scaling
    print("scaling", scaling, flush=True)

    n_base = min(args.baseline_incidents, args.incidents)
    csr = scipy_csr(net)
    scipy_pipeline(net, csr, lon[0], lat[0], responders, aeds)
    times = []
    for i in range(n_base):
        started = time.perf_counter()
        got = scipy_pipeline(net, csr, lon[i], lat[i], responders, aeds)
        times.append(time.perf_counter() - started)
        check_same(got, ours(net, lon[i], lat[i], responders, aeds))
    p50, p99 = percentiles(times)
    out["scipy"] = {"incidents": n_base, "p50_ms": p50, "p99_ms": p99}
    print("scipy", out["scipy"], flush=True)
    del csr

    started = time.perf_counter()
    graph = networkx_graph(net)
    nx_build = time.perf_counter() - started
    times = []
    for i in range(n_base):
        started = time.perf_counter()
        got = networkx_pipeline(net, graph, lon[i], lat[i], responders, aeds)
        times.append(time.perf_counter() - started)
        check_same(got, ours(net, lon[i], lat[i], responders, aeds))
    p50, p99 = percentiles(times)
    out["networkx"] = {"incidents": n_base, "p50_ms": p50, "p99_ms": p99,
                       "graph_build_s": nx_build}
    print("networkx", out["networkx"], flush=True)
    del graph

    budgets = (60, 120, 180, 240)
    times = []
    n_iso = min(args.incidents, 300)
    for i in range(n_iso):
        incident = snap_point(net, lon[i], lat[i])
        result = bounded_search(net, incident, budget_seconds=BUDGET_S, speed_mps=SPEED_MPS)
        started = time.perf_counter()
        isochrones(result, budgets)
        times.append(time.perf_counter() - started)
    out["isochrone"] = {"incidents": n_iso, "budgets_s": list(budgets),
                        "median_ms": float(np.median(times) * 1000),
                        "p99_ms": percentiles(times)[1]}
    print("isochrone", out["isochrone"], flush=True)
    write_results(out)


def write_results(out: dict) -> None:
    g, mem = out["graph"], out["memory"]
    o, s, x, iso, imp = out["ours"], out["scipy"], out["networkx"], out["isochrone"], out["import"]
    lines = [
        "## Walking network (`python bench/bench_network.py`)",
        "",
        f"{out['machine']}. Data: Liechtenstein extract 2024-03-04 "
        "(© OpenStreetMap contributors, ODbL).",
        "",
        f"**Graph**: Liechtenstein compacted ({imp['nodes']:,} nodes) tiled {g['copies']}× in "
        f"projected space and stitched at the borders → {g['nodes']:,} nodes, "
        f"{g['edges']:,} edges, {g['points']:,} polyline points, {g['km']:,.0f} km "
        f"(main component {g['main_component']:.1%}). Built in {g['build_s']:.1f} s, "
        f"snap index in {g['snap_index_s']:.1f} s.",
        "",
        f"**Per incident** (snap + bounded search {BUDGET_S:.0f} s at {SPEED_MPS} m/s + walking "
        f"times and ranking of {out['points']['responders']:,} responders and "
        f"{out['points']['aeds']:,} AEDs, pre-snapped). Incidents and responders are placed "
        "at random buildings of the tiled extract (jittered 15 m), AEDs at its real AED sites:",
        "",
        "| implementation | incidents | p50 ms | p99 ms | vs ours (p50) |",
        "|---|---|---|---|---|",
        f"| **app.geo** (numba bounded Dijkstra, reusable workspace) | {o['incidents']} | "
        f"{o['p50_ms']:.3f} | {o['p99_ms']:.3f} | 1× |",
        f"| SciPy `csgraph.dijkstra(indices=[u, v], limit=...)` (compiled baseline) | "
        f"{s['incidents']} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
        f"{s['p50_ms'] / o['p50_ms']:.0f}× slower |",
        f"| NetworkX `single_source_dijkstra_path_length(cutoff=...)` | {x['incidents']} | "
        f"{x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['p50_ms'] / o['p50_ms']:.0f}× slower |",
        "",
        f"app.geo breakdown (p50): snap {o['snap_p50_ms']:.3f} ms, search "
        f"{o['search_p50_ms']:.3f} ms (median {o['reached_nodes_median']:.0f} nodes reached), "
        f"look-up + ranking of 35 000 points {o['lookup_rank_p50_ms']:.3f} ms; "
        f"{o['ranked_points_mean']:.1f} responders+AEDs within budget on average. "
        "Both baselines use our snapping and a numpy look-up of the 35 000 points (sorted-id "
        "search in NetworkX's dict, gather from SciPy's dense rows); their times agree with "
        f"ours to 1 ms (checked on every incident). NetworkX graph build: "
        f"{x['graph_build_s']:.0f} s.",
        "",
        "Same pipeline with larger budgets (the tiled extract is mostly villages and "
        "mountain tracks, so 240 s reaches few nodes): "
        + "; ".join(f"{sc['budget_s']:.0f} s: median {sc['reached_nodes_median']:,.0f} nodes "
                    f"reached, p50 {sc['p50_ms']:.2f} ms, p99 {sc['p99_ms']:.2f} ms"
                    for sc in out["scaling"]) + ".",
        "",
        f"**Isochrones** ({', '.join(str(b) for b in iso['budgets_s'])} s, 30 m buffer, "
        f"{iso['incidents']} incidents): median {iso['median_ms']:.1f} ms, "
        f"p99 {iso['p99_ms']:.1f} ms.",
        "",
        f"**Import** of `liechtenstein_2024-03-04.osm.pbf` (2.9 MB; network + "
        f"{imp['aeds']} AEDs + {imp['buildings']:,} buildings): "
        f"{imp['seconds_median']:.2f} s (median of 3).",
        "",
        f"**Memory** of the {g['nodes']:,}-node network: arrays {g['network_mb']:.0f} MiB + "
        f"snap index {g['snap_index_mb']:.0f} MiB; `.npz` file {mem['file_mb']:.0f} MiB, saved "
        f"in {mem['save_s']:.1f} s, memory-mapped in {mem['load_mmap_s'] * 1000:.0f} ms. "
        f"Fresh process that loads it (with its stored snap index) fully into RAM "
        f"(`mmap=False`) and answers 50 incidents: peak RSS {mem['peak_mb']:.0f} MiB, of which "
        f"{mem['peak_mb'] - mem['baseline_mb']:.0f} MiB above the interpreter with numpy, "
        f"scipy, shapely, pyproj and numba imported ({mem['baseline_mb']:.0f} MiB).",
    ]
    path = update_section("bench_network", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
