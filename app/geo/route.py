"""Shortest walking route between two snapped points, with turn-by-turn steps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.geo import _kernels
from app.geo.errors import NoRoute
from app.geo.network import WalkingNetwork
from app.geo.search import _check_speed, _seeds, _workspace
from app.geo.snap import SnappedPoint

__all__ = ["Route", "RouteStep", "turn_direction", "walking_route"]


@dataclass(frozen=True, slots=True)
class RouteStep:
    """A stretch along one street name; `turn` is how it starts ("depart" for the first)."""

    name: str | None
    length_m: float
    seconds: float
    turn: str


@dataclass(frozen=True, eq=False)
class Route:
    """A walking route: lon/lat polyline (partial first and last edges included)."""

    coordinates: np.ndarray  # float64[k, 2] lon/lat
    length_m: float
    seconds: float
    steps: tuple[RouteStep, ...]
    edge_ids: np.ndarray  # int32, the edges walked, in order

    def geojson(self) -> dict[str, Any]:
        """The route as a GeoJSON LineString geometry."""
        return {"type": "LineString", "coordinates": self.coordinates.tolist()}


def turn_direction(delta_deg: float) -> str:
    """Classify a change of bearing (degrees, positive = clockwise) as a turn.

    Returns one of straight, slight_left/right, left/right, sharp_left/right, uturn.
    """
    delta = (delta_deg + 180.0) % 360.0 - 180.0
    magnitude = abs(delta)
    if magnitude < 20.0:
        return "straight"
    if magnitude > 170.0:
        return "uturn"
    side = "right" if delta > 0 else "left"
    if magnitude < 60.0:
        return f"slight_{side}"
    if magnitude < 130.0:
        return side
    return f"sharp_{side}"


def walking_route(
    network: WalkingNetwork,
    source: SnappedPoint,
    target: SnappedPoint,
    *,
    speed_mps: float,
    max_seconds: float | None = None,
) -> Route:
    """Shortest walking path between two snapped points.

    Parameters
    ----------
    network
        The walking network.
    source, target
        Snapped end points.
    speed_mps
        Walking speed, for `seconds`.
    max_seconds
        Give up beyond this walking time (bounds the search).

    Returns
    -------
    Route

    Raises
    ------
    NoRoute
        The points are not connected (within `max_seconds`).
    """
    _check_speed(speed_mps)
    limit_m = math.inf if max_seconds is None else max_seconds * speed_mps
    se, te = source.edge_id, target.edge_id
    s_len, t_len = float(network.edge_length_m[se]), float(network.edge_length_m[te])
    s_off = min(max(source.offset_m, 0.0), s_len)
    t_off = min(max(target.offset_m, 0.0), t_len)
    tu, tv = int(network.edge_u[te]), int(network.edge_v[te])

    nodes, costs = _seeds(network, np.array([se]), np.array([s_off]))
    space = _workspace(network)
    touched = _kernels.bounded_dijkstra(
        network.indptr, network.adj_node, network.adj_edge, network.edge_length_m, nodes, costs,
        limit_m, np.array([tu, tv], np.int64), space.dist, space.settled, space.pred_edge,
    )
    try:
        best = math.inf
        via: tuple[int, float] | None = None  # (end node of the target edge, its fraction)
        if se == te:
            best = abs(s_off - t_off)
        for node, extra, end_frac in ((tu, t_off, 0.0), (tv, t_len - t_off, 1.0)):
            if space.settled[node] and space.dist[node] + extra < best:
                best = float(space.dist[node] + extra)
                via = (node, end_frac)
        if math.isinf(best) or best > limit_m:
            raise NoRoute("no walking route between the points"
                          + ("" if max_seconds is None else f" within {max_seconds:.0f} s"))
        pieces = _pieces(network, space, se, s_off / s_len if s_len else 0.0, te,
                         t_off / t_len if t_len else 0.0, via)
    finally:
        space.reset(touched)
    return _assemble(network, pieces, best, speed_mps)


def _pieces(network: WalkingNetwork, space: Any, se: int, s_frac: float, te: int,
            t_frac: float, via: tuple[int, float] | None) -> list[tuple[int, float, float]]:
    """(edge, from fraction, to fraction) stretches from source to target."""
    if via is None:
        return [(se, s_frac, t_frac)]
    chain: list[int] = []
    node, end_frac = via
    while space.pred_edge[node] >= 0:
        edge = int(space.pred_edge[node])
        chain.append(edge)
        u, v = int(network.edge_u[edge]), int(network.edge_v[edge])
        node = u if v == node else v
    first = node  # a seed: an end of the source edge
    su, sv = int(network.edge_u[se]), int(network.edge_v[se])
    to_u = first == su and (first != sv or s_frac <= 0.5)
    pieces = [(se, s_frac, 0.0 if to_u else 1.0)]
    node = first
    for edge in reversed(chain):
        forward = int(network.edge_u[edge]) == node
        pieces.append((edge, 0.0, 1.0) if forward else (edge, 1.0, 0.0))
        node = int(network.edge_v[edge]) if forward else int(network.edge_u[edge])
    pieces.append((te, end_frac, t_frac))
    return pieces


def _bearing(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _end_bearings(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    dx, dy = np.diff(x), np.diff(y)
    moving = np.flatnonzero(np.hypot(dx, dy) > 1e-6)
    if moving.size == 0:
        return None
    i, j = moving[0], moving[-1]
    return _bearing(dx[i], dy[i]), _bearing(dx[j], dy[j])


def _assemble(network: WalkingNetwork, pieces: list[tuple[int, float, float]],
              length_m: float, speed_mps: float) -> Route:
    edges = np.array([p[0] for p in pieces], np.int64)
    starts = np.array([p[1] for p in pieces], np.float64)
    ends = np.array([p[2] for p in pieces], np.float64)
    x, y, offsets = _kernels.cut_polylines(network.geom_x, network.geom_y, network.geom_offsets,
                                           edges, starts, ends)
    steps: list[RouteStep] = []
    last_bearing: float | None = None
    group_name: str | None = None
    group_length = 0.0
    group_turn = "depart"
    started = False
    for k, (edge, f0, f1) in enumerate(pieces):
        piece_length = abs(f1 - f0) * float(network.edge_length_m[edge])
        bearings = _end_bearings(x[offsets[k]:offsets[k + 1]], y[offsets[k]:offsets[k + 1]])
        if bearings is None or piece_length <= 0.0:
            continue
        name = network.edge_name_of(edge)
        if not started or name != group_name:
            if started:
                steps.append(RouteStep(group_name, group_length, group_length / speed_mps,
                                       group_turn))
            group_turn = ("depart" if last_bearing is None
                          else turn_direction(bearings[0] - last_bearing))
            group_name, group_length, started = name, 0.0, True
        group_length += piece_length
        last_bearing = bearings[1]
    if started:
        steps.append(RouteStep(group_name, group_length, group_length / speed_mps, group_turn))

    keep = np.ones(x.shape[0], bool)
    keep[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    x, y = x[keep], y[keep]
    if x.shape[0] == 1:
        x, y = np.repeat(x, 2), np.repeat(y, 2)
    lon, lat = network.to_lonlat(x, y)
    return Route(np.column_stack((lon, lat)), float(length_m), float(length_m) / speed_mps,
                 tuple(steps), edges.astype(np.int32))
