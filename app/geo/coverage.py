"""Whole-city coverage: walking time from every point of the street network to the
nearest source (usable AED, on-duty responder), in one multi-source search.

The nearest-source time along an edge is exact and piecewise linear: a point ``x``
metres from the edge's u end is reached through u (``t_u + x / s``), through v
(``t_v + (L - x) / s``) or straight from a source lying on the same edge
(``extra + |x - offset| / s``), where ``t_u``/``t_v`` come from the search. Every
piece has slope ``±1 / s``, so the length of street within a budget and the
length-weighted distribution of nearest times are computed exactly, not sampled:

- ``EdgeCoverage.covered_m``: per edge, the covered length within the budget
  (partial from both ends, around sources on the edge);
- ``length_summary``: covered share and exact length-weighted p50/p90 of the
  nearest time over all points of the network, per region;
- ``point_times`` / ``coverage_summary``: buildings (or any weighted points), snapped
  once, their off-street leg walked at the same speed;
- ``uncovered_stretches``: the street stretches beyond the budget, as polylines.

Regions are assigned by the caller (``assign_to_polygons``, e.g. with edge midpoints
from ``edge_points``); an edge counts wholly in the region of its midpoint.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numba import njit

from app.geo import _kernels
from app.geo.network import WalkingNetwork
from app.geo.snap import DEFAULT_MAX_SNAP_M, SnappedPoints, snap_points

__all__ = [
    "CoverageSummary",
    "EdgeCoverage",
    "EdgePieces",
    "PointTimes",
    "Stretches",
    "assign_to_polygons",
    "building_weights",
    "coverage_summary",
    "covered_stretches",
    "edge_coverage",
    "edge_points",
    "length_summary",
    "point_times",
    "spread_population",
    "uncovered_stretches",
]

_INF = math.inf
_MIN_SOURCES_PER_WORKER = 256
# `_label_correcting`: seeds per round, and the scans per node reached (plus a slack)
# beyond which the rounds stop
_SEED_CHUNK = 256
_WASTE_RATIO = 2.0
_WASTE_SLACK = 1 << 14
_SEED_BLOCK_SHIFT = 6  # seeds are ordered by blocks of 64 consecutive node ids


# ====================================================================== kernels
@njit(cache=True, nogil=True)
def _label_correcting(indptr, adj_node, adj_len, seed_nodes, seed_costs, seed_labels, limit,
                      dist, label, max_scans):
    """Multi-source shortest paths by FIFO label correcting, up to `limit` metres.

    `dist` (inf) and `label` (-1) are caller-owned. With many sources and a bounded
    horizon a FIFO queue settles most nodes once and beats a binary heap 2-4x (no
    O(log n) queue operations). The search is memory-bound, so it is kept local: seeds
    come sorted by node (`_block_order`) and, for a bounded search, enter the queue
    `_SEED_CHUNK` at a time, each chunk's search running to completion (pruned by what
    earlier chunks reached) before the next is seeded, so that it stays within a few
    cache-resident neighbourhoods instead of sweeping the whole graph once per hop.
    When chunks overlap much (dense seeds, long horizons: more than `_WASTE_RATIO`
    scans per node reached) the remaining seeds all enter at once. The result is exact
    and does not depend on the order: equal distances go to the lower label. Returns
    False when more than `max_scans` node scans were needed (the caller then falls back
    to Dijkstra, so pathological inputs cannot blow up).
    """
    n_nodes = dist.shape[0]
    size = 1
    while size < n_nodes + 1:
        size *= 2
    mask = size - 1
    queue = np.empty(size, np.int32)  # a ring: each node is queued at most once
    queued = np.zeros(n_nodes, np.bool_)
    head = 0
    tail = 0
    scans = 0
    n_reached = 0
    n_seeds = seed_nodes.shape[0]
    chunk = _SEED_CHUNK if limit < _INF else n_seeds
    seeded = 0
    while seeded < n_seeds or head != tail:
        for i in range(seeded, min(seeded + chunk, n_seeds)):
            node = seed_nodes[i]
            cost = seed_costs[i]
            old = dist[node]
            if cost > limit or cost > old or (cost == old and seed_labels[i] >= label[node]):
                continue
            n_reached += old == _INF
            dist[node] = cost
            label[node] = seed_labels[i]
            if not queued[node]:
                queued[node] = True
                queue[tail & mask] = node
                tail += 1
        seeded = min(seeded + chunk, n_seeds)
        while head != tail:
            if chunk < n_seeds and scans > _WASTE_RATIO * n_reached + _WASTE_SLACK:
                chunk = n_seeds  # chunks overlap: seed all the rest now
                break
            node = queue[head & mask]
            head += 1
            queued[node] = False
            scans += 1
            if scans > max_scans:
                return False
            d = dist[node]
            lab = label[node]
            for k in range(indptr[node], indptr[node + 1]):
                other = adj_node[k]
                nd = d + adj_len[k]
                old = dist[other]
                if nd > limit or nd > old or (nd == old and lab >= label[other]):
                    continue
                n_reached += old == _INF
                dist[other] = nd
                label[other] = lab
                if not queued[other]:
                    queued[other] = True
                    queue[tail & mask] = other
                    tail += 1
    return True


@njit(cache=True, nogil=True)
def _block_order(nodes, n_nodes, shift):
    """Stable order of `nodes` by ``node >> shift`` (a counting sort: O(len + blocks))."""
    n_blocks = (n_nodes >> shift) + 1
    start = np.zeros(n_blocks + 1, np.int64)
    for i in range(nodes.shape[0]):
        start[(nodes[i] >> shift) + 1] += 1
    for b in range(n_blocks):
        start[b + 1] += start[b]
    order = np.empty(nodes.shape[0], np.int64)
    for i in range(nodes.shape[0]):
        b = nodes[i] >> shift
        order[start[b]] = i
        start[b] += 1
    return order


@njit(cache=True, nogil=True)
def _merge_min(dist, label, other_dist, other_label):
    """Keep the nearer of two searches' (distance, label) per node, ties to the lower label."""
    for node in range(dist.shape[0]):
        nd = other_dist[node]
        if nd < dist[node] or (nd == dist[node] and other_label[node] < label[node]):
            dist[node] = other_dist[node]
            label[node] = other_label[node]


@njit(cache=True, nogil=True, inline="always")
def _src_range(src_edge, e):
    """Slice of the (sorted) sources lying on edge ``e``."""
    return (np.searchsorted(src_edge, e, side="left"),
            np.searchsorted(src_edge, e, side="right"))


@njit(cache=True, nogil=True)
def _anchor_buffers(src_edge):
    """Scratch (positions, times) for `_anchors`: room for the most sources on one edge."""
    most = 0
    run = 0
    for j in range(src_edge.shape[0]):
        run = run + 1 if j > 0 and src_edge[j] == src_edge[j - 1] else 1
        most = max(most, run)
    return np.empty(most + 2, np.float64), np.empty(most + 2, np.float64)


@njit(cache=True, nogil=True)
def _anchors(e, length, tu, tv, src_edge, src_off, src_extra, has_src, speed, pos, tim):
    """Positions and relaxed times of the time minima along an edge (u end, sources, v end).

    Written to ``pos[:k]`` and ``tim[:k]`` (from `_anchor_buffers`, no allocation per
    edge); returns k.
    """
    a = 0
    b = 0
    if has_src[e]:
        a, b = _src_range(src_edge, e)
    k = b - a + 2
    pos[0] = 0.0
    tim[0] = tu
    for j in range(a, b):
        pos[j - a + 1] = src_off[j]
        tim[j - a + 1] = src_extra[j]
    pos[k - 1] = length
    tim[k - 1] = tv
    for j in range(1, k):  # relax: a minimum may be dominated by a neighbour's cone
        t = tim[j - 1] + (pos[j] - pos[j - 1]) / speed
        if t < tim[j]:
            tim[j] = t
    for j in range(k - 2, -1, -1):
        t = tim[j + 1] + (pos[j + 1] - pos[j]) / speed
        if t < tim[j]:
            tim[j] = t
    return k


@njit(cache=True, nogil=True, inline="always")
def _split(ta, tb, gap, speed):
    """Length of the gap reached first from its left anchor (the rest from the right)."""
    if ta == _INF:
        return 0.0 if tb < _INF else gap
    if tb == _INF:
        return gap
    d = 0.5 * ((tb - ta) * speed + gap)
    return min(gap, max(0.0, d))


@njit(cache=True, nogil=True)
def _covered_pass(start, stop, edge_u, edge_v, edge_len, node_t, has_src, speed, budget,
                  covered):
    """Per edge without sources: exactly covered metres within `budget`, from both ends.

    (Edges holding sources are left to `_covered_source_edges`: one tight loop here.)
    """
    reach = budget * speed
    for e in range(start, stop):
        if has_src[e]:
            continue
        cov = (max(0.0, reach - node_t[edge_u[e]] * speed)
               + max(0.0, reach - node_t[edge_v[e]] * speed))
        covered[e] = min(edge_len[e], cov)


@njit(cache=True, nogil=True)
def _covered_source_edges(edges, edge_u, edge_v, edge_len, node_t, src_edge, src_off,
                          src_extra, has_src, speed, budget, covered):
    """Covered metres of edges holding sources: from both ends and around each source."""
    reach = budget * speed
    pos, tim = _anchor_buffers(src_edge)
    for e in edges:
        k = _anchors(e, edge_len[e], node_t[edge_u[e]], node_t[edge_v[e]], src_edge, src_off,
                     src_extra, has_src, speed, pos, tim)
        cov = 0.0
        for j in range(k - 1):
            gap = pos[j + 1] - pos[j]
            d = _split(tim[j], tim[j + 1], gap, speed)
            cov += min(d, max(0.0, reach - tim[j] * speed))
            cov += min(gap - d, max(0.0, reach - tim[j + 1] * speed))
        covered[e] = min(edge_len[e], cov)


@njit(cache=True, nogil=True)
def _times_pass(edge_u, edge_v, edge_len, node_t, src_edge, src_off, src_extra, has_src, speed,
                horizon):
    """Per edge: nearest time at the midpoint and the worst nearest time along it."""
    n_edges = edge_u.shape[0]
    mid = np.empty(n_edges)
    peak = np.empty(n_edges)
    pos, tim = _anchor_buffers(src_edge)
    for e in range(n_edges):
        length = edge_len[e]
        tu = node_t[edge_u[e]]
        tv = node_t[edge_v[e]]
        if not has_src[e]:
            m = min(tu, tv) + 0.5 * length / speed
            mid[e] = m if m <= horizon else _INF
            if tu == _INF and tv == _INF:
                p = _INF
            elif tu == _INF:
                p = tv + length / speed
            elif tv == _INF:
                p = tu + length / speed
            else:
                p = min(max(0.5 * (tu + tv + length / speed), max(tu, tv)),
                        min(tu, tv) + length / speed)
            peak[e] = p if p <= horizon else _INF
            continue
        k = _anchors(e, length, tu, tv, src_edge, src_off, src_extra, has_src, speed, pos, tim)
        p = 0.0
        for j in range(k - 1):
            gap = pos[j + 1] - pos[j]
            if gap > 0.0:
                d = _split(tim[j], tim[j + 1], gap, speed)
                top = tim[j] + d / speed if d > 0.0 else tim[j + 1] + (gap - d) / speed
                p = max(p, top)
        x = 0.5 * length
        m = min(tu + x / speed, tv + x / speed)
        a, b = _src_range(src_edge, e)
        for j in range(a, b):
            m = min(m, src_extra[j] + abs(x - src_off[j]) / speed)
        mid[e] = m if m <= horizon else _INF
        peak[e] = p if p <= horizon else _INF
    return mid, peak


@njit(cache=True, nogil=True)
def _point_pass(point_edge, point_off, edge_u, edge_v, edge_len, node_t, src_edge, src_off,
                src_extra, has_src, speed, horizon):
    n = point_edge.shape[0]
    out = np.full(n, _INF)
    for i in range(n):
        e = point_edge[i]
        if e < 0:
            continue
        x = min(max(point_off[i], 0.0), edge_len[e])
        t = min(node_t[edge_u[e]] + x / speed, node_t[edge_v[e]] + (edge_len[e] - x) / speed)
        if has_src[e]:
            a, b = _src_range(src_edge, e)
            for j in range(a, b):
                t = min(t, src_extra[j] + abs(x - src_off[j]) / speed)
        if t <= horizon:
            out[i] = t
    return out


@njit(cache=True, nogil=True)
def _pieces(piece_offsets, edge_u, edge_v, edge_len, node_t, src_edge, src_off, src_extra,
            has_src, speed):
    n = piece_offsets[-1]
    pos = np.empty(n, np.float64)
    t0 = np.empty(n, np.float64)
    ln = np.empty(n, np.float64)
    a_pos, a_tim = _anchor_buffers(src_edge)
    for e in range(edge_u.shape[0]):
        length = edge_len[e]
        n_anchors = _anchors(e, length, node_t[edge_u[e]], node_t[edge_v[e]], src_edge,
                             src_off, src_extra, has_src, speed, a_pos, a_tim)
        k = piece_offsets[e]
        for j in range(n_anchors - 1):
            gap = a_pos[j + 1] - a_pos[j]
            d = _split(a_tim[j], a_tim[j + 1], gap, speed)
            pos[k] = a_pos[j]
            t0[k] = a_tim[j]
            ln[k] = d
            pos[k + 1] = a_pos[j + 1]
            t0[k + 1] = a_tim[j + 1]
            ln[k + 1] = gap - d
            k += 2
    return pos, t0, ln


@njit(cache=True, nogil=True)
def _stretches(piece_offsets, pos, t0, ln, speed, budget, want_covered, min_len):
    """Intervals of each edge where the time is within (or beyond) the budget, merged."""
    n_edges = piece_offsets.shape[0] - 1
    cap = 1024
    out_e = np.empty(cap, np.int32)
    out_a = np.empty(cap, np.float64)
    out_b = np.empty(cap, np.float64)
    n = 0
    reach = budget * speed
    for e in range(n_edges):
        open_a = 0.0
        open_b = -1.0
        for k in range(piece_offsets[e], piece_offsets[e + 1]):
            c = min(ln[k], max(0.0, reach - t0[k] * speed)) if t0[k] < _INF else 0.0
            if (k - piece_offsets[e]) % 2 == 0:  # reached from its left end, at pos
                if want_covered:
                    a, b = pos[k], pos[k] + c
                else:
                    a, b = pos[k] + c, pos[k] + ln[k]
            else:  # reached from its right end, at pos
                if want_covered:
                    a, b = pos[k] - c, pos[k]
                else:
                    a, b = pos[k] - ln[k], pos[k] - c
            if b - a <= 0.0:
                continue
            if open_b >= 0.0 and a - open_b <= 1e-9:
                open_b = b
                continue
            if open_b >= 0.0 and open_b - open_a >= min_len:
                out_e, out_a, out_b = _push(out_e, out_a, out_b, n, e, open_a, open_b)
                n += 1
            open_a = a
            open_b = b
        if open_b >= 0.0 and open_b - open_a >= min_len:
            out_e, out_a, out_b = _push(out_e, out_a, out_b, n, e, open_a, open_b)
            n += 1
    return out_e[:n].copy(), out_a[:n].copy(), out_b[:n].copy()


@njit(cache=True, nogil=True)
def _push(out_e, out_a, out_b, n, e, a, b):
    """Store stretch ``n`` (edge, from, to), doubling the buffers when full."""
    if n == out_e.shape[0]:
        out_e = np.concatenate((out_e, np.empty_like(out_e)))
        out_a = np.concatenate((out_a, np.empty_like(out_a)))
        out_b = np.concatenate((out_b, np.empty_like(out_b)))
    out_e[n] = e
    out_a[n] = a
    out_b[n] = b
    return out_e, out_a, out_b


@njit(cache=True, nogil=True)
def _measure_below(idx, t0, ln, speed, t):
    total = 0.0
    for i in idx:
        if t0[i] < t:
            total += min(ln[i], (t - t0[i]) * speed)
    return total


@njit(cache=True, nogil=True)
def _piece_quantiles(order, group_ptr, t0, ln, speed, horizon, qs, n_bins):
    """Exact quantiles of piecewise-uniform time distributions, per group.

    Each piece is `ln` metres whose times run uniformly from `t0` at `speed` m/s, so
    the length within time t is M(t) = sum(clip((t - t0) * speed, 0, ln)), piecewise
    linear. M is evaluated exactly at bin edges from cumulative breakpoint sums, then
    solved exactly inside the bin holding the quantile: O(pieces) per group.
    Returns the smallest t with M(t) >= q * total (inf when that lies beyond `horizon`
    or in unreached pieces, nan for an empty group).
    """
    n_groups = group_ptr.shape[0] - 1
    out = np.full((n_groups, qs.shape[0]), np.nan)
    for g in range(n_groups):
        idx = order[group_ptr[g]:group_ptr[g + 1]]
        total = 0.0
        t_min = _INF
        t_max = -_INF
        for i in idx:
            total += ln[i]
            if t0[i] < _INF and ln[i] > 0.0:
                t_min = min(t_min, t0[i])
                t_max = max(t_max, t0[i] + ln[i] / speed)
        if not total > 0.0:
            continue
        if t_min == _INF:
            out[g, :] = _INF
            continue
        t_max = min(t_max, horizon)
        width = (t_max - t_min) / n_bins
        at_max = _measure_below(idx, t0, ln, speed, t_max)
        if not width > 0.0:
            for q in range(qs.shape[0]):
                out[g, q] = t_min if qs[q] * total <= at_max * (1 + 1e-12) else _INF
            continue
        rate = np.zeros(n_bins + 1)
        moment = np.zeros(n_bins + 1)
        for i in idx:
            if t0[i] == _INF or ln[i] <= 0.0:
                continue
            for sign in (1.0, -1.0):
                p = t0[i] if sign > 0 else t0[i] + ln[i] / speed
                if p >= t_max:
                    continue
                j = min(int((p - t_min) / width), n_bins - 1)
                rate[j] += sign * speed
                moment[j] += sign * speed * p
        for q in range(qs.shape[0]):
            target = qs[q] * total
            if target <= 0.0:
                out[g, q] = t_min
                continue
            if target > at_max * (1 + 1e-12):
                out[g, q] = _INF
                continue
            # first bin edge k with M(edge_k) >= target
            cum_rate = 0.0
            cum_moment = 0.0
            k = n_bins
            lo_measure = 0.0
            lo_rate = 0.0
            for j in range(n_bins):
                cum_rate += rate[j]
                cum_moment += moment[j]
                b = t_min + (j + 1) * width if j + 1 < n_bins else t_max
                m = cum_rate * b - cum_moment
                if m >= target:
                    k = j
                    break
                lo_measure = m
                lo_rate = cum_rate
            if k == n_bins:  # rounding: the target is M(t_max)
                out[g, q] = t_max
                continue
            lo = t_min + k * width
            hi = t_min + (k + 1) * width if k + 1 < n_bins else t_max
            if k == 0:
                lo_measure = 0.0
                lo_rate = 0.0
            # breakpoints inside bin k, walked in order from `lo`
            count = 0
            for i in idx:
                if t0[i] == _INF or ln[i] <= 0.0:
                    continue
                if min(int((t0[i] - t_min) / width), n_bins - 1) == k and t0[i] < t_max:
                    count += 1
                p1 = t0[i] + ln[i] / speed
                if p1 < t_max and min(int((p1 - t_min) / width), n_bins - 1) == k:
                    count += 1
            events = np.empty(count, np.float64)
            deltas = np.empty(count, np.float64)
            c = 0
            for i in idx:
                if t0[i] == _INF or ln[i] <= 0.0:
                    continue
                if min(int((t0[i] - t_min) / width), n_bins - 1) == k and t0[i] < t_max:
                    events[c] = t0[i]
                    deltas[c] = speed
                    c += 1
                p1 = t0[i] + ln[i] / speed
                if p1 < t_max and min(int((p1 - t_min) / width), n_bins - 1) == k:
                    events[c] = p1
                    deltas[c] = -speed
                    c += 1
            sort = np.argsort(events)
            t_cur = lo
            m_cur = lo_measure
            slope = lo_rate
            answer = hi
            found = False
            for s in sort:
                p = max(events[s], t_cur)
                m_next = m_cur + slope * (p - t_cur)
                if m_next >= target and slope > 0.0:
                    answer = t_cur + (target - m_cur) / slope
                    found = True
                    break
                t_cur = p
                m_cur = m_next
                slope += deltas[s]
            if not found and slope > 0.0:
                answer = t_cur + (target - m_cur) / slope
            out[g, q] = min(max(answer, lo), hi)
    return out


@njit(cache=True, nogil=True)
def _point_quantiles(order, group_ptr, seconds, weights, qs):
    n_groups = group_ptr.shape[0] - 1
    out = np.full((n_groups, qs.shape[0]), np.nan)
    for g in range(n_groups):
        a = group_ptr[g]
        b = group_ptr[g + 1]
        total = 0.0
        for i in range(a, b):
            total += weights[order[i]]
        if not total > 0.0:
            continue
        for q in range(qs.shape[0]):
            target = qs[q] * total
            cum = 0.0
            answer = _INF
            for i in range(a, b):
                w = weights[order[i]]
                cum += w
                if w > 0.0 and cum >= target * (1 - 1e-12):
                    answer = seconds[order[i]]
                    break
            out[g, q] = answer
    return out


# ====================================================================== search
def _adjacent_lengths(network: WalkingNetwork) -> np.ndarray:
    """float64 per half-edge: the edge length inlined in CSR order (cached per network)."""
    cached = network._cache.get("coverage_adj_length_m")
    if cached is None:
        cached = np.ascontiguousarray(network.edge_length_m[network.adj_edge])
        cached.flags.writeable = False
        network._cache["coverage_adj_length_m"] = cached
    return cached


def _multi_source(network: WalkingNetwork, seed_nodes: np.ndarray, seed_costs: np.ndarray,
                  seed_labels: np.ndarray, limit_m: float,
                  groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest seed per node (metres, label); seed groups run in parallel and are merged."""
    n = network.node_count
    adj_len = _adjacent_lengths(network)
    max_scans = 40 * n + 10 * seed_nodes.shape[0] + 1000

    def run(sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        sel = sel[_block_order(seed_nodes[sel], n, _SEED_BLOCK_SHIFT)]  # memory order
        dist = np.full(n, _INF)
        label = np.full(n, -1, np.int32)
        ok = _label_correcting(network.indptr, network.adj_node, adj_len, seed_nodes[sel],
                               seed_costs[sel], seed_labels[sel], limit_m, dist, label,
                               max_scans)
        return dist, label, ok

    if len(groups) == 1:
        results = [run(groups[0])]
    else:
        with ThreadPoolExecutor(len(groups)) as pool:
            results = list(pool.map(run, groups))
    if not all(r[2] for r in results):  # pathological for label correcting: plain Dijkstra
        return _kernels.multi_source_dijkstra(
            network.indptr, network.adj_node, network.adj_edge, network.edge_length_m,
            seed_nodes, seed_costs, seed_labels, limit_m, n)
    dist, label = results[0][0], results[0][1]
    for other_dist, other_label, _ in results[1:]:
        _merge_min(dist, label, other_dist, other_label)
    return dist, label


def _workers(workers: int | None) -> int:
    if workers is None:
        workers = 1
    if workers < 1:
        raise ValueError("workers must be >= 1")
    return workers


def _check_speed(speed_mps: float) -> None:
    if not (speed_mps > 0 and math.isfinite(speed_mps)):
        raise ValueError("speed_mps must be a positive number")


# ====================================================================== results
@dataclass(frozen=True, eq=False)
class EdgePieces:
    """The exact nearest-time profile of every edge, as linear pieces.

    Between consecutive time minima along an edge (its ends and the sources on it)
    the time rises from both minima at ``1 / speed`` s/m until they meet. Pieces of
    edge ``e`` are ``piece_offsets[e]:piece_offsets[e+1]``, in order along the edge,
    alternating: even pieces start at ``pos_m`` (a minimum) and run ``length_m`` metres
    towards v; odd pieces end at ``pos_m`` (the next minimum), running ``length_m``
    metres back towards u. Along a piece, times run from ``t0_seconds`` up.
    """

    piece_offsets: np.ndarray  # int64[n_edges + 1]
    pos_m: np.ndarray
    t0_seconds: np.ndarray  # inf: beyond the search horizon
    length_m: np.ndarray


@dataclass(frozen=True, eq=False)
class EdgeCoverage:
    """Result of `edge_coverage`: nearest-source walking times over the whole network.

    Attributes
    ----------
    network, speed_mps, budget_seconds
        Inputs.
    horizon_seconds
        Times are exact up to here; larger times are reported as inf (``inf`` when the
        search covered the whole network).
    node_seconds
        float64[n_nodes]: seconds to the nearest source (inf: none within the horizon).
    node_source
        int32[n_nodes]: index of that source in the input arrays (-1: none).
    covered_m
        float64[n_edges]: exactly covered metres of each edge within ``budget_seconds``.
    mid_seconds (property, computed on first use)
        float64[n_edges]: nearest time at the edge's midpoint.
    max_seconds (property, computed on first use)
        float64[n_edges]: worst nearest time along the edge (the edge is wholly
        covered iff ``max_seconds <= budget_seconds``).
    source_edge_id, source_offset_m, source_extra_seconds
        The valid sources, sorted by edge then offset (internal look-up tables).
    """

    network: WalkingNetwork
    speed_mps: float
    budget_seconds: float
    horizon_seconds: float
    node_seconds: np.ndarray
    node_source: np.ndarray
    covered_m: np.ndarray
    source_edge_id: np.ndarray
    source_offset_m: np.ndarray
    source_extra_seconds: np.ndarray
    _source_on_edge: np.ndarray = field(repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def mid_seconds(self) -> np.ndarray:
        return self._edge_times()[0]

    @property
    def max_seconds(self) -> np.ndarray:
        return self._edge_times()[1]

    def _edge_times(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self._cache.get("edge_times")
        if cached is None:
            net = self.network
            cached = self._cache["edge_times"] = _times_pass(
                net.edge_u, net.edge_v, net.edge_length_m, self.node_seconds,
                self.source_edge_id, self.source_offset_m, self.source_extra_seconds,
                self._source_on_edge, self.speed_mps, self.horizon_seconds)
        return cached

    @property
    def covered_length_m(self) -> float:
        """Metres of street within the budget."""
        return float(self.covered_m.sum())

    @property
    def share(self) -> float:
        """Covered share of the network's length (nan for an empty network)."""
        total = self.network.total_length_m
        return self.covered_length_m / total if total > 0 else math.nan

    def covered_m_at(self, budget_seconds: float) -> np.ndarray:
        """Covered metres per edge for another budget (<= ``horizon_seconds``)."""
        self._check_budget(budget_seconds)
        if budget_seconds == self.budget_seconds:
            return self.covered_m
        p = self.pieces()
        reach = np.clip((budget_seconds - p.t0_seconds) * self.speed_mps, 0.0, p.length_m)
        reach[~np.isfinite(p.t0_seconds)] = 0.0
        sums = np.add.reduceat(np.append(reach, 0.0), p.piece_offsets[:-1])
        return np.minimum(sums[: self.network.edge_count], self.network.edge_length_m)

    def point_seconds(self, edge_ids: np.ndarray, offsets_m: np.ndarray,
                      extra_seconds: np.ndarray | float | None = None) -> np.ndarray:
        """Exact nearest time of points on edges (``edge_id < 0``: inf), plus their extra leg."""
        net = self.network
        seconds = _point_pass(
            np.asarray(edge_ids, np.int64), np.asarray(offsets_m, np.float64), net.edge_u,
            net.edge_v, net.edge_length_m, self.node_seconds, self.source_edge_id,
            self.source_offset_m, self.source_extra_seconds, self._source_on_edge,
            self.speed_mps, self.horizon_seconds)
        if extra_seconds is not None:
            seconds = seconds + np.asarray(extra_seconds, np.float64)
            seconds[seconds > self.horizon_seconds] = _INF
        return seconds

    def pieces(self) -> EdgePieces:
        """The exact piecewise-linear time profile of every edge (computed once)."""
        cached = self._cache.get("pieces")
        if cached is None:
            net = self.network
            per_edge = 2 + 2 * np.bincount(self.source_edge_id, minlength=net.edge_count)
            offsets = np.zeros(net.edge_count + 1, np.int64)
            np.cumsum(per_edge, out=offsets[1:])
            pos, t0, ln = _pieces(offsets, net.edge_u, net.edge_v, net.edge_length_m,
                                  self.node_seconds, self.source_edge_id, self.source_offset_m,
                                  self.source_extra_seconds, self._source_on_edge,
                                  self.speed_mps)
            t0[t0 > self.horizon_seconds] = _INF
            cached = self._cache["pieces"] = EdgePieces(offsets, pos, t0, ln)
        return cached

    def _check_budget(self, budget_seconds: float) -> None:
        if not 0 <= budget_seconds <= self.horizon_seconds:
            raise ValueError("budget_seconds must be within [0, horizon_seconds]")


def edge_coverage(
    network: WalkingNetwork,
    source_edge_ids: np.ndarray,
    source_offsets_m: np.ndarray,
    *,
    speed_mps: float,
    budget_seconds: float,
    source_extra_seconds: np.ndarray | None = None,
    horizon_seconds: float | None = None,
    workers: int | None = None,
) -> EdgeCoverage:
    """Nearest-source walking time for the whole network, in one multi-source search.

    Parameters
    ----------
    network
        The walking network.
    source_edge_ids, source_offsets_m
        Sources snapped onto edges (usable AEDs, responders); ``edge_id < 0`` is ignored.
    speed_mps
        Walking speed.
    budget_seconds
        The circle (e.g. 240): ``covered_m`` is the length within it.
    source_extra_seconds
        Optional per-source seconds added before walking the network (the off-street
        leg from the AED cabinet to the street, access delay, ...).
    horizon_seconds
        Search only this far (>= budget); larger times come back as inf. None (the
        default) searches the whole network, so that the nearest-time distribution
        (p50/p90) is exact even beyond the budget; ``horizon_seconds=budget_seconds``
        is the fastest way to get the covered lengths alone.
    workers
        Threads for a bounded search (sources split into spatial strips, results
        merged by minimum) and the per-edge pass; default 1 (on the 2-vCPU benchmark
        machine threads gave no speed-up). An unbounded search always uses one.

    Returns
    -------
    EdgeCoverage
    """
    _check_speed(speed_mps)
    if not (budget_seconds >= 0 and math.isfinite(budget_seconds)):
        raise ValueError("budget_seconds must be a finite number >= 0")
    horizon = _INF if horizon_seconds is None else float(horizon_seconds)
    if not horizon >= budget_seconds:
        raise ValueError("horizon_seconds must be >= budget_seconds")
    edge_ids = np.asarray(source_edge_ids, np.int64).ravel()
    offsets = np.asarray(source_offsets_m, np.float64).ravel()
    if offsets.shape != edge_ids.shape:
        raise ValueError("source_edge_ids and source_offsets_m must have equal lengths")
    if source_extra_seconds is None:
        extra = np.zeros(edge_ids.shape[0])
    else:
        extra = np.broadcast_to(np.asarray(source_extra_seconds, np.float64),
                                edge_ids.shape).copy()
    if np.any(edge_ids >= network.edge_count):
        raise ValueError("source edge id outside the network")
    valid = np.flatnonzero(edge_ids >= 0)
    if not (np.all(np.isfinite(offsets[valid])) and np.all(extra[valid] >= 0)
            and np.all(np.isfinite(extra[valid]))):
        raise ValueError("source offsets must be finite and extra seconds finite and >= 0")
    edges = edge_ids[valid]
    length = network.edge_length_m[edges]
    offs = np.clip(offsets[valid], 0.0, length)
    extra_m = extra[valid] * speed_mps
    seed_nodes = np.concatenate((network.edge_u[edges], network.edge_v[edges])).astype(np.int64)
    seed_costs = np.concatenate((offs + extra_m, length - offs + extra_m))
    seed_labels = np.concatenate((valid, valid)).astype(np.int32)
    limit_m = horizon * speed_mps
    n_workers = _workers(workers)
    if not math.isfinite(horizon):
        n_workers = 1
    n_workers = max(1, min(n_workers, valid.shape[0] // _MIN_SOURCES_PER_WORKER))
    if n_workers > 1:  # spatial strips: the strips' searches hardly overlap
        strip = np.array_split(np.argsort(network.node_x[network.edge_u[edges]],
                                          kind="stable"), n_workers)
        groups = [np.concatenate((s, s + valid.shape[0])) for s in strip]
    else:
        groups = [np.arange(seed_nodes.shape[0])]
    node_seconds, source = _multi_source(network, seed_nodes, seed_costs, seed_labels,
                                         limit_m, groups)
    np.divide(node_seconds, speed_mps, out=node_seconds)  # metres -> seconds, in place

    order = np.lexsort((offs, edges))
    src_edge = np.ascontiguousarray(edges[order])
    src_off = np.ascontiguousarray(offs[order])
    src_extra = np.ascontiguousarray(extra[valid][order])
    on_edge = np.zeros(network.edge_count, np.bool_)
    on_edge[src_edge] = True
    n_edges = network.edge_count
    covered = np.empty(n_edges)
    args = (network.edge_u, network.edge_v, network.edge_length_m, node_seconds, on_edge,
            float(speed_mps), float(budget_seconds), covered)
    bounds = np.linspace(0, n_edges, min(_workers(workers), 1 + n_edges // 100_000) + 1)
    bounds = bounds.astype(np.int64)
    if bounds.shape[0] > 2:
        with ThreadPoolExecutor(bounds.shape[0] - 1) as pool:
            list(pool.map(lambda i: _covered_pass(bounds[i], bounds[i + 1], *args),
                          range(bounds.shape[0] - 1)))
    else:
        _covered_pass(0, n_edges, *args)
    _covered_source_edges(np.flatnonzero(on_edge), network.edge_u, network.edge_v,
                          network.edge_length_m, node_seconds, src_edge, src_off, src_extra,
                          on_edge, float(speed_mps), float(budget_seconds), covered)
    return EdgeCoverage(network, float(speed_mps), float(budget_seconds), horizon,
                        node_seconds, source, covered, src_edge, src_off,
                        src_extra, on_edge)


# ====================================================================== points
@dataclass(frozen=True, eq=False)
class PointTimes:
    """Nearest-source seconds of points (e.g. buildings) snapped onto the network.

    ``seconds`` = time at the snapped position + ``offstreet_seconds`` (the straight
    leg from the point to the street, walked at the same speed); inf when the point
    could not be snapped or lies beyond the horizon.
    """

    seconds: np.ndarray
    offstreet_seconds: np.ndarray
    snapped: SnappedPoints


def point_times(
    coverage: EdgeCoverage,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    snapped: SnappedPoints | None = None,
) -> PointTimes:
    """Nearest-source walking time of many points (buildings): snap once, then look up.

    Parameters
    ----------
    coverage
        An `edge_coverage` result.
    lon, lat
        WGS-84 positions (building centroids).
    max_snap_m
        Points farther from the main component's streets get inf.
    snapped
        Reuse an earlier `snap_points` of the same points (snapping is the costly part
        and does not depend on the sources).

    Returns
    -------
    PointTimes
    """
    if snapped is None:
        snapped = snap_points(coverage.network, lon, lat, max_snap_m=max_snap_m)
    ok = snapped.ok
    offstreet = np.where(ok, np.nan_to_num(snapped.distance_m), _INF) / coverage.speed_mps
    seconds = coverage.point_seconds(snapped.edge_id, np.nan_to_num(snapped.offset_m),
                                     np.where(ok, offstreet, 0.0))
    seconds[~ok] = _INF
    return PointTimes(seconds, offstreet, snapped)


def building_weights(area_m2: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Floor area per building: footprint × levels (unknown levels, -1, count as 1)."""
    return np.asarray(area_m2, np.float64) * np.maximum(np.asarray(levels), 1)


def spread_population(
    population: np.ndarray,
    building_weight: np.ndarray,
    building_region: np.ndarray,
) -> np.ndarray:
    """Spread each region's population over its buildings, proportionally to their weight.

    Parameters
    ----------
    population
        float[n_regions]: residents per region; nan where the region has no figure.
    building_weight
        Per-building weight (e.g. `building_weights`).
    building_region
        Region index per building (-1: outside every region).

    Returns
    -------
    numpy.ndarray
        Residents per building; 0 for buildings outside a region or in a region
        without a figure (so such regions get a nan population share). A region
        with residents but no weighted building keeps them unassigned.
    """
    population = np.asarray(population, np.float64)
    region = np.asarray(building_region, np.int64)
    weight = np.asarray(building_weight, np.float64)
    inside = region >= 0
    totals = np.bincount(region[inside], weights=weight[inside], minlength=population.shape[0])
    per_weight = np.divide(np.nan_to_num(population), totals, out=np.zeros_like(totals),
                           where=totals > 0)
    out = np.zeros(region.shape[0])
    out[inside] = weight[inside] * per_weight[region[inside]]
    return out


# ====================================================================== regions
def assign_to_polygons(lon: np.ndarray, lat: np.ndarray,
                       polygons: Any) -> np.ndarray:
    """Index of the polygon containing each point (-1: none), vectorised with an STRtree.

    Points on a boundary count as inside; where polygons overlap, the lowest index wins.
    """
    polygons = np.asarray(polygons, dtype=object)
    points = shapely.points(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    out = np.full(points.shape[0], np.iinfo(np.int64).max, np.int64)
    if polygons.shape[0] and points.shape[0]:
        tree = shapely.STRtree(polygons)
        point_idx, poly_idx = tree.query(points, predicate="intersects")
        np.minimum.at(out, point_idx, poly_idx.astype(np.int64))
    out[out == np.iinfo(np.int64).max] = -1
    return out


def edge_points(network: WalkingNetwork, fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of the point at `fraction` of every edge's polyline (0.5: midpoints)."""
    edges = np.arange(network.edge_count, dtype=np.int64)
    frac = np.full(edges.shape[0], float(fraction))
    x, y, offsets = _kernels.cut_polylines(network.geom_x, network.geom_y, network.geom_offsets,
                                           edges, frac, frac)
    return network.to_lonlat(x[offsets[:-1]], y[offsets[:-1]])


# ====================================================================== summaries
@dataclass(frozen=True, eq=False)
class CoverageSummary:
    """Per group: total and covered weight, covered share, p50/p90 of the nearest time.

    Quantiles are the smallest time t with (weight within t) >= q × total weight, over
    all weight including the unreached (so p90 is inf when over 10 % is unreached).
    Groups without weight get share and quantiles nan.
    """

    budget_seconds: float
    total: np.ndarray
    covered: np.ndarray
    share: np.ndarray
    p50_seconds: np.ndarray
    p90_seconds: np.ndarray

    def rows(self) -> list[dict[str, float]]:
        """One plain dict per group (JSON-ready except for inf/nan)."""
        return [{"total": float(t), "covered": float(c), "share": float(s),
                 "p50_seconds": float(a), "p90_seconds": float(b)}
                for t, c, s, a, b in zip(self.total, self.covered, self.share,
                                         self.p50_seconds, self.p90_seconds, strict=True)]


def _groups(groups: np.ndarray | None, n_items: int,
            n_groups: int | None) -> tuple[np.ndarray | None, int]:
    if groups is None:
        return None, 1
    groups = np.asarray(groups, np.int64)
    if groups.shape != (n_items,):
        raise ValueError("one group index per item expected")
    if n_groups is None:
        n_groups = int(groups.max()) + 1 if groups.shape[0] else 0
    if groups.shape[0] and groups.max() >= n_groups:
        raise ValueError("group index >= n_groups")
    return groups, n_groups


def _summary(budget: float, total: np.ndarray, covered: np.ndarray,
             quantiles: np.ndarray) -> CoverageSummary:
    share = np.divide(covered, total, out=np.full(total.shape, np.nan), where=total > 0)
    return CoverageSummary(float(budget), total, covered, share, quantiles[:, 0],
                           quantiles[:, 1])


def length_summary(
    coverage: EdgeCoverage,
    *,
    budget_seconds: float | None = None,
    edge_groups: np.ndarray | None = None,
    n_groups: int | None = None,
) -> CoverageSummary:
    """Covered street length and the exact length-weighted nearest-time distribution.

    Every point of the network counts by length: p50 is the time within which half of
    all street metres can be reached (computed exactly from the piecewise-linear
    profiles, not from edge midpoints).

    Parameters
    ----------
    coverage
        An `edge_coverage` result.
    budget_seconds
        Another budget for the covered share (default: the coverage's).
    edge_groups
        Region index per edge (-1: in no region); None summarises the whole network.
    n_groups
        Number of regions (default: max index + 1).

    Returns
    -------
    CoverageSummary
        Weights in metres.
    """
    budget = coverage.budget_seconds if budget_seconds is None else float(budget_seconds)
    covered_m = coverage.covered_m_at(budget)
    length = coverage.network.edge_length_m
    groups, n = _groups(edge_groups, coverage.network.edge_count, n_groups)
    p = coverage.pieces()
    counts = np.diff(p.piece_offsets)
    if groups is None:
        total = np.array([length.sum()])
        covered = np.array([covered_m.sum()])
        order = np.arange(p.t0_seconds.shape[0], dtype=np.int64)
        ptr = np.array([0, order.shape[0]], np.int64)
    else:
        inside = groups >= 0
        total = np.bincount(groups[inside], weights=length[inside], minlength=n)
        covered = np.bincount(groups[inside], weights=covered_m[inside], minlength=n)
        piece_group = np.repeat(groups, counts)
        order = np.argsort(piece_group, kind="stable")
        order = order[np.count_nonzero(piece_group < 0):]
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(piece_group[piece_group >= 0], minlength=n), out=ptr[1:])
    n_bins = int(min(4096, max(16, order.shape[0] // max(n, 1) // 8)))
    quantiles = _piece_quantiles(order, ptr, p.t0_seconds, p.length_m, coverage.speed_mps,
                                 coverage.horizon_seconds, np.array([0.5, 0.9]), n_bins)
    return _summary(budget, total, covered, quantiles)


def coverage_summary(
    seconds: np.ndarray,
    weights: np.ndarray,
    *,
    budget_seconds: float,
    groups: np.ndarray | None = None,
    n_groups: int | None = None,
) -> CoverageSummary:
    """Covered weight and weighted nearest-time quantiles of weighted points.

    For buildings (weight = floor area), population (residents per building) or any
    point weights: an item is covered when its time is within the budget.

    Parameters
    ----------
    seconds
        Nearest time per item (inf: unreached), e.g. `PointTimes.seconds`.
    weights
        Weight per item (>= 0).
    budget_seconds
        The circle.
    groups, n_groups
        Region index per item (-1: none) and number of regions; None: one group.

    Returns
    -------
    CoverageSummary
    """
    seconds = np.asarray(seconds, np.float64)
    weights = np.asarray(weights, np.float64)
    if weights.shape != seconds.shape:
        raise ValueError("one weight per item expected")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("weights must be finite and >= 0")
    groups, n = _groups(groups, seconds.shape[0], n_groups)
    within = np.where(seconds <= budget_seconds, weights, 0.0)
    if groups is None:
        total = np.array([weights.sum()])
        covered = np.array([within.sum()])
        order = np.argsort(seconds, kind="stable")
        ptr = np.array([0, order.shape[0]], np.int64)
    else:
        inside = groups >= 0
        total = np.bincount(groups[inside], weights=weights[inside], minlength=n)
        covered = np.bincount(groups[inside], weights=within[inside], minlength=n)
        order = np.lexsort((seconds, groups))
        order = order[np.count_nonzero(~inside):]
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(groups[inside], minlength=n), out=ptr[1:])
    quantiles = _point_quantiles(order, ptr, seconds, weights, np.array([0.5, 0.9]))
    return _summary(budget_seconds, total, covered, quantiles)


# ====================================================================== stretches
@dataclass(frozen=True, eq=False)
class Stretches:
    """Street stretches: ``start_m``..``end_m`` metres from the u end of ``edge_id``."""

    network: WalkingNetwork
    edge_id: np.ndarray  # int32
    start_m: np.ndarray
    end_m: np.ndarray

    def __len__(self) -> int:
        return int(self.edge_id.shape[0])

    @property
    def length_m(self) -> np.ndarray:
        return self.end_m - self.start_m

    def coordinates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Polylines cut from the edges: (offsets[n + 1], lon, lat), flat."""
        net = self.network
        length = net.edge_length_m[self.edge_id]
        safe = np.where(length > 0, length, 1.0)
        x, y, offsets = _kernels.cut_polylines(
            net.geom_x, net.geom_y, net.geom_offsets, self.edge_id.astype(np.int64),
            np.clip(self.start_m / safe, 0.0, 1.0), np.clip(self.end_m / safe, 0.0, 1.0))
        lon, lat = net.to_lonlat(x, y)
        return offsets, np.atleast_1d(lon), np.atleast_1d(lat)

    def lines(self) -> np.ndarray:
        """shapely LineStrings in lon/lat, one per stretch."""
        offsets, lon, lat = self.coordinates()
        if len(self) == 0:
            return np.empty(0, dtype=object)
        index = np.repeat(np.arange(len(self)), np.diff(offsets))
        return shapely.linestrings(lon, lat, indices=index)

    def geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of LineStrings with edge id, name and length."""
        offsets, lon, lat = self.coordinates()
        coords = np.round(np.column_stack((lon, lat)), 7).tolist()
        net = self.network
        features = []
        for i in range(len(self)):
            e = int(self.edge_id[i])
            features.append({
                "type": "Feature",
                "geometry": {"type": "LineString",
                             "coordinates": coords[offsets[i]:offsets[i + 1]]},
                "properties": {"edge_id": e, "name": net.edge_name_of(e),
                               "length_m": round(float(self.end_m[i] - self.start_m[i]), 2)},
            })
        return {"type": "FeatureCollection", "features": features}


def _stretches_of(coverage: EdgeCoverage, budget_seconds: float | None, min_length_m: float,
                  *, covered: bool) -> Stretches:
    budget = coverage.budget_seconds if budget_seconds is None else float(budget_seconds)
    coverage._check_budget(budget)
    p = coverage.pieces()
    edge, start, end = _stretches(p.piece_offsets, p.pos_m, p.t0_seconds, p.length_m,
                                  coverage.speed_mps, budget, covered, float(min_length_m))
    return Stretches(coverage.network, edge, start, end)


def uncovered_stretches(coverage: EdgeCoverage, *, budget_seconds: float | None = None,
                        min_length_m: float = 0.0) -> Stretches:
    """Maximal street stretches beyond the budget (exact cut points), per edge.

    Parameters
    ----------
    coverage
        An `edge_coverage` result.
    budget_seconds
        Another budget (<= horizon); default the coverage's.
    min_length_m
        Drop shorter stretches (e.g. 10 m, for maps).
    """
    return _stretches_of(coverage, budget_seconds, min_length_m, covered=False)


def covered_stretches(coverage: EdgeCoverage, *, budget_seconds: float | None = None,
                      min_length_m: float = 0.0) -> Stretches:
    """Maximal street stretches within the budget, per edge (see `uncovered_stretches`)."""
    return _stretches_of(coverage, budget_seconds, min_length_m, covered=True)
