"""Real OpenStreetMap extracts (© OpenStreetMap contributors, ODbL) from ../shared/data.

Walking times are checked against NetworkX Dijkstra on a graph built independently:
straight from pyosmium's way segments (no compaction), with pyproj geodesic lengths.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, fields

import networkx as nx
import numpy as np
import osmium
import pyproj
import pytest

from app.geo.network import WalkingNetwork
from app.geo.osm_import import parse_levels, read_osm
from app.geo.search import bounded_search, times_from_sources, times_to_points
from app.geo.snap import snap_point, snap_points
from app.geo.walkable import is_walkable

pytestmark = pytest.mark.realdata

CAU = "china/beijing_haidian_cau_2026.osm"
BUPT = "china/beijing_haidian_bupt_2025.osm"
SHANGHAI = "china/shanghai_huangpu_osmnx_drive_2026.osm"
LIECHTENSTEIN = "aed/liechtenstein_2024-03-04.osm.pbf"
SPEED = 1.8
_GEOD = pyproj.Geod(ellps="WGS84")


@pytest.mark.parametrize("name", [CAU, BUPT, SHANGHAI])
def test_xml_and_pbf_give_identical_networks(osm_file, name: str) -> None:
    xml = read_osm(osm_file(name))
    pbf = read_osm(osm_file(name + ".pbf"))
    for f in fields(WalkingNetwork):
        a, b = getattr(xml.network, f.name), getattr(pbf.network, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f.name
        elif f.name != "_cache":
            assert a == b, f.name
    assert np.array_equal(xml.buildings.area_m2, pbf.buildings.area_m2)
    assert xml.network.edge_count > 400


def test_chinese_street_names_and_sizes(extract) -> None:
    shanghai = extract(SHANGHAI).network
    assert "西藏中路" in shanghai.names and "淮海中路" in shanghai.names
    assert 60_000 < shanghai.total_length_m < 100_000
    cau = extract(CAU)
    assert 60_000 < cau.network.total_length_m < 70_000
    assert len(cau.buildings) == 257
    assert len(extract(BUPT).buildings) == 111


def test_liechtenstein_import_aeds_and_buildings(osm_file) -> None:
    started = time.perf_counter()
    ex = read_osm(osm_file(LIECHTENSTEIN))
    assert time.perf_counter() - started < 10.0
    net = ex.network
    assert 10_000 < net.node_count < 13_000
    assert 1_400_000 < net.total_length_m < 1_450_000
    assert net.node_in_main.mean() > 0.97
    assert len(ex.aeds) == 148
    assert sum(a.opening_hours is not None for a in ex.aeds) == 130
    assert sum(a.location is not None for a in ex.aeds) == 147
    assert [sum(a.access == v for a in ex.aeds) for v in ("yes", "no")] == [110, 32]
    assert [sum(a.indoor == v for a in ex.aeds) for v in ("yes", "no")] == [112, 36]
    lon0, lat0, lon1, lat1 = net.bbox
    assert all(lon0 <= a.lon <= lon1 and lat0 <= a.lat <= lat1 for a in ex.aeds)
    buildings = ex.buildings
    assert 17_700 <= len(buildings) <= 17_718
    assert buildings.is_relation.sum() >= 20
    assert (buildings.area_m2 > 0).all()
    assert 80 < np.median(buildings.area_m2) < 250 and buildings.area_m2.max() < 100_000
    assert 800 <= (buildings.levels >= 0).sum() <= 900
    assert "residential" in buildings.kind


@pytest.mark.parametrize(("value", "levels"),
                         [("3", 3), ("2.5", 3), ("4;5", 4), ("", None), (None, None), ("x", None)])
def test_parse_levels(value, levels) -> None:
    assert parse_levels(value) == levels


# ------------------------------------------------------------------ independent reference
@dataclass
class RawGraph:
    graph: nx.Graph
    segments: np.ndarray  # (a, b) node ids, main component only
    seg_lonlat: np.ndarray  # (lon_a, lat_a, lon_b, lat_b)
    seg_length: np.ndarray


def _raw_graph(path) -> RawGraph:
    graph = nx.Graph()

    class Ways(osmium.SimpleHandler):
        def way(self, way) -> None:
            if not is_walkable(way.tags):
                return
            nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
            for (a, alon, alat), (b, blon, blat) in itertools.pairwise(nodes):
                if a == b:
                    continue
                length = _GEOD.inv(alon, alat, blon, blat)[2]
                if not graph.has_edge(a, b) or graph[a][b]["w"] > length:
                    graph.add_edge(a, b, w=length, ends=(a, b), lonlat=(alon, alat, blon, blat))

    Ways().apply_file(str(path), locations=True)
    main = max(nx.connected_components(graph), key=len)
    edges = [d for a, _, d in graph.edges(data=True) if a in main and d["w"] > 2.0]
    return RawGraph(
        graph,
        np.array([d["ends"] for d in edges], np.int64),  # in the order of "lonlat"
        np.array([d["lonlat"] for d in edges]),
        np.array([d["w"] for d in edges]),
    )


@pytest.mark.parametrize(("name", "n_sources", "n_targets"),
                         [(CAU, 5, 60), (BUPT, 5, 60), (SHANGHAI, 5, 60), (LIECHTENSTEIN, 5, 80)])
def test_walking_times_match_networkx(extract, osm_file, name, n_sources, n_targets) -> None:
    net = extract(name).network
    raw = _raw_graph(osm_file(name))
    rng = np.random.default_rng(2024)
    picks = rng.choice(len(raw.segments), n_sources + n_targets, replace=False)
    frac = rng.uniform(0.2, 0.8, picks.shape[0])
    ll = raw.seg_lonlat[picks]
    lon = ll[:, 0] + frac * (ll[:, 2] - ll[:, 0])
    lat = ll[:, 1] + frac * (ll[:, 3] - ll[:, 1])
    targets = snap_points(net, lon[n_sources:], lat[n_sources:])
    assert targets.ok.all() and (targets.distance_m < 0.05).all()
    compared = 0
    for s in range(n_sources):
        source = snap_point(net, lon[s], lat[s])
        assert source.distance_m < 0.05
        result = bounded_search(net, source, budget_seconds=6 * 3600, speed_mps=SPEED)
        ours = times_to_points(result, targets.edge_id, targets.offset_m)

        a, b = raw.segments[picks[s]]
        length = raw.seg_length[picks[s]]
        graph = raw.graph
        graph.add_edge("S", a, w=frac[s] * length)
        graph.add_edge("S", b, w=(1 - frac[s]) * length)
        try:
            dist = nx.single_source_dijkstra_path_length(graph, "S", weight="w")
        finally:
            graph.remove_node("S")
        for t in range(n_targets):
            k = picks[n_sources + t]
            if k == picks[s]:
                continue
            ta, tb = raw.segments[k]
            tf, tl = frac[n_sources + t], raw.seg_length[k]
            reference = min(dist[ta] + tf * tl, dist[tb] + (1 - tf) * tl) / SPEED
            assert ours[t] == pytest.approx(reference, abs=1.0), (s, t)
            compared += 1
    assert compared >= n_sources * (n_targets - 1)


@pytest.mark.parametrize("name", [CAU, SHANGHAI, LIECHTENSTEIN])
def test_snapping_stays_on_the_main_component(extract, name) -> None:
    net = extract(name).network
    assert not net.node_in_main.all()  # these extracts do have detached pieces
    lon0, lat0, lon1, lat1 = net.bbox
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(lon0, lon1, 3000), rng.uniform(lat0, lat1, 3000)
    snapped = snap_points(net, lon, lat, max_snap_m=1000)
    assert snapped.ok.sum() > 300
    assert net.edge_in_main[snapped.edge_id[snapped.ok]].all()
    anywhere = snap_points(net, lon, lat, max_snap_m=1000, main_component_only=False)
    assert (anywhere.distance_m[snapped.ok] <= snapped.distance_m[snapped.ok] + 1e-9).all()
    assert not net.edge_in_main[anywhere.edge_id[anywhere.ok]].all()


def test_many_small_searches_in_one_call_match_one_by_one(extract) -> None:
    """times_from_sources (one compiled loop, as the AED-fetch choice uses it) against a
    bounded_search + times_to_points per source, with budgets that differ per source."""
    network = extract(BUPT).network
    rng = np.random.default_rng(20261123)
    main = np.flatnonzero(network.node_in_main)

    def street_points(count: int):
        nodes = rng.choice(main, count)
        return snap_points(network, network.node_lon[nodes] + rng.normal(0, 2e-4, count),
                           network.node_lat[nodes] + rng.normal(0, 2e-4, count))

    sources, points = street_points(60), street_points(300)
    budgets = rng.uniform(-30, 400, 60)         # negative: skipped
    many = times_from_sources(network, sources.edge_id, sources.offset_m, budgets,
                              points.edge_id, points.offset_m, speed_mps=1.8)
    assert many.shape == (300, 60)
    for j in range(60):
        if budgets[j] < 0:
            assert np.isinf(many[:, j]).all()
            continue
        one = times_to_points(
            bounded_search(network, snap_point(network, sources.lon[j], sources.lat[j]),
                           budget_seconds=budgets[j], speed_mps=1.8),
            points.edge_id, points.offset_m)
        np.testing.assert_allclose(many[:, j], one, rtol=0, atol=1e-9)
    assert np.isfinite(many).sum() > 300          # the comparison is not all inf
