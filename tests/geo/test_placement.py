"""Placement of new AEDs (app.geo.placement): greedy maximal covering checked against
an exhaustive search over all k-subsets, with coverage sets from NetworkX."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from app.geo.coverage import edge_coverage
from app.geo.placement import (
    Demand,
    coverage_matrix,
    greedy_max_cover,
    least_valuable_sources,
    length_demand,
    node_sites,
    place_sources,
    point_demand,
    point_sites,
)
from app.geo.snap import snap_points
from tests.geo.conftest import toy_lonlat, toy_network

SPEED = 1.0
BUDGET = 123.0  # no demand point sits exactly on the budget


@pytest.fixture(scope="module")
def town():
    """A 5 x 4 grid of 100 m blocks with a dead-end lane; one AED near a corner."""
    pts = {f"{i},{j}": (100.0 * i, 100.0 * j) for i in range(5) for j in range(4)}
    pts["lane"] = (400.0, 500.0)
    edges = [(f"{i},{j}", f"{i + 1},{j}") for i in range(4) for j in range(4)]
    edges += [(f"{i},{j}", f"{i},{j + 1}") for i in range(5) for j in range(3)]
    edges.append(("4,3", "lane"))
    net, index = toy_network(pts, edges)
    aed = snap_points(net, *map(np.atleast_1d, toy_lonlat(30.0, 0.0)))
    cov = edge_coverage(net, aed.edge_id, aed.offset_m, speed_mps=SPEED, budget_seconds=BUDGET)
    return net, index, cov


def _nx_sets(net, sites, demand) -> list[set[int]]:
    """Coverage sets computed independently: NetworkX Dijkstra from each node site."""
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(),
                                      net.edge_length_m.tolist(), strict=True), weight="w")
    sets = []
    for e, off in zip(sites.edge_id, sites.offset_m, strict=True):
        node = int(net.edge_u[e] if off == 0 else net.edge_v[e])
        dist = nx.single_source_dijkstra_path_length(graph, node, weight="w")
        du = np.array([dist.get(int(u), np.inf) for u in net.edge_u[demand.edge_id]])
        dv = np.array([dist.get(int(v), np.inf) for v in net.edge_v[demand.edge_id]])
        t = np.minimum(du + demand.offset_m,
                       dv + net.edge_length_m[demand.edge_id] - demand.offset_m) / SPEED
        sets.append(set(np.flatnonzero(t + demand.extra_seconds <= BUDGET).tolist()))
    return sets


def test_greedy_against_exhaustive_search(town) -> None:
    net, _, cov = town
    demand = length_demand(cov, step_m=10.0)
    assert demand.total == pytest.approx(net.total_length_m - cov.covered_m.sum(), abs=1e-6)
    assert (demand.seconds > BUDGET).all()
    sites = node_sites(net, np.arange(net.node_count))
    matrix = coverage_matrix(net, sites, demand, speed_mps=SPEED, budget_seconds=BUDGET)
    sets = _nx_sets(net, sites, demand)
    assert [set(matrix[i].indices.tolist()) for i in range(len(sites))] == sets
    w = demand.weight

    def value(chosen) -> float:
        union = set().union(*(sets[i] for i in chosen))
        return float(w[list(union)].sum()) if union else 0.0

    for k in (1, 2, 3):
        rows, gains = greedy_max_cover(matrix, w, k)
        assert len(rows) == k
        assert np.all(np.diff(gains) <= 1e-9)  # marginal gains never increase
        assert gains.sum() == pytest.approx(value(rows))
        best = max(value(c) for c in itertools.combinations(range(len(sites)), k))
        assert gains.sum() >= (1 - 1 / np.e) * best
        if k == 1:
            assert gains.sum() == pytest.approx(best)


def test_place_sources_closes_the_gaps(town) -> None:
    net, _, cov = town
    demand = length_demand(cov, step_m=5.0)
    placement = place_sources(net, demand, count=4, speed_mps=SPEED, budget_seconds=BUDGET,
                              max_candidates=None)
    assert len(placement.gain) == 4 and np.all(np.diff(placement.gain) <= 1e-9)
    assert placement.candidates_considered <= net.node_count
    # exact coverage with the new sites grows by about the predicted gain
    sites = placement.sites
    edges = np.concatenate((cov.source_edge_id, sites.edge_id))
    offsets = np.concatenate((cov.source_offset_m, sites.offset_m))
    after = edge_coverage(net, edges, offsets, speed_mps=SPEED, budget_seconds=BUDGET)
    grown = after.covered_m.sum() - cov.covered_m.sum()
    assert grown == pytest.approx(placement.covered_gain, rel=0.03)
    # subsampled candidates: still valid, never better than all candidates for k = 1
    one = place_sources(net, demand, count=1, speed_mps=SPEED, budget_seconds=BUDGET,
                        max_candidates=None)
    few = place_sources(net, demand, count=1, speed_mps=SPEED, budget_seconds=BUDGET,
                        max_candidates=5, seed=3)
    assert few.candidates_considered == 5 and few.gain[0] <= one.gain[0] + 1e-9
    # nothing left to cover: no site is returned
    empty = Demand(*(np.zeros(0, t) for t in (np.int64, float, float, float, float)))
    assert len(place_sources(net, empty, count=3, speed_mps=SPEED,
                             budget_seconds=BUDGET).gain) == 0


def test_buildings_as_demand_and_as_candidates(town) -> None:
    net, _, cov = town
    bx = np.array([50.0, 250.0, 350.0, 420.0, 150.0])
    by = np.array([20.0, 110.0, 290.0, 480.0, 210.0])
    lon, lat = toy_lonlat(bx, by)
    snapped = snap_points(net, lon, lat)
    demand = point_demand(cov, snapped, np.array([10.0, 20.0, 30.0, 40.0, 50.0]))
    assert (demand.seconds > BUDGET).all() and demand.total == 140.0  # 1st one is covered
    # candidate AEDs in the buildings themselves, their off-street leg included
    candidates = point_sites(snapped, speed_mps=SPEED, lon=lon, lat=lat)
    np.testing.assert_allclose(candidates.extra_seconds, [20, 10, 10, 20, 10], atol=1e-4)
    placement = place_sources(net, demand, count=2, speed_mps=SPEED, budget_seconds=BUDGET,
                              candidates=candidates)
    assert placement.gain.sum() > 0 and np.all(np.diff(placement.gain) <= 0)
    got = point_demand(edge_coverage(
        net, np.concatenate((cov.source_edge_id, placement.sites.edge_id)),
        np.concatenate((cov.source_offset_m, placement.sites.offset_m)), speed_mps=SPEED,
        budget_seconds=BUDGET,
        source_extra_seconds=np.concatenate(([0.0], placement.sites.extra_seconds))),
        snapped, np.array([10.0, 20.0, 30.0, 40.0, 50.0]), covered=True)
    assert got.total == pytest.approx(10.0 + placement.gain.sum())


def test_least_valuable_existing_aeds(town) -> None:
    net, _, _ = town
    # two AEDs 10 m apart in the south-west, one alone in the north-east
    lon, lat = toy_lonlat(np.array([30.0, 40.0, 380.0]), np.array([0.0, 0.0, 300.0]))
    aeds = point_sites(snap_points(net, lon, lat), speed_mps=SPEED)
    cov = edge_coverage(net, aeds.edge_id, aeds.offset_m, speed_mps=SPEED,
                        budget_seconds=BUDGET)
    demand = length_demand(cov, covered=True, step_m=1.0)
    values = least_valuable_sources(net, aeds, demand, speed_mps=SPEED, budget_seconds=BUDGET)
    assert values.order.tolist()[-1] == 2
    # unique coverage = what the exact coverage loses without that AED
    for j in range(3):
        keep = np.arange(3) != j
        without = edge_coverage(net, aeds.edge_id[keep], aeds.offset_m[keep], speed_mps=SPEED,
                                budget_seconds=BUDGET)
        lost = cov.covered_m.sum() - without.covered_m.sum()
        assert values.unique_weight[j] == pytest.approx(lost, abs=4.0)
    np.testing.assert_allclose(values.covered_weight, [
        edge_coverage(net, aeds.edge_id[[j]], aeds.offset_m[[j]], speed_mps=SPEED,
                      budget_seconds=BUDGET).covered_m.sum() for j in range(3)], atol=4.0)


@pytest.mark.realdata
def test_liechtenstein_placement_adds_coverage(extract) -> None:
    ex = extract("aed/liechtenstein_2024-03-04.osm.pbf")
    net = ex.network
    aed = snap_points(net, np.array([a.lon for a in ex.aeds]), np.array([a.lat for a in ex.aeds]))
    cov = edge_coverage(net, aed.edge_id, aed.offset_m, speed_mps=1.8, budget_seconds=240)
    demand = length_demand(cov, step_m=25.0)
    placement = place_sources(net, demand, count=5, speed_mps=1.8, budget_seconds=240,
                              max_candidates=3000)
    assert np.all(np.diff(placement.gain) <= 1e-9) and placement.gain[-1] > 0
    after = edge_coverage(net, np.concatenate((aed.edge_id, placement.sites.edge_id)),
                          np.concatenate((aed.offset_m, placement.sites.offset_m)),
                          speed_mps=1.8, budget_seconds=240)
    grown = after.covered_m.sum() - cov.covered_m.sum()
    assert grown == pytest.approx(placement.covered_gain, rel=0.05)
    values = least_valuable_sources(net, point_sites(aed, speed_mps=1.8),
                                    length_demand(cov, covered=True), speed_mps=1.8,
                                    budget_seconds=240)
    assert np.all(np.diff(values.unique_weight[values.order]) >= 0)
    assert values.unique_weight.sum() <= cov.covered_m.sum() + 1e-6
