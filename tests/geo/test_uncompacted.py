"""`read_osm(compact=False)` / `compact_ways(compact=False)`: every way vertex a node.

The uncompacted network is what notebooks get from pyrosm/osmium without simplification
(bench/bench_coverage.py compares against it): the same streets and walking times as the
compacted one, only with a node at every polyline vertex. Real extract © OpenStreetMap
contributors, ODbL.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from app.geo.network import WalkingNetwork
from app.geo.osm_import import compact_ways, read_osm

BUPT = "china/beijing_haidian_bupt_2025.osm"


def _ways() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two crossing ways with intermediate vertices, one repeating a vertex in place.

    Way 1: 1-2-3-4-5 (west to east), way 2: 10-11-3-12-12-13 (south to north through 3).
    """
    refs = np.array([1, 2, 3, 4, 5, 10, 11, 3, 12, 12, 13], np.int64)
    lon = np.array([0.0, 1, 2, 3, 4, 2, 2, 2, 2, 2, 2]) * 1e-3 + 117.2
    lat = np.array([0.0, 0, 0, 0, 0, -2, -1, 0, 1, 1, 2]) * 1e-3 + 39.12
    return refs, lon, lat, np.array([0, 5, 11], np.int64)


def test_every_vertex_becomes_a_node() -> None:
    refs, lon, lat, starts = _ways()
    compact = compact_ways(refs, lon, lat, starts)
    full = compact_ways(refs, lon, lat, starts, compact=False)
    # compacted: the ends 1, 5, 10, 13 and the crossing 3; 4 edges with polylines
    assert sorted(compact.node_osm_id.tolist()) == [1, 3, 5, 10, 13]
    assert compact.edge_count == 4
    # uncompacted: each distinct vertex once, one straight edge per segment
    assert sorted(full.node_osm_id.tolist()) == sorted(set(refs.tolist()))
    assert full.edge_count == 4 + 4  # the repeated 12-12 is not a segment
    assert np.all(np.diff(full.geom_offsets) == 2)
    assert full.total_length_m == pytest.approx(compact.total_length_m, rel=1e-12)
    assert full.node_in_main.all()


def _junction_distances(net: WalkingNetwork, osm_ids: np.ndarray,
                        sources: np.ndarray) -> np.ndarray:
    """Metres from each source node (by OSM id) to each of `osm_ids` (scipy Dijkstra)."""
    n = net.node_count
    # parallel edges would be summed by tocsr: keep the shortest of each pair of nodes
    key = np.minimum(net.edge_u, net.edge_v).astype(np.int64) * n + np.maximum(net.edge_u,
                                                                              net.edge_v)
    order = np.lexsort((net.edge_length_m, key))
    first = np.ones(order.shape[0], bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = order[first]
    graph = coo_matrix((net.edge_length_m[keep], (net.edge_u[keep], net.edge_v[keep])),
                       shape=(n, n)).tocsr()
    index = {osm: i for i, osm in enumerate(net.node_osm_id.tolist())}
    rows = dijkstra(graph, directed=False, indices=[index[s] for s in sources.tolist()])
    return rows[:, [index[o] for o in osm_ids.tolist()]]


def test_real_extract_same_streets_and_walking_times(osm_file) -> None:
    path = osm_file(BUPT)
    compact = read_osm(path, with_buildings=False)
    full = read_osm(path, with_buildings=False, compact=False)
    net, big = compact.network, full.network
    # a node per distinct vertex of the compacted polylines, and no other
    vertices = np.unique(np.column_stack((net.geom_x, net.geom_y)), axis=0)
    assert big.node_count == vertices.shape[0] > net.node_count
    assert set(net.node_osm_id.tolist()) <= set(big.node_osm_id.tolist())
    assert big.edge_count == net.geom_x.shape[0] - net.edge_count  # one per segment
    assert big.total_length_m == pytest.approx(net.total_length_m, rel=1e-12)
    assert compact.aeds == full.aeds
    # walking distances between junctions are the same on both
    junctions = net.node_osm_id[net.node_in_main]
    sources = junctions[:: max(1, junctions.shape[0] // 25)]
    np.testing.assert_allclose(_junction_distances(big, junctions, sources),
                               _junction_distances(net, junctions, sources), rtol=0, atol=1e-6)
