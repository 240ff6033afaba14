"""Walking-time searches: bounded one-to-many from an incident, many-to-one look-ups,
and whole-city multi-source nearest-facility search.

Walking is symmetric, so one search from the incident gives every responder's and
every AED's walking time to it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from app.geo import _kernels
from app.geo.network import WalkingNetwork
from app.geo.snap import SnappedPoint

__all__ = [
    "NearestSource",
    "SearchResult",
    "bounded_search",
    "nearest_source_seconds",
    "times_to_points",
]

_EMPTY_NODES = np.zeros(0, np.int32)


@dataclass(frozen=True, eq=False)
class SearchResult:
    """Walking seconds from `source` to every node reached within `budget_seconds`.

    `node_ids` are in increasing order of `seconds`.
    """

    network: WalkingNetwork
    source: SnappedPoint
    speed_mps: float
    budget_seconds: float
    node_ids: np.ndarray  # int32
    seconds: np.ndarray  # float64

    def dense_seconds(self) -> np.ndarray:
        """float64[n_nodes]: seconds per node, inf where not reached (allocates O(nodes))."""
        dense = np.full(self.network.node_count, np.inf)
        dense[self.node_ids] = self.seconds
        return dense


class _Workspace:
    """Per-thread reusable O(nodes) arrays; kernels restore them after each use."""

    def __init__(self, n_nodes: int, n_edges: int) -> None:
        self.dist = np.full(n_nodes, np.inf)
        self.settled = np.zeros(n_nodes, np.bool_)
        self.pred_edge = np.full(n_nodes, -1, np.int32)
        self.edge_bits = np.zeros((n_edges + 7) // 8, np.uint8)

    def reset(self, touched: np.ndarray) -> None:
        _kernels.reset_workspace(touched, self.dist, self.settled, self.pred_edge)


_local = threading.local()


def _workspace(network: WalkingNetwork) -> _Workspace:
    """This thread's workspace for networks of this size (kept for up to 4 sizes)."""
    spaces: dict[tuple[int, int], _Workspace] | None = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
    key = (network.node_count, network.edge_count)
    space = spaces.get(key)
    if space is None:
        if len(spaces) >= 4:
            spaces.clear()
        space = spaces[key] = _Workspace(*key)
    return space


def _seeds(network: WalkingNetwork, edge_ids: np.ndarray,
           offsets_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seed (node, metres) pairs for points on edges: both ends of each point's edge."""
    lengths = network.edge_length_m[edge_ids]
    offsets_m = np.clip(offsets_m, 0.0, lengths)
    nodes = np.concatenate((network.edge_u[edge_ids], network.edge_v[edge_ids]))
    costs = np.concatenate((offsets_m, lengths - offsets_m))
    return nodes.astype(np.int64), costs


def _check_speed(speed_mps: float) -> None:
    if not (speed_mps > 0 and math.isfinite(speed_mps)):
        raise ValueError("speed_mps must be a positive number")


def bounded_search(
    network: WalkingNetwork,
    source: SnappedPoint,
    *,
    budget_seconds: float,
    speed_mps: float,
) -> SearchResult:
    """Walking seconds from a snapped point to every node reachable within a budget.

    The search starts from both ends of the source's edge, with the partial costs
    `offset` and `length - offset`.

    Parameters
    ----------
    network
        The walking network.
    source
        Snapped start point (e.g. the incident).
    budget_seconds
        Time budget; nodes farther away are not reported.
    speed_mps
        Walking speed in metres per second.

    Returns
    -------
    SearchResult
    """
    _check_speed(speed_mps)
    if not budget_seconds >= 0:
        raise ValueError("budget_seconds must be >= 0")
    if not 0 <= source.edge_id < network.edge_count:
        raise ValueError("source is not a snapped point of this network")
    limit_m = budget_seconds * speed_mps
    nodes, costs = _seeds(network, np.array([source.edge_id]), np.array([source.offset_m]))
    space = _workspace(network)
    touched = _kernels.bounded_dijkstra(
        network.indptr, network.adj_node, network.adj_edge, network.edge_length_m, nodes, costs,
        limit_m, _EMPTY_NODES, space.dist, space.settled, space.pred_edge,
    )
    meters = space.dist[touched]
    space.reset(touched)
    order = np.argsort(meters, kind="stable")
    return SearchResult(network, source, float(speed_mps), float(budget_seconds),
                        touched[order], meters[order] / speed_mps)


def times_to_points(
    result: SearchResult,
    edge_ids: np.ndarray,
    offsets_m: np.ndarray,
) -> np.ndarray:
    """Walking seconds between the search source and many points on edges.

    A point is reached from its edge's u end (+ offset) or v end (+ length - offset),
    or directly when it lies on the source's own edge.

    Parameters
    ----------
    result
        A `bounded_search` result.
    edge_ids, offsets_m
        Pre-snapped points (e.g. responders, AEDs); `edge_id < 0` means not snapped.

    Returns
    -------
    numpy.ndarray
        float64 seconds per point, `inf` when beyond the budget or not snapped.
    """
    network = result.network
    edge_ids = np.asarray(edge_ids)
    if edge_ids.dtype not in (np.int32, np.int64):
        edge_ids = edge_ids.astype(np.int64)
    offsets_m = np.asarray(offsets_m, np.float64)
    space = _workspace(network)
    meters = _kernels.distances_at_points(
        result.node_ids, result.seconds * result.speed_mps, space.dist, space.edge_bits,
        network.indptr, network.adj_edge, network.edge_u, network.edge_v,
        network.edge_length_m, edge_ids, offsets_m,
        result.source.edge_id, result.source.offset_m,
        result.budget_seconds * result.speed_mps,
    )
    meters /= result.speed_mps
    return meters


@dataclass(frozen=True, eq=False)
class NearestSource:
    """Per node: walking seconds to the nearest source and that source's index (-1: none)."""

    seconds: np.ndarray  # float64[n_nodes], inf when beyond the cutoff / unreachable
    source: np.ndarray  # int32[n_nodes]


def nearest_source_seconds(
    network: WalkingNetwork,
    edge_ids: np.ndarray,
    offsets_m: np.ndarray,
    *,
    speed_mps: float,
    cutoff_seconds: float | None = None,
) -> NearestSource:
    """One multi-source search: for every node, the nearest source by walking time.

    Parameters
    ----------
    network
        The walking network.
    edge_ids, offsets_m
        Sources snapped onto edges (responders, usable AEDs); negative ids are ignored.
    speed_mps
        Walking speed.
    cutoff_seconds
        Stop the search here (nodes beyond get inf); None searches the whole network.

    Returns
    -------
    NearestSource
    """
    _check_speed(speed_mps)
    edge_ids = np.asarray(edge_ids, np.int64)
    offsets_m = np.asarray(offsets_m, np.float64)
    labels = np.flatnonzero(edge_ids >= 0).astype(np.int32)
    nodes, costs = _seeds(network, edge_ids[labels], offsets_m[labels])
    limit_m = math.inf if cutoff_seconds is None else cutoff_seconds * speed_mps
    meters, source = _kernels.multi_source_dijkstra(
        network.indptr, network.adj_node, network.adj_edge, network.edge_length_m, nodes,
        costs, np.concatenate((labels, labels)), limit_m, network.node_count,
    )
    return NearestSource(meters / speed_mps, source)


def times_from_sources(network: WalkingNetwork, source_edges: np.ndarray,
                       source_offsets_m: np.ndarray, budgets_seconds: np.ndarray,
                       point_edges: np.ndarray, point_offsets_m: np.ndarray, *,
                       speed_mps: float) -> np.ndarray:
    """Walking seconds from each source (an on-edge point with its own budget; a negative
    budget skips it) to each point: ``out[point, source]``, inf beyond the budget.

    The same as one `bounded_search` + `times_to_points` per source, in one compiled loop.
    """
    _check_speed(speed_mps)
    space = _workspace(network)
    meters = _kernels.distances_from_sources(
        network.indptr, network.adj_node, network.adj_edge, network.edge_length_m,
        network.edge_u, network.edge_v, np.asarray(source_edges, np.int64),
        np.asarray(source_offsets_m, np.float64),
        np.asarray(budgets_seconds, np.float64) * speed_mps,
        np.asarray(point_edges, np.int64), np.asarray(point_offsets_m, np.float64),
        space.dist, space.settled, space.pred_edge, space.edge_bits, _EMPTY_NODES)
    return meters / speed_mps
