"""Where new AEDs would close the most coverage gaps, and which existing ones add least.

Greedy maximal covering (lazy greedy, CELF) over a sparse candidate × demand matrix:

- demand: weighted points that can be reached by walking — the uncovered street
  length cut into short stretches (`length_demand`, weight = metres) and/or buildings
  (`point_demand`, weight = floor area or residents), each with its current nearest
  time from an `EdgeCoverage`;
- candidates: network nodes (`node_sites`) or buildings snapped onto the network
  (`point_sites`, their off-street leg included);
- a candidate covers a demand point when walking candidate → point (+ both off-street
  legs) fits in the budget: one bounded search per candidate (`bounded_search`, the
  compiled kernel), then a look-up of the demand points on the edges it reached.

Greedy maximal covering is a (1 - 1/e)-approximation of the best set of `count`
sites; the marginal gains it reports are non-increasing (the objective is submodular).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import sparse

from app.geo import _kernels
from app.geo.coverage import EdgeCoverage, covered_stretches, edge_coverage, uncovered_stretches
from app.geo.network import WalkingNetwork
from app.geo.search import bounded_search
from app.geo.snap import SnappedPoint, SnappedPoints

__all__ = [
    "Demand",
    "Placement",
    "Sites",
    "SourceValues",
    "coverage_matrix",
    "greedy_max_cover",
    "least_valuable_sources",
    "length_demand",
    "node_sites",
    "place_sources",
    "point_demand",
    "point_sites",
    "site_lonlat",
]

_TOLERANCE_M = 1e-9


# ====================================================================== inputs
@dataclass(frozen=True, eq=False)
class Demand:
    """Weighted demand points on the network.

    A point is reached by walking to ``offset_m`` along ``edge_id`` and then
    ``extra_seconds`` more (a building's off-street leg); ``seconds`` is its current
    nearest-source time (inf: none).
    """

    edge_id: np.ndarray  # int64
    offset_m: np.ndarray
    extra_seconds: np.ndarray
    weight: np.ndarray
    seconds: np.ndarray

    def __len__(self) -> int:
        return int(self.edge_id.shape[0])

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    def subset(self, mask: np.ndarray) -> Demand:
        return Demand(self.edge_id[mask], self.offset_m[mask], self.extra_seconds[mask],
                      self.weight[mask], self.seconds[mask])

    @staticmethod
    def concat(*parts: Demand) -> Demand:
        """One demand from several (weights must be in comparable units)."""
        return Demand(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("edge_id", "offset_m", "extra_seconds", "weight", "seconds")))


def length_demand(
    coverage: EdgeCoverage,
    *,
    covered: bool = False,
    step_m: float = 25.0,
    budget_seconds: float | None = None,
) -> Demand:
    """Street length as demand: the uncovered (or covered) stretches, cut into pieces.

    Each stretch (exact cut points from the coverage) is split into equal pieces of
    at most `step_m`; a piece is one demand point at its middle weighted by its
    length in metres. A new site is credited with a piece when it reaches the piece's
    middle in time, so gains are exact to within about `step_m / 2` per stretch end.

    Parameters
    ----------
    coverage
        Current coverage (existing AEDs).
    covered
        False: the uncovered length (demand for new sites); True: the covered length
        (to value existing sites).
    step_m
        Longest piece.
    budget_seconds
        Budget of the stretches (default the coverage's).
    """
    if not step_m > 0:
        raise ValueError("step_m must be > 0")
    pick = covered_stretches if covered else uncovered_stretches
    stretches = pick(coverage, budget_seconds=budget_seconds)
    length = stretches.end_m - stretches.start_m
    pieces = np.maximum(np.ceil(length / step_m), 1).astype(np.int64)
    owner = np.repeat(np.arange(len(stretches)), pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(owner.shape[0]) - first[owner]
    size = length[owner] / pieces[owner]
    offset = stretches.start_m[owner] + (k + 0.5) * size
    edge = stretches.edge_id[owner].astype(np.int64)
    seconds = coverage.point_seconds(edge, offset)
    return Demand(edge, offset, np.zeros(edge.shape[0]), size, seconds)


def point_demand(
    coverage: EdgeCoverage,
    snapped: SnappedPoints,
    weights: np.ndarray,
    *,
    covered: bool | None = False,
    budget_seconds: float | None = None,
) -> Demand:
    """Weighted points (buildings) as demand, with their off-street leg.

    Parameters
    ----------
    coverage
        Current coverage.
    snapped
        The points snapped onto the network (unsnapped ones are dropped).
    weights
        Weight per point (floor area, residents).
    covered
        False: only points beyond the budget; True: only those within; None: all.
    budget_seconds
        Default the coverage's.
    """
    budget = coverage.budget_seconds if budget_seconds is None else float(budget_seconds)
    weights = np.asarray(weights, np.float64)
    ok = snapped.ok
    extra = np.where(ok, np.nan_to_num(snapped.distance_m), 0.0) / coverage.speed_mps
    edge = snapped.edge_id.astype(np.int64)
    offset = np.nan_to_num(snapped.offset_m)
    seconds = coverage.point_seconds(edge, offset, extra)
    keep = ok & (weights > 0)
    if covered is not None:
        keep &= (seconds <= budget) if covered else (seconds > budget)
    return Demand(edge[keep], offset[keep], extra[keep], weights[keep], seconds[keep])


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate or existing AED positions on the network (+ an off-street leg)."""

    edge_id: np.ndarray  # int64
    offset_m: np.ndarray
    extra_seconds: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return int(self.edge_id.shape[0])

    def subset(self, index: np.ndarray) -> Sites:
        return Sites(self.edge_id[index], self.offset_m[index], self.extra_seconds[index],
                     self.lon[index], self.lat[index])


def node_sites(network: WalkingNetwork, node_ids: np.ndarray) -> Sites:
    """Sites at network nodes (placed at the end of one incident edge)."""
    nodes = np.asarray(node_ids, np.int64)
    degree = np.diff(network.indptr)[nodes]
    if np.any(degree == 0):
        raise ValueError("isolated node: no edge to place a site on")
    edge = network.adj_edge[network.indptr[nodes]].astype(np.int64)
    offset = np.where(network.edge_u[edge] == nodes, 0.0, network.edge_length_m[edge])
    return Sites(edge, offset, np.zeros(nodes.shape[0]), network.node_lon[nodes],
                 network.node_lat[nodes])


def point_sites(snapped: SnappedPoints, *, speed_mps: float,
                lon: np.ndarray | None = None, lat: np.ndarray | None = None) -> Sites:
    """Sites at snapped points (buildings, AED cabinets); unsnapped points are dropped.

    The off-street leg (snap distance at `speed_mps`) becomes the site's extra seconds;
    `lon`/`lat` (default: the snapped position) label the sites.
    """
    ok = snapped.ok
    lon = snapped.lon if lon is None else np.asarray(lon, np.float64)
    lat = snapped.lat if lat is None else np.asarray(lat, np.float64)
    return Sites(snapped.edge_id[ok].astype(np.int64), snapped.offset_m[ok],
                 snapped.distance_m[ok] / speed_mps, lon[ok], lat[ok])


# ====================================================================== matrix
@njit(cache=True, nogil=True)
def _hits(nodes, node_m, dist, seen, indptr, adj_edge, edge_u, edge_v, edge_len, dem_ptr,
          dem_idx, dem_off, dem_extra_m, site_edge, site_off, limit, out, n_out):
    """Demand points within `limit` metres of a search result; appended to `out`.

    `dist` (inf) and `seen` (0 per edge) are workspaces, restored on exit.
    """
    for i in range(nodes.shape[0]):
        dist[nodes[i]] = node_m[i]
    for i in range(nodes.shape[0] + 1):
        if i < nodes.shape[0]:
            node = nodes[i]
            lo = indptr[node]
            hi = indptr[node + 1]
        else:  # the site's own edge, even when neither end was reached
            lo = 0
            hi = 1
        for k in range(lo, hi):
            e = adj_edge[k] if i < nodes.shape[0] else site_edge
            if seen[e]:
                continue
            seen[e] = 1
            for j in range(dem_ptr[e], dem_ptr[e + 1]):
                d = dem_idx[j]
                off = dem_off[d]
                best = min(dist[edge_u[e]] + off, dist[edge_v[e]] + (edge_len[e] - off))
                if e == site_edge:
                    best = min(best, abs(off - site_off))
                if best + dem_extra_m[d] <= limit + 1e-9:
                    if n_out == out.shape[0]:
                        out = np.concatenate((out, np.empty_like(out)))
                    out[n_out] = d
                    n_out += 1
    for i in range(nodes.shape[0]):
        node = nodes[i]
        dist[node] = math.inf
        for k in range(indptr[node], indptr[node + 1]):
            seen[adj_edge[k]] = 0
    seen[site_edge] = 0
    return out, n_out


def coverage_matrix(
    network: WalkingNetwork,
    sites: Sites,
    demand: Demand,
    *,
    speed_mps: float,
    budget_seconds: float,
) -> sparse.csr_matrix:
    """Which demand points each site reaches within the budget (sites × demand, 0/1).

    One bounded search per site (budget minus the site's off-street leg), then the
    demand points on the edges it reached: a point counts when its time through
    either end of its edge (or straight along the site's own edge) plus its own
    extra seconds fits in the budget.

    Returns
    -------
    scipy.sparse.csr_matrix
        int8, shape (len(sites), len(demand)).
    """
    n_edges = network.edge_count
    order = np.argsort(demand.edge_id, kind="stable")
    dem_ptr = np.zeros(n_edges + 1, np.int64)
    np.cumsum(np.bincount(demand.edge_id, minlength=n_edges), out=dem_ptr[1:])
    dem_extra_m = demand.extra_seconds * speed_mps
    dist = np.full(network.node_count, math.inf)
    seen = np.zeros(n_edges, np.uint8)
    out = np.empty(1 << 16, np.int64)
    n_out = 0
    row_ptr = np.zeros(len(sites) + 1, np.int64)
    for i in range(len(sites)):
        budget = budget_seconds - float(sites.extra_seconds[i])
        if budget >= 0:
            site = SnappedPoint(int(sites.edge_id[i]), float(sites.offset_m[i]), 0.0, 0.0, 0.0)
            result = bounded_search(network, site, budget_seconds=budget, speed_mps=speed_mps)
            out, n_out = _hits(result.node_ids, result.seconds * speed_mps, dist, seen,
                               network.indptr, network.adj_edge, network.edge_u,
                               network.edge_v, network.edge_length_m, dem_ptr, order,
                               demand.offset_m, dem_extra_m, site.edge_id, site.offset_m,
                               budget * speed_mps, out, n_out)
        row_ptr[i + 1] = n_out
    cols = out[:n_out]
    matrix = sparse.csr_matrix((np.ones(n_out, np.int8), cols, row_ptr),
                               shape=(len(sites), len(demand)))
    matrix.sort_indices()
    return matrix


# ====================================================================== greedy
def greedy_max_cover(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    count: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Lazy greedy (CELF) maximal covering: pick `count` rows covering most weight.

    Parameters
    ----------
    matrix
        candidates × demand, nonzero where the candidate covers the point.
    weights
        Weight per demand point (>= 0).
    count
        Sites to pick; fewer are returned when nothing more can be gained.

    Returns
    -------
    (rows, gains)
        Picked row indices in picking order and their marginal gains (non-increasing).
    """
    matrix = sparse.csr_matrix(matrix)
    weights = np.asarray(weights, np.float64)
    indptr, indices = matrix.indptr, matrix.indices
    covered = np.zeros(matrix.shape[1], bool)
    upper = matrix.astype(np.float64) @ weights
    heap = [(-float(g), int(i)) for i, g in enumerate(upper) if g > 0]
    heapq.heapify(heap)
    fresh = np.full(matrix.shape[0], -1)
    rows: list[int] = []
    gains: list[float] = []
    while len(rows) < count and heap:
        _, i = heapq.heappop(heap)
        if fresh[i] == len(rows):  # gain already evaluated in this round: it is the best
            cols = indices[indptr[i]:indptr[i + 1]]
            gain = float(weights[cols][~covered[cols]].sum())
            rows.append(i)
            gains.append(gain)
            covered[cols] = True
            continue
        cols = indices[indptr[i]:indptr[i + 1]]
        gain = float(weights[cols][~covered[cols]].sum())
        fresh[i] = len(rows)
        if gain > 0:
            heapq.heappush(heap, (-gain, i))
    return np.array(rows, np.int64), np.array(gains)


@dataclass(frozen=True, eq=False)
class Placement:
    """New sites in picking order with their marginal gains (non-increasing).

    ``candidate`` indexes the candidate sites, ``gain`` is the demand weight each
    site adds to those picked before it, ``demand_total`` the weight of all demand.
    """

    sites: Sites
    candidate: np.ndarray
    gain: np.ndarray
    demand_total: float
    candidates_considered: int

    @property
    def covered_gain(self) -> float:
        return float(self.gain.sum())


def _node_candidates(network: WalkingNetwork, demand: Demand, *, speed_mps: float,
                     budget_seconds: float, max_candidates: int | None,
                     rng: np.random.Generator) -> np.ndarray:
    """Nodes within the budget of some demand point (reverse multi-source search)."""
    reach = edge_coverage(network, demand.edge_id, demand.offset_m, speed_mps=speed_mps,
                          budget_seconds=budget_seconds, source_extra_seconds=demand.extra_seconds,
                          horizon_seconds=budget_seconds)
    nodes = np.flatnonzero(np.isfinite(reach.node_seconds) & network.node_in_main
                           & (np.diff(network.indptr) > 0))
    if max_candidates is not None and nodes.shape[0] > max_candidates:
        nodes = np.sort(rng.choice(nodes, max_candidates, replace=False))
    return nodes


def place_sources(
    network: WalkingNetwork,
    demand: Demand,
    *,
    count: int,
    speed_mps: float,
    budget_seconds: float,
    candidates: Sites | None = None,
    max_candidates: int | None = 20_000,
    seed: int = 0,
) -> Placement:
    """Where `count` new AEDs would cover the most uncovered demand (greedy, CELF).

    Parameters
    ----------
    network
        The walking network.
    demand
        What is still uncovered (`length_demand`, `point_demand`, or both concatenated
        with comparable weights). Points already covered add nothing; pass gaps only.
    count
        Number of new sites.
    speed_mps, budget_seconds
        Walking speed and the circle.
    candidates
        Candidate sites (e.g. `point_sites` of buildings); default: the nodes of the
        main component that are within the budget of some demand point.
    max_candidates
        Evaluate at most this many candidates, a uniform random subsample (fixed
        `seed`) when there are more; None evaluates all.
    seed
        Seed of the subsample.

    Returns
    -------
    Placement
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    rng = np.random.default_rng(seed)
    if candidates is None:
        nodes = _node_candidates(network, demand, speed_mps=speed_mps,
                                 budget_seconds=budget_seconds, max_candidates=max_candidates,
                                 rng=rng)
        candidates = node_sites(network, nodes)
        index = np.arange(len(candidates))
    else:
        index = np.arange(len(candidates))
        if max_candidates is not None and len(candidates) > max_candidates:
            index = np.sort(rng.choice(index, max_candidates, replace=False))
    matrix = coverage_matrix(network, candidates.subset(index), demand, speed_mps=speed_mps,
                             budget_seconds=budget_seconds)
    rows, gains = greedy_max_cover(matrix, demand.weight, count)
    picked = index[rows]
    return Placement(candidates.subset(picked), picked, gains, demand.total, int(index.shape[0]))


# ====================================================================== existing sources
@dataclass(frozen=True, eq=False)
class SourceValues:
    """Existing sources ranked by the demand weight only they cover (ascending).

    ``order`` lists source indices, least valuable first (candidates to move);
    ``unique_weight[i]`` / ``covered_weight[i]`` are indexed by source.
    """

    order: np.ndarray
    unique_weight: np.ndarray
    covered_weight: np.ndarray


def least_valuable_sources(
    network: WalkingNetwork,
    sources: Sites,
    demand: Demand,
    *,
    speed_mps: float,
    budget_seconds: float,
) -> SourceValues:
    """For each existing source, the demand it alone covers (its unique coverage).

    Parameters
    ----------
    network
        The walking network.
    sources
        Existing AEDs (`point_sites` / `node_sites`).
    demand
        Covered demand (`length_demand(..., covered=True)`, `point_demand(...,
        covered=True)`); uncovered points contribute nothing.
    speed_mps, budget_seconds
        As for the coverage.

    Returns
    -------
    SourceValues
        Sorted by unique weight, then by total covered weight (ascending).
    """
    matrix = coverage_matrix(network, sources, demand, speed_mps=speed_mps,
                             budget_seconds=budget_seconds)
    weights = demand.weight
    count = np.asarray(matrix.sum(axis=0)).ravel()
    unique = matrix.astype(np.float64) @ np.where(count == 1, weights, 0.0)
    total = matrix.astype(np.float64) @ weights
    order = np.lexsort((np.arange(len(sources)), total, unique))
    return SourceValues(order, unique, total)


def site_lonlat(network: WalkingNetwork, edge_ids: np.ndarray,
                offsets_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of positions on edges (e.g. to label demand points or sites)."""
    edge = np.asarray(edge_ids, np.int64)
    length = network.edge_length_m[edge]
    frac = np.clip(np.asarray(offsets_m, np.float64) / np.where(length > 0, length, 1.0), 0, 1)
    x, y, offsets = _kernels.cut_polylines(network.geom_x, network.geom_y, network.geom_offsets,
                                           edge, frac, frac)
    return network.to_lonlat(x[offsets[:-1]], y[offsets[:-1]])
