"""Whole-city coverage (app.geo.coverage): hand-computed toy graphs, then brute force
on real extracts (© OpenStreetMap contributors, ODbL): every AED searched on its own
with NetworkX Dijkstra over a graph built from the network arrays, nearest = minimum.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely

from app.geo.coverage import (
    assign_to_polygons,
    building_weights,
    coverage_summary,
    covered_stretches,
    edge_coverage,
    edge_points,
    length_summary,
    point_times,
    spread_population,
    uncovered_stretches,
)
from app.geo.network import WalkingNetwork
from app.geo.snap import snap_points
from tests.geo.conftest import toy_lonlat, toy_network

LIECHTENSTEIN = "aed/liechtenstein_2024-03-04.osm.pbf"
CAU = "china/beijing_haidian_cau_2026.osm"
BUPT = "china/beijing_haidian_bupt_2025.osm"
SPEED = 1.8
BUDGET = 240.0


# ---------------------------------------------------------------------- toy graphs
@pytest.fixture
def street() -> WalkingNetwork:
    """A - B - C - D along y = 0, 100 m apart."""
    return toy_network({"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (300, 0)},
                       [("A", "B"), ("B", "C"), ("C", "D")])[0]


def test_source_inside_an_edge_covers_around_itself(street) -> None:
    cov = edge_coverage(street, [0], [30.0], speed_mps=1.0, budget_seconds=50)
    np.testing.assert_allclose(cov.node_seconds, [30, 70, 170, 270], atol=1e-6)
    assert cov.node_source.tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(cov.covered_m, [80, 0, 0], atol=1e-6)  # 0..80 m of A-B
    np.testing.assert_allclose(cov.mid_seconds, [20, 120, 220], atol=1e-6)
    np.testing.assert_allclose(cov.max_seconds, [70, 170, 270], atol=1e-6)
    gaps = uncovered_stretches(cov)
    assert gaps.edge_id.tolist() == [0, 1, 2]
    np.testing.assert_allclose(gaps.start_m, [80, 0, 0], atol=1e-6)
    np.testing.assert_allclose(gaps.length_m, [20, 100, 100], atol=1e-6)
    inside = covered_stretches(cov)
    assert inside.edge_id.tolist() == [0]
    np.testing.assert_allclose([inside.start_m[0], inside.end_m[0]], [0, 80], atol=1e-6)
    # length-weighted: 2T metres within T <= 30 s, then 30 + T; half of 300 m at 120 s
    summary = length_summary(cov)
    assert summary.share[0] == pytest.approx(80 / 300, abs=1e-6)
    assert summary.p50_seconds[0] == pytest.approx(120, abs=1e-6)
    assert summary.p90_seconds[0] == pytest.approx(240, abs=1e-6)
    assert length_summary(cov, budget_seconds=100).covered[0] == pytest.approx(130, abs=1e-6)


def test_partial_edges_from_both_ends(street) -> None:
    # sources at A and D: the middle edge B-C is reached from both ends at 100 s
    cov = edge_coverage(street, [0, 2], [0.0, 100.0], speed_mps=1.0, budget_seconds=140)
    np.testing.assert_allclose(cov.covered_m, [100, 80, 100], atol=1e-6)
    gaps = uncovered_stretches(cov)
    assert gaps.edge_id.tolist() == [1]
    np.testing.assert_allclose([gaps.start_m[0], gaps.end_m[0]], [40, 60], atol=1e-6)
    assert cov.max_seconds[1] == pytest.approx(150, abs=1e-6)
    assert cov.node_source.tolist() == [0, 0, 1, 1]
    full = edge_coverage(street, [0, 2], [0.0, 100.0], speed_mps=1.0, budget_seconds=150)
    assert full.covered_m.sum() == pytest.approx(300, abs=1e-6)
    assert len(uncovered_stretches(full)) == 0
    lines = gaps.lines()
    assert lines.shape == (1,) and shapely.get_num_points(lines[0]) == 2
    feature = gaps.geojson()["features"][0]
    assert feature["properties"]["length_m"] == pytest.approx(20, abs=1e-3)
    x0, _ = toy_lonlat(140.0, 0.0)
    assert feature["geometry"]["coordinates"][0][0] == pytest.approx(x0, abs=1e-7)


def test_two_sources_on_one_edge_with_off_street_legs(street) -> None:
    # on C-D: one at 20 m (+30 s to reach the street), one at 70 m (+5 s); 1 m/s
    cov = edge_coverage(street, [2, 2], [20.0, 70.0], speed_mps=1.0, budget_seconds=40,
                        source_extra_seconds=[30.0, 5.0])
    np.testing.assert_allclose(cov.node_seconds[2:], [min(50, 75), 35], atol=1e-6)
    # second source: 35 m each way (35..100, clipped at D); first: 10 m each way
    # (10..30); C at 50 s is beyond the budget
    np.testing.assert_allclose(cov.covered_m, [0, 0, 65 + 20], atol=1e-6)
    gaps = uncovered_stretches(cov)
    np.testing.assert_allclose(gaps.start_m[gaps.edge_id == 2], [0, 30], atol=1e-6)
    np.testing.assert_allclose(gaps.end_m[gaps.edge_id == 2], [10, 35], atol=1e-6)
    assert cov.point_seconds(np.array([2, 2, 2]), np.array([20.0, 45.0, 100.0])).tolist() == \
        pytest.approx([30, 30, 35], abs=1e-6)
    assert cov.mid_seconds[2] == pytest.approx(25, abs=1e-6)
    with pytest.raises(ValueError, match="extra"):
        edge_coverage(street, [2], [20.0], speed_mps=1.0, budget_seconds=40,
                      source_extra_seconds=[-1.0])


def test_horizon_cuts_times_but_not_coverage(street) -> None:
    full = edge_coverage(street, [0], [30.0], speed_mps=1.0, budget_seconds=50)
    cut = edge_coverage(street, [0], [30.0], speed_mps=1.0, budget_seconds=50,
                        horizon_seconds=50)
    np.testing.assert_array_equal(full.covered_m, cut.covered_m)
    assert np.isinf(cut.node_seconds[2:]).all()
    assert math.isinf(length_summary(cut).p50_seconds[0])
    no_source = edge_coverage(street, [-1], [0.0], speed_mps=1.0, budget_seconds=50)
    assert no_source.covered_m.sum() == 0 and math.isinf(length_summary(no_source).p50_seconds[0])
    with pytest.raises(ValueError, match="horizon"):
        edge_coverage(street, [0], [30.0], speed_mps=1.0, budget_seconds=50, horizon_seconds=10)


def test_parallel_strips_give_the_same_answer() -> None:
    rng = np.random.default_rng(7)
    n = 30  # a 30 x 30 grid, 50 m spacing
    pts = {f"{i},{j}": (50.0 * i, 50.0 * j) for i in range(n) for j in range(n)}
    edges = [(f"{i},{j}", f"{i + 1},{j}") for i in range(n - 1) for j in range(n)]
    edges += [(f"{i},{j}", f"{i},{j + 1}") for i in range(n) for j in range(n - 1)]
    net, _ = toy_network(pts, edges)
    src = rng.integers(0, net.edge_count, 600)
    off = rng.uniform(0, 50, 600)
    one = edge_coverage(net, src, off, speed_mps=1.0, budget_seconds=60, horizon_seconds=60)
    two = edge_coverage(net, src, off, speed_mps=1.0, budget_seconds=60, horizon_seconds=60,
                        workers=2)
    np.testing.assert_allclose(one.node_seconds, two.node_seconds)
    np.testing.assert_allclose(one.covered_m, two.covered_m)


def test_summaries_group_by_region_and_weigh_points() -> None:
    seconds = np.array([10.0, 100.0, 300.0, np.inf, 50.0])
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    s = coverage_summary(seconds, weights, budget_seconds=240)
    assert s.share[0] == pytest.approx(0.3)
    assert s.p50_seconds[0] == 300.0 and math.isinf(s.p90_seconds[0])
    g = coverage_summary(seconds, weights, budget_seconds=240, groups=[0, 0, 1, 1, -1],
                         n_groups=3)
    np.testing.assert_allclose(g.total, [3, 7, 0])
    np.testing.assert_allclose(g.share[:2], [1.0, 0.0])
    assert g.p50_seconds[0] == 100.0 and math.isinf(g.p50_seconds[1])  # 3 of 7 by 300 s
    assert math.isnan(g.share[2]) and math.isnan(g.p50_seconds[2])
    assert g.rows()[0]["share"] == 1.0


def test_building_weights_population_and_polygons() -> None:
    np.testing.assert_allclose(building_weights([100.0, 50.0, 80.0], [-1, 3, 0]), [100, 150, 80])
    pop = spread_population([300.0, np.nan], [100.0, 200.0, 50.0, 10.0], [0, 0, 1, -1])
    np.testing.assert_allclose(pop, [100, 200, 0, 0])
    squares = [shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)]
    idx = assign_to_polygons([0.5, 1.5, 2.5, 5.0, 2.0], [0.5, 1.5, 2.5, 5.0, 0.0], squares)
    assert idx.tolist() == [0, 0, 1, -1, 0]  # overlap: lowest index; boundary: inside


def test_edge_midpoints(street) -> None:
    lon, lat = edge_points(street)
    x, y = toy_lonlat(np.array([50.0, 150.0, 250.0]), np.zeros(3))
    np.testing.assert_allclose(lon, x, atol=1e-8)
    np.testing.assert_allclose(lat, y, atol=1e-8)


# ---------------------------------------------------------------------- brute force
def _graph(net: WalkingNetwork) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(net.node_count))
    order = np.argsort(-net.edge_length_m)  # the shortest of parallel edges wins
    graph.add_weighted_edges_from(
        zip(net.edge_u[order].tolist(), net.edge_v[order].tolist(),
            net.edge_length_m[order].tolist(), strict=True), weight="w")
    return graph


def _per_source_seconds(net: WalkingNetwork, edges: np.ndarray,
                        offsets: np.ndarray) -> np.ndarray:
    """float[n_sources, n_nodes]: each source's own NetworkX Dijkstra (virtual start node)."""
    graph = _graph(net)
    out = np.full((edges.shape[0], net.node_count), np.inf)
    for i, (e, off) in enumerate(zip(edges.tolist(), offsets.tolist(), strict=True)):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        graph.add_edge(-1, u, w=off if u != v else min(off, length - off))
        if u != v:
            graph.add_edge(-1, v, w=length - off)
        dist = nx.single_source_dijkstra_path_length(graph, -1, weight="w")
        graph.remove_node(-1)
        dist.pop(-1)
        out[i, list(dist)] = list(dist.values())
    return out / SPEED


def _sampled_profile(net, node_best, edges, offsets, step_m):
    """Times at points every ~step_m along every edge, from the brute-force node times."""
    counts = np.maximum(np.ceil(net.edge_length_m / step_m), 1).astype(np.int64)
    owner = np.repeat(np.arange(net.edge_count), counts)
    k = np.arange(owner.shape[0]) - (np.cumsum(counts) - counts)[owner]
    size = net.edge_length_m[owner] / counts[owner]
    x = (k + 0.5) * size
    t = np.minimum(node_best[net.edge_u[owner]] + x / SPEED,
                   node_best[net.edge_v[owner]] + (net.edge_length_m[owner] - x) / SPEED)
    for e, off in zip(edges, offsets, strict=True):
        on = owner == e
        t[on] = np.minimum(t[on], np.abs(x[on] - off) / SPEED)
    return owner, t, size


def _check_against_brute_force(net, edges, offsets, sample_nodes) -> None:
    cov = edge_coverage(net, edges, offsets, speed_mps=SPEED, budget_seconds=BUDGET)
    per_source = _per_source_seconds(net, edges, offsets)
    best = per_source.min(axis=0)
    nodes = sample_nodes
    np.testing.assert_allclose(cov.node_seconds[nodes], best[nodes], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(cov.node_seconds[nodes] <= BUDGET, best[nodes] <= BUDGET)
    reached = nodes[np.isfinite(best[nodes])]
    # the reported nearest source is one whose own search gives the nearest time
    np.testing.assert_allclose(per_source[cov.node_source[reached], reached], best[reached],
                               atol=1e-6)
    # covered length and length-weighted quantiles against a 1 m sampling
    owner, t, size = _sampled_profile(net, best, edges, offsets, 1.0)
    sampled = np.bincount(owner, weights=np.where(t <= BUDGET, size, 0.0),
                          minlength=net.edge_count)
    assert np.abs(cov.covered_m - sampled).max() <= 1.0 + 1e-6
    assert abs(cov.covered_m.sum() - sampled.sum()) <= 0.002 * net.total_length_m
    summary = length_summary(cov)
    ref = coverage_summary(t, size, budget_seconds=BUDGET)
    assert summary.share[0] == pytest.approx(ref.share[0], abs=2e-3)
    for got, want in ((summary.p50_seconds[0], ref.p50_seconds[0]),
                      (summary.p90_seconds[0], ref.p90_seconds[0])):
        assert got == pytest.approx(want, abs=1.0) or (math.isinf(got) and math.isinf(want))


@pytest.mark.realdata
def test_liechtenstein_real_aeds_against_per_aed_searches(extract) -> None:
    ex = extract(LIECHTENSTEIN)
    net = ex.network
    lon = np.array([a.lon for a in ex.aeds])
    lat = np.array([a.lat for a in ex.aeds])
    snapped = snap_points(net, lon, lat)
    assert len(ex.aeds) == 148 and snapped.ok.all()
    assert sum(a.opening_hours is not None for a in ex.aeds) == 130
    rng = np.random.default_rng(2024)
    sample = np.sort(rng.choice(net.node_count, 400, replace=False))
    _check_against_brute_force(net, snapped.edge_id.astype(np.int64), snapped.offset_m, sample)


@pytest.mark.realdata
@pytest.mark.parametrize("name", [CAU, BUPT])
def test_beijing_campuses_synthetic_aeds_against_per_aed_searches(extract, name) -> None:
    net = extract(name).network
    rng = np.random.default_rng(11)
    main_edges = np.flatnonzero(net.edge_in_main)
    edges = np.sort(rng.choice(main_edges, 5, replace=False)).astype(np.int64)
    offsets = rng.uniform(0, 1, 5) * net.edge_length_m[edges]
    _check_against_brute_force(net, edges, offsets, np.arange(net.node_count))


@pytest.mark.realdata
def test_liechtenstein_buildings_and_regions(extract) -> None:
    ex = extract(LIECHTENSTEIN)
    net, b = ex.network, ex.buildings
    aed = snap_points(net, np.array([a.lon for a in ex.aeds]), np.array([a.lat for a in ex.aeds]))
    cov = edge_coverage(net, aed.edge_id, aed.offset_m, speed_mps=SPEED, budget_seconds=BUDGET,
                        source_extra_seconds=aed.distance_m / SPEED)
    times = point_times(cov, b.lon, b.lat)
    ok = times.snapped.ok
    assert ok.mean() > 0.95 and np.isinf(times.seconds[~ok]).all()
    # brute force for the buildings: per-AED searches, AEDs' own off-street leg added
    per_aed = _per_source_seconds(net, aed.edge_id.astype(np.int64), aed.offset_m)
    per_aed += (aed.distance_m / SPEED)[:, None]
    best = per_aed.min(axis=0)
    e, off = times.snapped.edge_id[ok], times.snapped.offset_m[ok]
    want = np.minimum(best[net.edge_u[e]] + off / SPEED,
                      best[net.edge_v[e]] + (net.edge_length_m[e] - off) / SPEED)
    for k in range(aed.edge_id.shape[0]):  # straight along an AED's own edge
        same = e == aed.edge_id[k]
        want[same] = np.minimum(want[same], np.abs(off[same] - aed.offset_m[k]) / SPEED
                                + aed.distance_m[k] / SPEED)
    want += times.offstreet_seconds[ok]
    np.testing.assert_allclose(times.seconds[ok], want, atol=1e-6)
    weight = building_weights(b.area_m2, b.levels)
    s = coverage_summary(times.seconds, weight, budget_seconds=BUDGET)
    assert s.share[0] == pytest.approx(weight[times.seconds <= BUDGET].sum() / weight.sum())
    assert 0.0 < s.share[0] < 1.0 and s.p50_seconds[0] <= s.p90_seconds[0]
    # two regions split at the median longitude: groups add up to the whole
    west, east = net.bbox[0] - 1, net.bbox[2] + 1
    cut = float(np.median(net.node_lon))
    halves = [shapely.box(west, -90, cut, 90), shapely.box(cut, -90, east, 90)]
    edge_region = assign_to_polygons(*edge_points(net), halves)
    assert (edge_region >= 0).all()
    whole = length_summary(cov)
    parts = length_summary(cov, edge_groups=edge_region, n_groups=2)
    assert parts.total.sum() == pytest.approx(whole.total[0])
    assert parts.covered.sum() == pytest.approx(whole.covered[0])
    low, high = sorted(parts.p50_seconds)
    assert low <= whole.p50_seconds[0] <= high
    pop = spread_population([10_000.0, np.nan], weight, assign_to_polygons(b.lon, b.lat, halves))
    ps = coverage_summary(times.seconds, pop, budget_seconds=BUDGET,
                          groups=assign_to_polygons(b.lon, b.lat, halves), n_groups=2)
    assert ps.total[0] == pytest.approx(10_000.0) and math.isnan(ps.share[1])
    gaps = uncovered_stretches(cov, min_length_m=10.0)
    assert gaps.length_m.min() >= 10.0
    assert gaps.length_m.sum() <= net.total_length_m - cov.covered_m.sum() + 1e-6
