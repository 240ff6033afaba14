"""Hand-built graphs where walking time beats straight-line distance, and edge cases
of partial edges. Coordinates are metres east/north of a point in Tianjin."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from app.geo.errors import NoRoute, TooFarFromNetwork
from app.geo.isochrone import isochrones
from app.geo.network import WalkingNetwork, haversine_m
from app.geo.route import turn_direction, walking_route
from app.geo.search import bounded_search, nearest_source_seconds, times_to_points
from app.geo.snap import SnappedPoint, snap_point, snap_points
from tests.geo.conftest import toy_lonlat, toy_network

SPEED = 1.5
BUDGET = 3600.0


def _snap(network, x, y, **kwargs) -> SnappedPoint:
    lon, lat = toy_lonlat(x, y)
    return snap_point(network, lon, lat, **kwargs)


def _rank(network, incident_xy, responders_xy):
    """(order by straight line, order by walking time, walking seconds)."""
    incident = _snap(network, *incident_xy)
    xy = np.asarray(responders_xy, float)
    lon, lat = toy_lonlat(xy[:, 0], xy[:, 1])
    snapped = snap_points(network, lon, lat)
    result = bounded_search(network, incident, budget_seconds=BUDGET, speed_mps=SPEED)
    seconds = times_to_points(result, snapped.edge_id, snapped.offset_m)
    ilon, ilat = toy_lonlat(*incident_xy)
    straight = haversine_m(ilon, ilat, lon, lat)
    return np.argsort(straight), np.argsort(seconds), seconds


def test_river_with_one_bridge() -> None:
    # north and south banks 40 m apart, one bridge at x = 800
    network, _ = toy_network(
        {"nw": (-1000, 20), "nb": (800, 20), "ne": (1000, 20),
         "sw": (-1000, -20), "sb": (800, -20), "se": (1000, -20)},
        [("nw", "nb", "北岸路"), ("nb", "ne", "北岸路"), ("sw", "sb", "南岸路"),
         ("sb", "se", "南岸路"), ("nb", "sb", "大桥")],
    )
    across, same_bank = (0, -25), (300, 25)
    by_radius, by_time, seconds = _rank(network, (0, 25), [across, same_bank])
    assert by_radius[0] == 0  # 50 m straight line, across the river
    assert by_time[0] == 1  # but the responder on the same bank arrives first
    assert seconds[1] == pytest.approx(300 / SPEED, abs=0.5)
    assert seconds[0] == pytest.approx((800 + 40 + 800) / SPEED, abs=1.0)


def test_walled_compound_with_one_gate() -> None:
    # a 200 x 200 m compound, inner path ring, one gate in the south wall at x = 100
    network, _ = toy_network(
        {"g_out": (100, -10), "g_in": (100, 10),
         "i_sw": (10, 10), "i_se": (190, 10), "i_nw": (10, 190), "i_ne": (190, 190),
         "s_w": (-20, -10), "s_e": (220, -10), "n_w": (-20, 210), "n_e": (220, 210)},
        [("g_out", "g_in", "gate"), ("g_in", "i_sw"), ("g_in", "i_se"), ("i_sw", "i_nw"),
         ("i_se", "i_ne"), ("i_nw", "i_ne"),
         ("s_w", "g_out", "south st"), ("g_out", "s_e", "south st"), ("s_w", "n_w", "west st"),
         ("s_e", "n_e", "east st"), ("n_w", "n_e", "north st")],
    )
    outside_north, inside = (100, 215), (10, 60)
    by_radius, by_time, seconds = _rank(network, (100, 185), [outside_north, inside])
    assert by_radius[0] == 0  # 30 m away, but on the other side of the wall
    assert by_time[0] == 1
    inside_walk = 130 + 90  # up the west path, along the north path
    assert seconds[1] == pytest.approx(inside_walk / SPEED, abs=1.0)
    outside_walk = 120 + 220 + 120 + 20 + 90 + 180 + 90  # round to the gate and back in
    assert seconds[0] == pytest.approx(outside_walk / SPEED, abs=1.0)


def test_rail_line_with_one_underpass() -> None:
    network, _ = toy_network(
        {"w0": (-15, -1000), "wu": (-15, 600), "w1": (-15, 1000),
         "e0": (15, -1000), "eu": (15, 600), "e1": (15, 1000)},
        [("w0", "wu"), ("wu", "w1"), ("e0", "eu"), ("eu", "e1"), ("wu", "eu", "underpass")],
    )
    by_radius, by_time, seconds = _rank(network, (-15, 0), [(15, 0), (-15, -250)])
    assert by_radius[0] == 0 and by_time[0] == 1
    assert seconds[0] == pytest.approx((600 + 30 + 600) / SPEED, abs=1.0)
    # a radius of 240 s * 1.5 m/s would promise both within 4 minutes; walking, one is not
    incident = _snap(network, -15, 0)
    result = bounded_search(network, incident, budget_seconds=240, speed_mps=SPEED)
    lon, lat = toy_lonlat(np.array([15.0, -15.0]), np.array([0.0, -250.0]))
    snapped = snap_points(network, lon, lat)
    within = times_to_points(result, snapped.edge_id, snapped.offset_m)
    assert math.isinf(within[0]) and within[1] == pytest.approx(250 / SPEED, abs=0.5)


@pytest.fixture
def street():
    """A-B-C-D along y = 0, 100 m apart, plus a detour loop E over B-C."""
    return toy_network(
        {"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (300, 0)},
        [("A", "B", "一号路"), ("B", "C", "一号路"), ("C", "D", "二号路")],
    )[0]


def test_partial_edges_at_both_ends(street) -> None:
    source = _snap(street, 30, 5)
    target = _snap(street, 250, -5)
    assert source.offset_m == pytest.approx(30, abs=0.05)
    assert source.distance_m == pytest.approx(5, abs=0.01)
    result = bounded_search(street, source, budget_seconds=BUDGET, speed_mps=1.0)
    seconds = times_to_points(result, np.array([target.edge_id]), np.array([target.offset_m]))
    assert seconds[0] == pytest.approx(220, abs=0.1)
    route = walking_route(street, source, target, speed_mps=1.0)
    assert route.length_m == pytest.approx(220, abs=0.1)
    start, end = route.coordinates[0], route.coordinates[-1]
    assert haversine_m(*start, *toy_lonlat(30, 0)) < 0.05
    assert haversine_m(*end, *toy_lonlat(250, 0)) < 0.05
    assert [(s.name, round(s.length_m)) for s in route.steps] == [("一号路", 170), ("二号路", 50)]
    assert route.geojson()["type"] == "LineString"


def test_same_edge_source_and_target(street) -> None:
    source, target = _snap(street, 20, 0), _snap(street, 80, 0)
    assert source.edge_id == target.edge_id
    result = bounded_search(street, source, budget_seconds=100, speed_mps=1.0)
    seconds = times_to_points(result, np.array([target.edge_id]), np.array([target.offset_m]))
    assert seconds[0] == pytest.approx(60, abs=0.1)
    # nodes A and B are 20 and 80 s away, C (180 s) is beyond the budget
    assert result.node_ids.tolist() == [0, 1]
    np.testing.assert_allclose(result.seconds, [20, 80], atol=0.05)
    route = walking_route(street, target, source, speed_mps=1.0)
    assert route.length_m == pytest.approx(60, abs=0.1)
    assert len(route.steps) == 1 and route.steps[0].turn == "depart"


def test_same_edge_but_shorter_around() -> None:
    # one 1 km lane u -> v bending north, and a 50 m shortcut between the same nodes
    lane = np.array([(0, 0), (0, 475), (50, 475), (50, 0)], float)
    lon, lat = toy_lonlat(lane[:, 0], lane[:, 1])
    network = WalkingNetwork.from_edges(
        lon[[0, 3]], lat[[0, 3]], [0, 0], [1, 1],
        geom_offsets=np.array([0, 4, 6]),
        geom_lon=np.concatenate((lon, lon[[0, 3]])), geom_lat=np.concatenate((lat, lat[[0, 3]])),
        edge_names=["lane", "cut"],
    )
    assert network.edge_length_m[0] == pytest.approx(1000, abs=0.5)
    near_u, near_v = _snap(network, 2, 40), _snap(network, 48, 40)
    assert near_u.edge_id == near_v.edge_id == 0
    result = bounded_search(network, near_u, budget_seconds=BUDGET, speed_mps=1.0)
    seconds = times_to_points(result, np.array([0, 0]), np.array([near_v.offset_m, 500.0]))
    around = near_u.offset_m + network.edge_length_m[1] + (network.edge_length_m[0]
                                                            - near_v.offset_m)
    assert around == pytest.approx(130, abs=0.5)
    assert seconds[0] == pytest.approx(around, abs=1e-6)
    assert seconds[1] == pytest.approx(500 - near_u.offset_m, abs=1e-6)  # direct along the lane
    route = walking_route(network, near_u, near_v, speed_mps=1.0)
    assert route.length_m == pytest.approx(around, abs=1e-6)
    assert [s.name for s in route.steps] == ["lane", "cut", "lane"]


def test_snapping_prefers_the_main_component_and_reports_distance() -> None:
    network, _ = toy_network(
        {"a": (0, 0), "b": (500, 0), "c": (0, 300), "d": (500, 300),
         "i1": (200, 100), "i2": (300, 100)},  # a lone island path
        [("a", "b"), ("b", "d"), ("d", "c"), ("c", "a"), ("i1", "i2")],
    )
    assert network.node_in_main.tolist() == [True] * 4 + [False] * 2
    snapped = _snap(network, 250, 110)
    assert network.edge_in_main[snapped.edge_id]
    assert snapped.distance_m == pytest.approx(110, abs=0.01)
    island = _snap(network, 250, 110, main_component_only=False)
    assert island.distance_m == pytest.approx(10, abs=0.01)
    with pytest.raises(TooFarFromNetwork) as info:
        _snap(network, 250, 110, max_snap_m=50)
    assert info.value.distance_m == pytest.approx(110, abs=0.01)
    lon, lat = toy_lonlat(np.array([250.0, 250.0, 5000.0]), np.array([110.0, 10.0, 0.0]))
    many = snap_points(network, lon, lat, max_snap_m=50)
    assert many.ok.tolist() == [False, True, False]
    assert np.isnan(many.offset_m[0]) and many.edge_id[0] == -1
    with pytest.raises(TooFarFromNetwork) as far:
        snap_point(network, *toy_lonlat(50_000, 0))
    assert math.isinf(far.value.distance_m)


def test_no_route_between_components() -> None:
    network, _ = toy_network({"a": (0, 0), "b": (100, 0), "c": (0, 500), "d": (100, 500)},
                             [("a", "b"), ("c", "d")])
    a = _snap(network, 50, 0, main_component_only=False)
    c = _snap(network, 50, 500, main_component_only=False)
    with pytest.raises(NoRoute):
        walking_route(network, a, c, speed_mps=1.0)
    with pytest.raises(NoRoute):
        walking_route(network, a, _snap(network, 90, 0), speed_mps=1.0, max_seconds=10)


def test_turn_by_turn_directions() -> None:
    network, _ = toy_network(
        {"a": (0, 0), "b": (100, 0), "c": (100, 100), "d": (200, 100), "e": (250, 50)},
        [("a", "b", "East Rd"), ("b", "c", "North Rd"), ("c", "d", "Second Rd"),
         ("d", "e", "Slope")],
    )
    route = walking_route(network, _snap(network, 10, 0), _snap(network, 240, 60),
                          speed_mps=1.0)
    assert [(s.name, s.turn) for s in route.steps] == [
        ("East Rd", "depart"), ("North Rd", "left"), ("Second Rd", "right"),
        ("Slope", "slight_right")]
    assert sum(s.length_m for s in route.steps) == pytest.approx(route.length_m)


@pytest.mark.parametrize(
    ("delta", "turn"),
    [(0, "straight"), (15, "straight"), (-45, "slight_left"), (45, "slight_right"),
     (90, "right"), (-90, "left"), (150, "sharp_right"), (-150, "sharp_left"), (180, "uturn"),
     (350, "straight"), (270, "left")],
)
def test_turn_direction(delta: float, turn: str) -> None:
    assert turn_direction(delta) == turn


def test_isochrones_cut_partial_edges(street) -> None:
    source = _snap(street, 150, 0)
    result = bounded_search(street, source, budget_seconds=120, speed_mps=1.0)
    polygons = isochrones(result, [40, 120], buffer_m=10)
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polygons)
    inside_40 = [shapely.Point(*toy_lonlat(x, 0)) for x in (115, 150, 185)]
    outside_40 = [shapely.Point(*toy_lonlat(x, 0)) for x in (95, 205)]
    assert all(polygons[0].contains(p) for p in inside_40)
    assert not any(polygons[0].contains(p) for p in outside_40)
    assert polygons[1].contains(shapely.Point(*toy_lonlat(40, 0)))
    assert not polygons[1].contains(shapely.Point(*toy_lonlat(5, 0)))
    assert polygons[0].within(polygons[1].buffer(1e-5))
    with pytest.raises(ValueError, match="exceeds"):
        isochrones(result, [300])


def test_nearest_source_seconds(street) -> None:
    sources = snap_points(street, *toy_lonlat(np.array([10.0, 290.0]), np.array([0.0, 0.0])))
    nearest = nearest_source_seconds(street, sources.edge_id, sources.offset_m, speed_mps=2.0)
    np.testing.assert_allclose(nearest.seconds, [5, 45, 45, 5], atol=0.05)
    assert nearest.source.tolist() == [0, 0, 1, 1]
    cut = nearest_source_seconds(street, sources.edge_id, sources.offset_m, speed_mps=2.0,
                                 cutoff_seconds=30)
    assert np.isinf(cut.seconds[1:3]).all() and cut.source.tolist() == [0, -1, -1, 1]


def test_concurrent_searches_share_one_network() -> None:
    from concurrent.futures import ThreadPoolExecutor

    points = {f"{i},{j}": (60.0 * i, 60.0 * j) for i in range(12) for j in range(12)}
    edges = [(f"{i},{j}", f"{i + 1},{j}") for i in range(11) for j in range(12)]
    edges += [(f"{i},{j}", f"{i},{j + 1}") for i in range(12) for j in range(11)]
    network, _ = toy_network(points, edges)
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 660, (64, 2))
    snapped = snap_points(network, *toy_lonlat(xy[:, 0], xy[:, 1]))

    def all_times(i: int) -> np.ndarray:
        result = bounded_search(network, snapped[i], budget_seconds=300, speed_mps=SPEED)
        return times_to_points(result, snapped.edge_id, snapped.offset_m)

    expected = [all_times(i) for i in range(64)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(all_times, range(64)))
            for a, b in zip(got, expected, strict=True):
                np.testing.assert_array_equal(a, b)
    # symmetry: time from i to j equals time from j to i
    matrix = np.array(expected)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-9)


def test_warm_up_runs_every_kernel(street) -> None:
    from app.geo.warmup import warm_up

    warm_up()
    warm_up()  # once per process: the second call returns at once
    with pytest.raises(ValueError, match="snapped point"):
        bounded_search(street, SnappedPoint(-1, 0.0, 0.0, 0.0, 0.0), budget_seconds=1,
                       speed_mps=1.0)
    with pytest.raises(ValueError, match="speed"):
        bounded_search(street, _snap(street, 10, 0), budget_seconds=1, speed_mps=0.0)
