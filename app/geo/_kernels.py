"""Compiled (numba) kernels over the network's flat arrays. Private to app.geo.

All searches run in metres; callers convert to seconds. Kernels never allocate
O(nodes) memory per call: the bounded searches use a caller-owned workspace
(`dist` = inf, `settled` = False, `pred_edge` = -1 on entry) and report the nodes
they touched so that the caller can restore it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_INF = math.inf


# --------------------------------------------------------------------- binary heap
@njit(cache=True, nogil=True, inline="always")
def _heap_push(keys, vals, size, key, val):
    if size == keys.shape[0]:
        new_keys = np.empty(2 * size, np.float64)
        new_vals = np.empty(2 * size, np.int64)
        new_keys[:size] = keys
        new_vals[:size] = vals
        keys = new_keys
        vals = new_vals
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return keys, vals, size + 1


@njit(cache=True, nogil=True, inline="always")
def _heap_pop(keys, vals, size):
    top_key = keys[0]
    top_val = vals[0]
    size -= 1
    if size > 0:
        key = keys[size]
        val = vals[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and keys[child + 1] < keys[child]:
                child += 1
            if keys[child] >= key:
                break
            keys[i] = keys[child]
            vals[i] = vals[child]
            i = child
        keys[i] = key
        vals[i] = val
    return top_key, top_val, size


# --------------------------------------------------------------------- searches
@njit(cache=True, nogil=True)
def bounded_dijkstra(
    indptr, adj_node, adj_edge, edge_len, seed_nodes, seed_costs, limit, stop_nodes,
    dist, settled, pred_edge,
):
    """Dijkstra from weighted seeds up to `limit` metres; returns the touched nodes.

    Stops early once every node of `stop_nodes` (may be empty) is settled.
    """
    keys = np.empty(256, np.float64)
    vals = np.empty(256, np.int64)
    size = 0
    touched = np.empty(256, np.int32)
    n_touched = 0
    for i in range(seed_nodes.shape[0]):
        node = seed_nodes[i]
        cost = seed_costs[i]
        if cost <= limit and cost < dist[node]:
            if dist[node] == _INF:
                if n_touched == touched.shape[0]:
                    touched = np.concatenate((touched, np.empty_like(touched)))
                touched[n_touched] = node
                n_touched += 1
            dist[node] = cost
            pred_edge[node] = -1
            keys, vals, size = _heap_push(keys, vals, size, cost, node)
    stops_left = 0
    for i in range(stop_nodes.shape[0]):
        dup = False
        for j in range(i):
            if stop_nodes[j] == stop_nodes[i]:
                dup = True
        if not dup:
            stops_left += 1
    while size > 0:
        d, node, size = _heap_pop(keys, vals, size)
        if settled[node] or d > dist[node]:
            continue
        settled[node] = True
        if stops_left > 0:
            for j in range(stop_nodes.shape[0]):
                if stop_nodes[j] == node:
                    stops_left -= 1
                    break
            if stops_left == 0:
                break
        for k in range(indptr[node], indptr[node + 1]):
            other = adj_node[k]
            if settled[other]:
                continue
            edge = adj_edge[k]
            nd = d + edge_len[edge]
            if nd <= limit and nd < dist[other]:
                if dist[other] == _INF:
                    if n_touched == touched.shape[0]:
                        touched = np.concatenate((touched, np.empty_like(touched)))
                    touched[n_touched] = other
                    n_touched += 1
                dist[other] = nd
                pred_edge[other] = edge
                keys, vals, size = _heap_push(keys, vals, size, nd, other)
    return touched[:n_touched].copy()


@njit(cache=True, nogil=True)
def multi_source_dijkstra(indptr, adj_node, adj_edge, edge_len, seed_nodes, seed_costs,
                          seed_labels, limit, n_nodes):
    """Multi-source Dijkstra: distance to and label of the nearest seed, per node."""
    dist = np.full(n_nodes, _INF)
    label = np.full(n_nodes, -1, np.int32)
    settled = np.zeros(n_nodes, np.bool_)
    keys = np.empty(max(256, 2 * seed_nodes.shape[0]), np.float64)
    vals = np.empty(keys.shape[0], np.int64)
    size = 0
    for i in range(seed_nodes.shape[0]):
        node = seed_nodes[i]
        cost = seed_costs[i]
        if cost <= limit and cost < dist[node]:
            dist[node] = cost
            label[node] = seed_labels[i]
            keys, vals, size = _heap_push(keys, vals, size, cost, node)
    while size > 0:
        d, node, size = _heap_pop(keys, vals, size)
        if settled[node] or d > dist[node]:
            continue
        settled[node] = True
        for k in range(indptr[node], indptr[node + 1]):
            other = adj_node[k]
            if settled[other]:
                continue
            nd = d + edge_len[adj_edge[k]]
            if nd <= limit and nd < dist[other]:
                dist[other] = nd
                label[other] = label[node]
                keys, vals, size = _heap_push(keys, vals, size, nd, other)
    return dist, label


@njit(cache=True, nogil=True)
def scatter(dense, nodes, values):
    for i in range(nodes.shape[0]):
        dense[nodes[i]] = values[i]


@njit(cache=True, nogil=True)
def reset_workspace(nodes, dist, settled, pred_edge):
    for i in range(nodes.shape[0]):
        node = nodes[i]
        dist[node] = _INF
        settled[node] = False
        pred_edge[node] = -1


@njit(cache=True, nogil=True)
def distances_at_points(nodes, node_dist, dist, edge_bits, indptr, adj_edge, edge_u, edge_v,
                        edge_len, point_edge, point_offset, source_edge, source_offset, limit):
    """Metres to on-edge points from a search result (`nodes` reached at `node_dist`).

    A point is reached from its edge's u end (+offset) or v end (+length - offset),
    or directly along the source's own edge. Results above `limit` are inf.
    `dist` (inf) and `edge_bits` (zero, one bit per edge) are workspaces, restored on
    exit. Edges touching a reached node are marked first: the bitmask stays in cache,
    so the many unreached points cost one sequential read and one bit test each.
    """
    for i in range(nodes.shape[0]):
        node = nodes[i]
        dist[node] = node_dist[i]
        for k in range(indptr[node], indptr[node + 1]):
            e = adj_edge[k]
            edge_bits[e >> 3] |= np.uint8(1 << (e & 7))
    n = point_edge.shape[0]
    out = np.full(n, _INF)
    for i in range(n):
        e = point_edge[i]
        if e < 0:
            continue
        if ((edge_bits[e >> 3] >> (e & 7)) & 1) == 0 and e != source_edge:
            continue
        off = point_offset[i]
        best = dist[edge_u[e]] + off
        via_v = dist[edge_v[e]] + (edge_len[e] - off)
        if via_v < best:
            best = via_v
        if e == source_edge:
            direct = abs(off - source_offset)
            if direct < best:
                best = direct
        if best <= limit:
            out[i] = best
    for i in range(nodes.shape[0]):
        node = nodes[i]
        dist[node] = _INF
        for k in range(indptr[node], indptr[node + 1]):
            edge_bits[adj_edge[k] >> 3] = 0
    return out



@njit(cache=True, nogil=True)
def distances_from_sources(indptr, adj_node, adj_edge, edge_len, edge_u, edge_v, source_edge,
                           source_offset, source_limit, point_edge, point_offset, dist, settled,
                           pred_edge, edge_bits, stop_nodes):
    """Metres from each on-edge source, searched up to its own limit (negative: skipped), to
    every on-edge point: out[point, source]. One call for many small searches (e.g. from
    each AED to the responders), without a round trip to Python per search."""
    out = np.full((point_edge.shape[0], source_edge.shape[0]), _INF)
    seeds = np.empty(2, np.int64)
    costs = np.empty(2, np.float64)
    for j in range(source_edge.shape[0]):
        limit = source_limit[j]
        if limit < 0:
            continue
        e = source_edge[j]
        length = edge_len[e]
        off = min(max(source_offset[j], 0.0), length)
        seeds[0] = edge_u[e]
        seeds[1] = edge_v[e]
        costs[0] = off
        costs[1] = length - off
        touched = bounded_dijkstra(indptr, adj_node, adj_edge, edge_len, seeds, costs, limit,
                                   stop_nodes, dist, settled, pred_edge)
        reached = dist[touched]
        reset_workspace(touched, dist, settled, pred_edge)
        out[:, j] = distances_at_points(touched, reached, dist, edge_bits, indptr, adj_edge,
                                        edge_u, edge_v, edge_len, point_edge, point_offset, e,
                                        off, limit)
    return out

# --------------------------------------------------------------------- snapping grid
@njit(cache=True, nogil=True)
def _segment_cells(x0, y0, x1, y1, gx, gy, cell):
    cx0 = math.floor((min(x0, x1) - gx) / cell)
    cx1 = math.floor((max(x0, x1) - gx) / cell)
    cy0 = math.floor((min(y0, y1) - gy) / cell)
    cy1 = math.floor((max(y0, y1) - gy) / cell)
    return cx0, cx1, cy0, cy1


@njit(cache=True, nogil=True)
def _edge_cells(geom_x, geom_y, a, b, gx, gy, cell, ncols, buffer):
    """Sorted unique cell keys touched by the segment bboxes of one polyline."""
    n = 0
    for i in range(a, b - 1):
        cx0, cx1, cy0, cy1 = _segment_cells(
            geom_x[i], geom_y[i], geom_x[i + 1], geom_y[i + 1], gx, gy, cell
        )
        need = n + (cx1 - cx0 + 1) * (cy1 - cy0 + 1)
        if need > buffer.shape[0]:
            bigger = np.empty(max(need, 2 * buffer.shape[0]), np.int64)
            bigger[:n] = buffer[:n]
            buffer = bigger
        for cy in range(cy0, cy1 + 1):
            for cx in range(cx0, cx1 + 1):
                buffer[n] = cy * ncols + cx
                n += 1
    cells = np.sort(buffer[:n])
    m = 0
    for i in range(n):
        if i == 0 or cells[i] != cells[i - 1]:
            cells[m] = cells[i]
            m += 1
    return cells[:m], buffer


@njit(cache=True, nogil=True)
def grid_registrations(geom_x, geom_y, geom_offsets, gx, gy, cell, ncols, edge_bits):
    """Packed `cell key << edge_bits | edge id` for every cell an edge's segments touch."""
    n_edges = geom_offsets.shape[0] - 1
    buffer = np.empty(64, np.int64)
    count = 0
    for e in range(n_edges):
        cells, buffer = _edge_cells(geom_x, geom_y, geom_offsets[e], geom_offsets[e + 1],
                                    gx, gy, cell, ncols, buffer)
        count += cells.shape[0]
    packed = np.empty(count, np.int64)
    k = 0
    for e in range(n_edges):
        cells, buffer = _edge_cells(geom_x, geom_y, geom_offsets[e], geom_offsets[e + 1],
                                    gx, gy, cell, ncols, buffer)
        for j in range(cells.shape[0]):
            packed[k] = (cells[j] << edge_bits) | e
            k += 1
    return packed


@njit(cache=True, nogil=True)
def unpack_registrations(packed, edge_bits):
    """Sorted packed registrations -> (cell keys, cell start offsets, edge ids)."""
    n = packed.shape[0]
    mask = (np.int64(1) << edge_bits) - 1
    n_cells = 0
    for i in range(n):
        if i == 0 or (packed[i] >> edge_bits) != (packed[i - 1] >> edge_bits):
            n_cells += 1
    keys = np.empty(n_cells, np.int64)
    starts = np.empty(n_cells + 1, np.int64)
    edges = np.empty(n, np.int32)
    c = 0
    for i in range(n):
        key = packed[i] >> edge_bits
        if i == 0 or key != (packed[i - 1] >> edge_bits):
            keys[c] = key
            starts[c] = i
            c += 1
        edges[i] = packed[i] & mask
    starts[n_cells] = n
    return keys, starts, edges


@njit(cache=True, nogil=True, inline="always")
def _find_cell(cell_keys, key):
    lo = 0
    hi = cell_keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cell_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < cell_keys.shape[0] and cell_keys[lo] == key:
        return lo
    return -1


@njit(cache=True, nogil=True)
def snap_to_edges(px, py, geom_x, geom_y, geom_offsets, cell_keys, cell_start, reg_edge,
                  edge_ok, gx, gy, cell, ncols, nrows, max_dist):
    """Nearest eligible edge per point within `max_dist` (exact ring search over the grid).

    Returns edge id (-1 when none), fraction of the edge's projected length from u,
    snapped x/y and distance.
    """
    n = px.shape[0]
    out_edge = np.full(n, -1, np.int32)
    out_frac = np.full(n, np.nan)
    out_x = np.full(n, np.nan)
    out_y = np.full(n, np.nan)
    out_d = np.full(n, np.nan)
    max_ring = math.ceil(max_dist / cell) + 1
    for p in range(n):
        x = px[p]
        y = py[p]
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        cx = math.floor((x - gx) / cell)
        cy = math.floor((y - gy) / cell)
        best = max_dist * max_dist
        best_seg = -1
        best_edge = -1
        best_t = 0.0
        for r in range(max_ring + 1):
            if r >= 1:
                reach = (r - 1) * cell
                if reach * reach > best:
                    break
            for qy in range(cy - r, cy + r + 1):
                if qy < 0 or qy >= nrows:
                    continue
                step = 1 if (qy == cy - r or qy == cy + r) else 2 * r
                qx = cx - r
                while qx <= cx + r:
                    if 0 <= qx < ncols:
                        c = _find_cell(cell_keys, qy * ncols + qx)
                        if c >= 0:
                            for k in range(cell_start[c], cell_start[c + 1]):
                                e = reg_edge[k]
                                if not edge_ok[e]:
                                    continue
                                for i in range(geom_offsets[e], geom_offsets[e + 1] - 1):
                                    ax = np.float64(geom_x[i])
                                    ay = np.float64(geom_y[i])
                                    dx = np.float64(geom_x[i + 1]) - ax
                                    dy = np.float64(geom_y[i + 1]) - ay
                                    seg2 = dx * dx + dy * dy
                                    t = 0.0
                                    if seg2 > 0.0:
                                        t = ((x - ax) * dx + (y - ay) * dy) / seg2
                                        t = min(1.0, max(0.0, t))
                                    qxp = ax + t * dx - x
                                    qyp = ay + t * dy - y
                                    d2 = qxp * qxp + qyp * qyp
                                    if d2 < best or (d2 == best and 0 <= i < best_seg):
                                        best = d2
                                        best_seg = i
                                        best_edge = e
                                        best_t = t
                    qx += step
        if best_seg < 0:
            continue
        e = best_edge
        along = 0.0
        total = 0.0
        for i in range(geom_offsets[e], geom_offsets[e + 1] - 1):
            seg = math.hypot(np.float64(geom_x[i + 1]) - geom_x[i],
                             np.float64(geom_y[i + 1]) - geom_y[i])
            if i < best_seg:
                along += seg
            elif i == best_seg:
                along += best_t * seg
            total += seg
        i = best_seg
        out_edge[p] = e
        out_frac[p] = along / total if total > 0.0 else 0.0
        out_x[p] = geom_x[i] + best_t * (np.float64(geom_x[i + 1]) - geom_x[i])
        out_y[p] = geom_y[i] + best_t * (np.float64(geom_y[i + 1]) - geom_y[i])
        out_d[p] = math.sqrt(best)
    return out_edge, out_frac, out_x, out_y, out_d


# --------------------------------------------------------------------- polylines
@njit(cache=True, nogil=True)
def cut_polylines(geom_x, geom_y, geom_offsets, piece_edge, piece_start, piece_end):
    """Sub-polylines of edges between two fractions of their projected length.

    `piece_start > piece_end` yields the piece reversed (walking from v towards u).
    Returns flat x, y and offsets (len = pieces + 1).
    """
    n = piece_edge.shape[0]
    counts = np.empty(n, np.int64)
    total = 0
    for p in range(n):
        e = piece_edge[p]
        counts[p] = geom_offsets[e + 1] - geom_offsets[e] + 2
        total += counts[p]
    out_x = np.empty(total, np.float64)
    out_y = np.empty(total, np.float64)
    offsets = np.zeros(n + 1, np.int64)
    k = 0
    for p in range(n):
        e = piece_edge[p]
        a = geom_offsets[e]
        b = geom_offsets[e + 1]
        f0 = piece_start[p]
        f1 = piece_end[p]
        reverse = f0 > f1
        lo = min(f0, f1)
        hi = max(f0, f1)
        length = 0.0
        for i in range(a, b - 1):
            length += math.hypot(np.float64(geom_x[i + 1]) - geom_x[i],
                                 np.float64(geom_y[i + 1]) - geom_y[i])
        lo_m = lo * length
        hi_m = hi * length
        start = k
        walked = 0.0
        for i in range(a, b - 1):
            seg = math.hypot(np.float64(geom_x[i + 1]) - geom_x[i],
                             np.float64(geom_y[i + 1]) - geom_y[i])
            s0 = walked
            s1 = walked + seg
            walked = s1
            if s1 < lo_m or s0 > hi_m:
                continue
            if k == start:
                t = (lo_m - s0) / seg if seg > 0.0 else 0.0
                t = min(1.0, max(0.0, t))
                out_x[k] = geom_x[i] + t * (geom_x[i + 1] - geom_x[i])
                out_y[k] = geom_y[i] + t * (geom_y[i + 1] - geom_y[i])
                k += 1
            if s1 >= hi_m:
                t = (hi_m - s0) / seg if seg > 0.0 else 1.0
                t = min(1.0, max(0.0, t))
                out_x[k] = geom_x[i] + t * (geom_x[i + 1] - geom_x[i])
                out_y[k] = geom_y[i] + t * (geom_y[i + 1] - geom_y[i])
                k += 1
                break
            out_x[k] = geom_x[i + 1]
            out_y[k] = geom_y[i + 1]
            k += 1
        if k == start:
            out_x[k] = geom_x[a]
            out_y[k] = geom_y[a]
            k += 1
        if k - start == 1:
            out_x[k] = out_x[k - 1]
            out_y[k] = out_y[k - 1]
            k += 1
        if reverse:
            i = start
            j = k - 1
            while i < j:
                tx = out_x[i]
                out_x[i] = out_x[j]
                out_x[j] = tx
                ty = out_y[i]
                out_y[i] = out_y[j]
                out_y[j] = ty
                i += 1
                j -= 1
        offsets[p + 1] = k
    return out_x[:k].copy(), out_y[:k].copy(), offsets


@njit(cache=True, nogil=True)
def rasterize_edge_times(geom_x, geom_y, geom_offsets, edge_len, edges, u_time, v_time,
                         source_edge, source_offset, speed, max_time, x0, y0, cell, nrows,
                         ncols):
    """Earliest walking time (seconds) of any point of the given edges, per grid cell.

    Each edge is sampled every half cell along its polyline; the time at a sample is
    min(u_time + d / speed, v_time + (length - d) / speed), and on the source edge
    also |d - source_offset| / speed (d in the edge's metres). Cells start at inf.
    """
    grid = np.full((nrows, ncols), _INF)
    step = 0.5 * cell
    for k in range(edges.shape[0]):
        e = edges[k]
        a = geom_offsets[e]
        b = geom_offsets[e + 1]
        proj_len = 0.0
        for i in range(a, b - 1):
            proj_len += math.hypot(np.float64(geom_x[i + 1]) - geom_x[i],
                                   np.float64(geom_y[i + 1]) - geom_y[i])
        scale = edge_len[e] / proj_len if proj_len > 0.0 else 0.0
        walked = 0.0
        for i in range(a, b - 1):
            ax = np.float64(geom_x[i])
            ay = np.float64(geom_y[i])
            dx = np.float64(geom_x[i + 1]) - ax
            dy = np.float64(geom_y[i + 1]) - ay
            seg = math.hypot(dx, dy)
            n_samples = int(seg / step) + 1
            last = 1 if i == b - 2 else 0
            for j in range(n_samples + last):
                t = j / n_samples
                d = (walked + t * seg) * scale
                time = min(u_time[k] + d / speed, v_time[k] + (edge_len[e] - d) / speed)
                if e == source_edge:
                    time = min(time, abs(d - source_offset) / speed)
                if time > max_time:
                    continue
                col = math.floor((ax + t * dx - x0) / cell)
                row = math.floor((ay + t * dy - y0) / cell)
                if 0 <= row < nrows and 0 <= col < ncols and time < grid[row, col]:
                    grid[row, col] = time
            walked += seg
    return grid
