"""Dispatch ranking (app.geo.dispatch) on hand-built graphs, and its objective checked
against brute force over every role assignment on small random graphs (fixed seed).
Coordinates are metres east/north of a point in Tianjin."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from app.geo.dispatch import (
    DispatchPlan,
    NetworkPoints,
    assign_roles,
    radius_policy,
    rank_for_incident,
)
from app.geo.network import WalkingNetwork
from app.geo.search import bounded_search, times_to_points
from app.geo.snap import SnappedPoint, snap_point, snap_points
from tests.geo.conftest import toy_lonlat, toy_network

SPEED = 1.8
BUDGET = 240.0


def _incident(network: WalkingNetwork, x: float, y: float) -> SnappedPoint:
    return snap_point(network, *toy_lonlat(x, y), main_component_only=False)


def _points(network: WalkingNetwork, xy, *, speed: float = SPEED) -> NetworkPoints:
    xy = np.asarray(xy, float).reshape(-1, 2)
    lon, lat = toy_lonlat(xy[:, 0], xy[:, 1])
    return NetworkPoints.from_snapped(
        snap_points(network, lon, lat, max_snap_m=1000.0, main_component_only=False),
        speed_mps=speed)


def _lonlat(xy) -> tuple[np.ndarray, np.ndarray]:
    xy = np.asarray(xy, float).reshape(-1, 2)
    return toy_lonlat(xy[:, 0], xy[:, 1])


def _roles(plan: DispatchPlan) -> dict[int, tuple[str, int | None]]:
    return {row.responder: (row.role, row.aed) for row in plan.responders}


def _check_used_once(plan: DispatchPlan) -> None:
    responders = [row.responder for row in plan.responders]
    fetched = [row.aed for row in plan.responders if row.role == "fetch_aed"]
    assert len(set(responders)) == len(responders)
    assert len(set(fetched)) == len(fetched)
    assert all(row.aed is None for row in plan.responders if row.role == "direct")


# ---------------------------------------------------------------------- hand-built graphs
@pytest.fixture
def river() -> WalkingNetwork:
    """North and south banks 40 m apart, one bridge at x = 800."""
    return toy_network(
        {"nw": (-1000, 20), "nb": (800, 20), "ne": (1000, 20),
         "sw": (-1000, -20), "sb": (800, -20), "se": (1000, -20)},
        [("nw", "nb"), ("nb", "ne"), ("sw", "sb"), ("sb", "se"), ("nb", "sb", "bridge")],
    )[0]


def test_radius_sends_someone_across_the_river_walking_picks_the_right_one(river) -> None:
    incident_xy = (0, 20)
    responders_xy = [(0, -20), (300, 20)]  # 40 m away across the river; 300 m on this bank
    incident = _incident(river, *incident_xy)
    responders = _points(river, responders_xy)
    no_aeds = NetworkPoints.on_streets(np.zeros(0, int), np.zeros(0))
    ours = rank_for_incident(river, incident, responders, no_aeds, speed_mps=SPEED,
                             budget_seconds=BUDGET, limit=1)
    assert [(r.responder, r.role) for r in ours.responders] == [(1, "direct")]
    assert ours.first_responder_seconds == pytest.approx(300 / SPEED, abs=0.5)
    assert ours.reachable_responders == 1 and ours.first_aed_seconds is None

    radius = radius_policy(river, incident, toy_lonlat(*incident_xy), responders,
                           _lonlat(responders_xy), no_aeds, (np.zeros(0), np.zeros(0)),
                           speed_mps=SPEED, budget_seconds=BUDGET, limit=1,
                           evaluate_seconds=3600)
    (sent,) = radius.responders
    assert sent.responder == 0  # promised "within 4 minutes" (40 m by straight line)
    assert sent.eta_seconds == pytest.approx((800 + 40 + 800) / SPEED, abs=1.0)
    assert sent.eta_seconds > BUDGET


@pytest.fixture
def street() -> WalkingNetwork:
    """One straight street along y = 0 from x = -1000 to 1000; the patient is at x = 0."""
    return toy_network({"w": (-1000, 0), "m": (0, 0), "e": (1000, 0)},
                       [("w", "m"), ("m", "e")])[0]


def test_optimal_fetch_beats_each_responder_to_its_nearest_aed(street) -> None:
    # R0 next to the patient; R1 at x=200 is nearest to A1 (x=350) but A2 (x=-100) is
    # on its way; R2 at x=-600 is nearest to A2.
    responders_xy = [(30, 0), (200, 0), (-600, 0)]
    aeds_xy = [(350, 0), (-100, 0)]
    incident = _incident(street, 0, 0)
    responders, aeds = _points(street, responders_xy), _points(street, aeds_xy)
    budget = 900.0
    plan = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                             budget_seconds=budget)
    assert _roles(plan) == {0: ("direct", None), 1: ("fetch_aed", 1), 2: ("fetch_aed", 0)}
    assert plan.first_aed_seconds == pytest.approx((100 + 300) / SPEED, abs=0.1)
    assert plan.first_responder_seconds == pytest.approx(30 / SPEED, abs=0.1)
    fetch = {r.responder: r for r in plan.responders}
    assert fetch[1].to_aed_seconds == pytest.approx(300 / SPEED, abs=0.1)
    assert fetch[2].eta_seconds == pytest.approx((950 + 350) / SPEED, abs=0.1)
    # greedy "each responder to its nearest AED": R1 -> A1 (150 + 350), R2 -> A2 (500 + 100)
    greedy_first_aed = min(150 + 350, 500 + 100) / SPEED
    assert plan.first_aed_seconds < greedy_first_aed - 50
    # the straight-line app does exactly that greedy choice
    radius = radius_policy(street, incident, toy_lonlat(0, 0), responders,
                           _lonlat(responders_xy), aeds, _lonlat(aeds_xy), speed_mps=SPEED,
                           budget_seconds=budget)
    assert _roles(radius) == {0: ("direct", None), 1: ("fetch_aed", 0), 2: ("fetch_aed", 1)}
    assert radius.first_aed_seconds == pytest.approx(greedy_first_aed, abs=0.1)
    _check_used_once(plan)
    _check_used_once(radius)


def test_only_nearby_responder_goes_direct_farther_one_fetches(street) -> None:
    responders_xy = [(10, 0), (-300, 0)]
    aeds_xy = [(30, 0)]  # right next to R0
    incident = _incident(street, 0, 0)
    responders, aeds = _points(street, responders_xy), _points(street, aeds_xy)
    plan = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                             budget_seconds=BUDGET)
    assert _roles(plan) == {0: ("direct", None), 1: ("fetch_aed", 0)}
    assert plan.first_responder_seconds == pytest.approx(10 / SPEED, abs=0.1)
    assert plan.first_aed_seconds == pytest.approx((330 + 30) / SPEED, abs=0.1)
    assert [r.responder for r in plan.responders] == [0, 1]  # by arrival
    assert [a.aed for a in plan.aeds] == [0]
    assert plan.aeds[0].eta_seconds == pytest.approx(30 / SPEED, abs=0.1)
    assert plan.aeds[0].distance_m == pytest.approx(30, abs=0.1)

    # allowing the first arrival to be 60 s late: the nearby responder grabs the AED
    grab = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                             budget_seconds=BUDGET, cpr_delay_seconds=60)
    assert _roles(grab) == {0: ("fetch_aed", 0), 1: ("direct", None)}
    assert grab.first_aed_seconds == pytest.approx((20 + 30) / SPEED, abs=0.1)
    assert grab.first_responder_seconds == grab.first_aed_seconds
    # ... unless the other can fetch nearly as early (slack on the first AED)
    slack = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                              budget_seconds=BUDGET, cpr_delay_seconds=60,
                              aed_slack_seconds=200)
    assert _roles(slack) == _roles(plan)
    # a responder without an AED-use certificate never fetches
    uncertified = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                                    budget_seconds=BUDGET, can_fetch=np.array([True, False]))
    assert _roles(uncertified) == {0: ("direct", None), 1: ("direct", None)}
    assert uncertified.first_aed_seconds is None
    # a lone responder goes direct, and with the delay allowed fetches on the way
    lone = responders.take(np.array([0]))
    assert _roles(rank_for_incident(street, incident, lone, aeds, speed_mps=SPEED,
                                    budget_seconds=BUDGET)) == {0: ("direct", None)}
    assert _roles(rank_for_incident(street, incident, lone, aeds, speed_mps=SPEED,
                                    budget_seconds=BUDGET, cpr_delay_seconds=30)) == {
        0: ("fetch_aed", 0)}
    # no cardiac arrest: everyone direct, AEDs still listed
    plain = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                              budget_seconds=BUDGET, fetch_aed=False)
    assert _roles(plain) == {0: ("direct", None), 1: ("direct", None)}
    assert plain.first_aed_seconds is None and len(plain.aeds) == 1


def test_aed_on_the_way_is_picked_up_without_delay(street) -> None:
    # the AED lies between R0 and the patient: fetching costs R0 nothing
    responders_xy = [(100, 0), (-200, 0)]
    incident = _incident(street, 0, 0)
    plan = rank_for_incident(street, incident, _points(street, responders_xy),
                             _points(street, [(40, 0)]), speed_mps=SPEED, budget_seconds=BUDGET)
    assert _roles(plan) == {0: ("fetch_aed", 0), 1: ("direct", None)}
    assert plan.first_aed_seconds == pytest.approx(100 / SPEED, abs=0.1)


def test_off_street_legs_are_added() -> None:
    network = toy_network({"a": (0, 0), "b": (1000, 0)}, [("a", "b")])[0]
    incident = _incident(network, 0, 0)
    responders = NetworkPoints(np.array([0, 0]), np.array([100.0, 200.0]), np.array([200.0, 0]))
    aeds = NetworkPoints(np.array([0]), np.array([150.0]), np.array([10.0]))
    plan = rank_for_incident(network, incident, responders, aeds, speed_mps=1.0,
                             budget_seconds=BUDGET, incident_extra_seconds=5.0)
    # R0: 200 + 100 + 5 = 305 s > budget; R1: 205 s; AED: 10 + 150 + 5 = 165 s
    assert plan.reachable_responders == 1
    assert [(a.aed, a.eta_seconds) for a in plan.aeds] == [(0, pytest.approx(165.0))]
    # a lone responder goes direct; fetching would take 50 + 10 + 165 = 225 s
    assert _roles(plan) == {1: ("direct", None)}
    grab = rank_for_incident(network, incident, responders, aeds, speed_mps=1.0,
                             budget_seconds=BUDGET, incident_extra_seconds=5.0,
                             cpr_delay_seconds=30.0)
    (row,) = grab.responders
    assert row.role == "fetch_aed" and row.eta_seconds == pytest.approx(225.0)
    assert row.to_aed_seconds == pytest.approx(60.0)


def test_nothing_reachable(street) -> None:
    incident = _incident(street, 0, 0)
    far = _points(street, [(900, 0), (-800, 0)])
    plan = rank_for_incident(street, incident, far, far, speed_mps=SPEED,
                             budget_seconds=BUDGET)
    assert plan.responders == () and plan.aeds == ()
    assert plan.first_responder_seconds is None and plan.first_aed_seconds is None
    assert plan.reachable_responders == 0
    empty = NetworkPoints.on_streets(np.zeros(0, int), np.zeros(0))
    plan = rank_for_incident(street, incident, empty, empty, speed_mps=SPEED,
                             budget_seconds=BUDGET)
    assert plan.responders == () and plan.first_responder_seconds is None
    unsnapped = NetworkPoints(np.array([-1]), np.array([np.nan]), np.array([0.0]))
    plan = rank_for_incident(street, incident, unsnapped, unsnapped, speed_mps=SPEED,
                             budget_seconds=BUDGET)
    assert plan.responders == () and plan.aeds == ()


def test_limit_and_input_validation(street) -> None:
    incident = _incident(street, 0, 0)
    responders = _points(street, [(10, 0), (-50, 0), (80, 0), (120, 0)])
    aeds = _points(street, [(100, 0), (-60, 0), (-90, 0)])
    for limit in (1, 2, 3, None):
        plan = rank_for_incident(street, incident, responders, aeds, speed_mps=SPEED,
                                 budget_seconds=BUDGET, limit=limit)
        assert len(plan.responders) == (limit or 4)
        _check_used_once(plan)
        assert plan.responders[0].responder == 0  # the nearest is never delayed
    with pytest.raises(ValueError, match="limit"):
        assign_roles(np.ones(2), np.ones((2, 1)), limit=0)
    with pytest.raises(ValueError, match="equal lengths"):
        NetworkPoints(np.zeros(2, int), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="extra_seconds"):
        NetworkPoints(np.zeros(1, int), np.zeros(1), np.array([-1.0]))


# ---------------------------------------------------------------------- brute force
def _quantize(x: float) -> float:
    return round(x, 6) if math.isfinite(x) else math.inf


def brute_force_objective(t: np.ndarray, f: np.ndarray, *, limit: int | None,
                          max_fetchers: int, delay: float, slack: float) -> tuple:
    """(first arrival, 1st, 2nd, ... AED arrival) of the optimum, by enumeration of every
    role (not alerted / direct / fetch AED j) of every responder."""
    n, m = f.shape
    limit = n if limit is None else limit
    values = []
    for roles in itertools.product(range(-2, m), repeat=n):  # -2 none, -1 direct, j fetch
        fetch = [(i, j) for i, j in enumerate(roles) if j >= 0]
        if (len(fetch) > max_fetchers or len({j for _, j in fetch}) < len(fetch)
                or sum(j != -2 for j in roles) > limit
                or not all(math.isfinite(f[i, j]) for i, j in fetch)):
            continue
        arrivals = [t[i] for i, j in enumerate(roles) if j == -1] + [f[i, j] for i, j in fetch]
        aeds = sorted(_quantize(f[i, j]) for i, j in fetch)
        aeds += [math.inf] * (max_fetchers - len(aeds))
        values.append((_quantize(min(arrivals, default=math.inf)), *aeds))
    t1 = _quantize(float(t.min()))
    feasible = [v for v in values if v[0] <= t1 + delay + 1e-6]
    best_aed = min(v[1] for v in feasible)
    return min(v for v in feasible if v[1] <= best_aed + slack + 1e-6)


def _plan_objective(plan: DispatchPlan, max_fetchers: int) -> tuple:
    aeds = sorted(_quantize(r.eta_seconds) for r in plan.responders if r.role == "fetch_aed")
    aeds += [math.inf] * (max_fetchers - len(aeds))
    first = plan.first_responder_seconds
    return (_quantize(first) if first is not None else math.inf, *aeds)


def _random_network(rng: np.random.Generator) -> tuple[WalkingNetwork, np.ndarray]:
    """10 random junctions in 600 x 600 m, each joined to its 2 nearest (may be
    disconnected), and 9 random points near its streets (metres)."""
    xy = rng.uniform(0, 600, (10, 2))
    pairs = set()
    for i in range(10):
        near = np.argsort(np.hypot(*(xy - xy[i]).T))[1:3]
        pairs |= {(min(i, int(j)), max(i, int(j))) for j in near}
    edges = sorted(pairs)
    points = {f"n{i}": tuple(p) for i, p in enumerate(xy)}
    network = toy_network(points, [(f"n{a}", f"n{b}") for a, b in edges])[0]
    pick = rng.integers(0, len(edges), 9)
    ends = np.array(edges)[pick]
    frac = rng.uniform(0, 1, (9, 1))
    sites = xy[ends[:, 0]] + frac * (xy[ends[:, 1]] - xy[ends[:, 0]])
    return network, sites + rng.normal(0, 10, (9, 2))


def _ground_truth_seconds(network: WalkingNetwork, sites: list[tuple[int, float]],
                          speed: float) -> np.ndarray:
    """All-pairs walking seconds between points on edges, by NetworkX on a graph with
    every point inserted into its edge."""
    graph = nx.Graph()
    graph.add_nodes_from(range(network.node_count))
    on_edge: dict[int, list[tuple[float, int]]] = {}
    for k, (edge, offset) in enumerate(sites):
        on_edge.setdefault(edge, []).append((offset, network.node_count + k))
    for e in range(network.edge_count):
        chain = [(0.0, int(network.edge_u[e])), *sorted(on_edge.get(e, [])),
                 (float(network.edge_length_m[e]), int(network.edge_v[e]))]
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            w = o2 - o1
            if graph.has_edge(a, b):
                w = min(w, graph[a][b]["w"])
            graph.add_edge(a, b, w=w)
    ids = [network.node_count + k for k in range(len(sites))]
    out = np.full((len(ids), len(ids)), np.inf)
    for i, a in enumerate(ids):
        dist = nx.single_source_dijkstra_path_length(graph, a, weight="w")
        out[i] = [dist.get(b, math.inf) for b in ids]
    return out / speed


@pytest.mark.parametrize("seed", range(6))
def test_objective_matches_brute_force_on_random_graphs(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    speed, budget = 1.5, 420.0
    checked = 0
    for _ in range(5):
        network, xy = _random_network(rng)
        lon, lat = toy_lonlat(xy[:, 0], xy[:, 1])
        snapped = snap_points(network, lon, lat, max_snap_m=80.0, main_component_only=False)
        if not snapped.ok[0]:
            continue
        incident = snapped[0]
        inc_extra = incident.distance_m / speed
        responders = NetworkPoints.from_snapped(
            snap_points(network, lon[1:6], lat[1:6], max_snap_m=80.0,
                        main_component_only=False), speed_mps=speed)
        aeds = NetworkPoints.from_snapped(
            snap_points(network, lon[6:], lat[6:], max_snap_m=80.0,
                        main_component_only=False), speed_mps=speed)
        # ground truth
        sites = [(incident.edge_id, incident.offset_m)]
        sites += [(int(e), float(o)) for e, o in zip(responders.edge_ids, responders.offsets_m,
                                                      strict=True) if e >= 0]
        on_r = np.flatnonzero(responders.edge_ids >= 0)
        on_a = np.flatnonzero(aeds.edge_ids >= 0)
        sites += [(int(aeds.edge_ids[a]), float(aeds.offsets_m[a])) for a in on_a]
        walk = _ground_truth_seconds(network, sites, speed)
        t_r = np.full(len(responders), np.inf)
        t_r[on_r] = walk[0, 1:1 + on_r.size] + responders.extra_seconds[on_r] + inc_extra
        t_a = np.full(len(aeds), np.inf)
        t_a[on_a] = walk[0, 1 + on_r.size:] + aeds.extra_seconds[on_a] + inc_extra
        r_a = np.full((len(responders), len(aeds)), np.inf)
        r_a[np.ix_(on_r, on_a)] = walk[1:1 + on_r.size, 1 + on_r.size:]
        eligible = np.flatnonzero(t_r <= budget)
        usable = np.flatnonzero(t_a <= budget)
        fetch = (responders.extra_seconds[:, None] + r_a + aeds.extra_seconds[None, :]
                 + t_a[None, :])
        fetch = fetch[np.ix_(eligible, usable)]
        fetch[fetch > budget] = np.inf

        for limit, delay, slack in [(None, 0.0, 0.0), (None, 40.0, 0.0), (2, 40.0, 30.0),
                                    (1, 60.0, 0.0), (3, 0.0, 0.0)]:
            plan = rank_for_incident(network, incident, responders, aeds, speed_mps=speed,
                                     budget_seconds=budget, limit=limit,
                                     cpr_delay_seconds=delay, aed_slack_seconds=slack,
                                     incident_extra_seconds=inc_extra)
            _check_used_once(plan)
            assert plan.reachable_responders == eligible.size
            assert [a.aed for a in plan.aeds] == sorted(usable.tolist(),
                                                        key=lambda a: (t_a[a], a))
            for row in plan.responders:
                assert row.direct_seconds == pytest.approx(t_r[row.responder], abs=1e-6)
                if row.role == "fetch_aed":
                    assert row.eta_seconds == pytest.approx(
                        responders.extra_seconds[row.responder] + r_a[row.responder, row.aed]
                        + aeds.extra_seconds[row.aed] + t_a[row.aed], abs=1e-6)
                    assert row.eta_seconds <= budget + 1e-9
            if eligible.size == 0:
                assert plan.responders == () and plan.first_responder_seconds is None
                continue
            expected = brute_force_objective(t_r[eligible], fetch, limit=limit,
                                             max_fetchers=2, delay=delay, slack=slack)
            assert _plan_objective(plan, 2) == pytest.approx(expected, abs=1e-5)
            assert len(plan.responders) == min(limit or eligible.size, eligible.size)
            checked += 1
    assert checked >= 5


def test_assign_roles_brute_force_on_random_matrices() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        n, m = int(rng.integers(1, 6)), int(rng.integers(0, 4))
        t = rng.uniform(10, 200, n)
        f = t[:, None] + rng.uniform(0, 250, (n, m))
        f[rng.uniform(size=(n, m)) < 0.3] = np.inf
        for limit, k, delay, slack in [(None, 2, 0.0, 0.0), (None, 3, 50.0, 20.0),
                                       (2, 2, 100.0, 0.0), (1, 1, 80.0, 0.0)]:
            roles = assign_roles(t, f, limit=limit, max_fetchers=k, cpr_delay_seconds=delay,
                                 aed_slack_seconds=slack)
            used = np.concatenate((roles.direct, roles.fetch_responder))
            assert len(set(used.tolist())) == used.size <= (limit or n)
            assert len(set(roles.fetch_aed.tolist())) == roles.fetch_aed.size <= k
            fetched = sorted(_quantize(f[i, j]) for i, j in zip(roles.fetch_responder,
                                                                 roles.fetch_aed, strict=True))
            first = roles.first_responder_seconds
            got = (_quantize(first) if first is not None else math.inf,
                   *fetched, *[math.inf] * (k - len(fetched)))
            expected = brute_force_objective(t, f, limit=limit, max_fetchers=k, delay=delay,
                                             slack=slack)
            assert got == pytest.approx(expected, abs=1e-5)


@pytest.mark.realdata
def test_real_extract_fetch_legs_match_searches_from_each_responder(extract) -> None:
    """BUPT campus (© OpenStreetMap contributors): the per-AED searches with pruning give
    the same plan as legs measured by one search from every responder."""
    network = extract("china/beijing_haidian_bupt_2025.osm.pbf").network
    rng = np.random.default_rng(11)
    main = np.flatnonzero(network.edge_in_main)

    def on_streets(count: int) -> NetworkPoints:
        edges = rng.choice(main, count)
        return NetworkPoints.on_streets(
            edges, rng.uniform(0, 1, count) * network.edge_length_m[edges],
            rng.uniform(0, 20, count))

    responders, aeds = on_streets(40), on_streets(12)
    fetched = 0
    for edge, offset in zip(rng.choice(main, 40), rng.uniform(0, 1, 40), strict=True):
        incident = SnappedPoint(int(edge), float(offset * network.edge_length_m[edge]),
                                math.nan, math.nan, 0.0)
        plan = rank_for_incident(network, incident, responders, aeds, speed_mps=SPEED,
                                 budget_seconds=BUDGET, limit=4)
        t_r = np.array([_walk(network, incident, responders, i) for i in range(40)])
        t_a = np.array([_walk(network, incident, aeds, j) for j in range(12)])
        eligible, usable = np.flatnonzero(t_r <= BUDGET), np.flatnonzero(t_a <= BUDGET)
        fetch = np.full((eligible.size, usable.size), np.inf)
        for i, r in enumerate(eligible):
            source = SnappedPoint(int(responders.edge_ids[r]), float(responders.offsets_m[r]),
                                  math.nan, math.nan, 0.0)
            legs = np.array([_walk(network, source, aeds, a, budget=BUDGET) for a in usable])
            fetch[i] = legs + responders.extra_seconds[r] + t_a[usable]  # legs: + extra_a
        fetch[fetch > BUDGET] = np.inf
        expected = assign_roles(t_r[eligible], fetch, limit=4)
        assert plan.reachable_responders == eligible.size
        assert plan.first_responder_seconds == pytest.approx(expected.first_responder_seconds,
                                                             abs=1e-6)
        assert plan.first_aed_seconds == pytest.approx(expected.first_aed_seconds, abs=1e-6)
        assert sorted(r.responder for r in plan.responders if r.role == "fetch_aed") == sorted(
            eligible[expected.fetch_responder].tolist())
        fetched += plan.first_aed_seconds is not None
    assert fetched >= 5


def _walk(network: WalkingNetwork, source: SnappedPoint, points: NetworkPoints, k: int, *,
          budget: float = BUDGET) -> float:
    """Walking seconds source -> point k (+ the point's off-street leg), inf beyond budget."""
    result = bounded_search(network, source, budget_seconds=budget, speed_mps=SPEED)
    walk = times_to_points(result, points.edge_ids[k:k + 1], points.offsets_m[k:k + 1])[0]
    return float(walk + points.extra_seconds[k])
