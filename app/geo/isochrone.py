"""Isochrone polygons (walking-time areas) built from the edges a search reached.

The reached street stretches (partial edges cut at the remaining budget) are
rasterised on a fine grid (`resolution_m`) with their earliest walking time; each
budget's area is the set of cells within `buffer_m` of a stretch reached in time
(an exact Euclidean distance transform), traced back to polygons. This costs
O(area / resolution²), independent of how dense the streets are, where
buffering and unioning thousands of line pieces with GEOS costs tens of ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from scipy import ndimage

from app.geo import _kernels
from app.geo.search import SearchResult, _workspace

__all__ = ["DEFAULT_BUFFER_M", "isochrones"]

DEFAULT_BUFFER_M = 30.0


def isochrones(
    result: SearchResult,
    budgets_seconds: Sequence[float],
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    resolution_m: float | None = None,
) -> list[shapely.Geometry]:
    """Walking-time areas around the search source, one per budget.

    Parameters
    ----------
    result
        A `bounded_search` whose budget covers the largest requested budget.
    budgets_seconds
        Budgets, e.g. (60, 120, 180, 240).
    buffer_m
        Half-width of the area around the reached street stretches.
    resolution_m
        Raster cell size; `buffer_m / 4` when omitted. Polygon edges are accurate
        to about one cell.

    Returns
    -------
    list of shapely geometries
        (Multi)Polygons in WGS-84 lon/lat, in the order of `budgets_seconds`
        (an empty polygon when nothing is reachable).
    """
    budgets = [float(b) for b in budgets_seconds]
    if not budgets:
        return []
    if max(budgets) > result.budget_seconds + 1e-9:
        raise ValueError("a budget exceeds the search budget")
    if buffer_m <= 0:
        raise ValueError("buffer_m must be positive")
    cell = float(resolution_m) if resolution_m else buffer_m / 4.0
    network = result.network
    max_budget = max(budgets)
    edges, u_seconds, v_seconds = _reached_edges(result)
    source = result.source
    if source.edge_id not in set(edges.tolist()):
        edges = np.append(edges, source.edge_id)
        u_seconds = np.append(u_seconds, np.inf)
        v_seconds = np.append(v_seconds, np.inf)

    a, b = network.geom_offsets[edges], network.geom_offsets[edges + 1]
    index = np.concatenate([np.arange(i, j) for i, j in zip(a, b, strict=True)])
    margin = buffer_m + 2 * cell
    x0 = float(network.geom_x[index].min()) - margin
    y0 = float(network.geom_y[index].min()) - margin
    ncols = math.ceil((float(network.geom_x[index].max()) + margin - x0) / cell)
    nrows = math.ceil((float(network.geom_y[index].max()) + margin - y0) / cell)
    times = _kernels.rasterize_edge_times(
        network.geom_x, network.geom_y, network.geom_offsets, network.edge_length_m,
        edges.astype(np.int64), u_seconds, v_seconds, source.edge_id, source.offset_m,
        result.speed_mps, max_budget, x0, y0, cell, nrows, ncols,
    )
    radius_cells = buffer_m / cell
    out = []
    for budget in budgets:
        reached = times <= budget
        if not reached.any():
            out.append(shapely.Polygon())
            continue
        mask = ndimage.distance_transform_edt(~reached) <= radius_cells
        area = _mask_to_polygon(mask, x0, y0, cell)
        out.append(network.geometry_to_lonlat(area))
    return out


def _mask_to_polygon(mask: np.ndarray, x0: float, y0: float, cell: float) -> shapely.Geometry:
    """Polygons of the True cells: polygonize the cell-boundary runs, keep the inside faces."""
    mask = _without_pinches(mask)
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), bool)
    padded[1:-1, 1:-1] = mask
    # horizontal boundary runs: between padded rows r and r+1 (grid line y = r)
    horizontal = padded[1:, :] != padded[:-1, :]
    h_rows, h_starts, h_ends = _runs(horizontal)
    vertical = padded[:, 1:] != padded[:, :-1]
    v_cols, v_starts, v_ends = _runs(vertical.T)
    n_h, n_v = h_rows.shape[0], v_cols.shape[0]
    xs = np.empty((n_h + n_v, 2))
    ys = np.empty((n_h + n_v, 2))
    # padded index i corresponds to mask index i - 1, i.e. x = x0 + (i - 1) * cell
    xs[:n_h, 0], xs[:n_h, 1] = h_starts - 1, h_ends - 1
    ys[:n_h, :] = (h_rows - 0.0)[:, None]
    xs[n_h:, :] = (v_cols - 0.0)[:, None]
    ys[n_h:, 0], ys[n_h:, 1] = v_starts - 1, v_ends - 1
    lines = shapely.linestrings(np.stack((x0 + xs * cell, y0 + ys * cell), axis=-1))
    faces = shapely.get_parts(shapely.polygonize(lines))
    inside = shapely.get_coordinates(shapely.point_on_surface(faces))
    col = np.floor((inside[:, 0] - x0) / cell).astype(np.int64)
    row = np.floor((inside[:, 1] - y0) / cell).astype(np.int64)
    keep = mask[np.clip(row, 0, mask.shape[0] - 1), np.clip(col, 0, mask.shape[1] - 1)]
    polygons = faces[keep]
    merged = polygons[0] if polygons.shape[0] == 1 else shapely.multipolygons(polygons)
    return shapely.simplify(merged, 0.5 * cell)


def _runs(boundary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along each row: (row, start, end) with end exclusive."""
    padded = np.zeros((boundary.shape[0], boundary.shape[1] + 2), np.int8)
    padded[:, 1:-1] = boundary
    change = np.diff(padded, axis=1)
    rows, starts = np.nonzero(change == 1)
    _, ends = np.nonzero(change == -1)
    return rows, starts, ends


def _without_pinches(mask: np.ndarray) -> np.ndarray:
    """Fill cells so that no two cells touch only at a corner (keeps polygons valid)."""
    mask = mask.copy()
    while True:
        a, b = mask[:-1, :-1], mask[:-1, 1:]
        c, d = mask[1:, :-1], mask[1:, 1:]
        main_diagonal = a & d & ~b & ~c
        anti_diagonal = b & c & ~a & ~d
        if not (main_diagonal.any() or anti_diagonal.any()):
            return mask
        mask[:-1, 1:] |= main_diagonal
        mask[:-1, :-1] |= anti_diagonal


def _reached_edges(result: SearchResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges touching a reached node, with the seconds at their u and v ends (inf: not reached)."""
    network = result.network
    nodes = result.node_ids.astype(np.int64)
    if nodes.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    starts = network.indptr[nodes]
    counts = network.indptr[nodes + 1] - starts
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    half_edges = np.repeat(starts - first, counts) + np.arange(int(counts.sum()))
    edges = np.unique(network.adj_edge[half_edges]).astype(np.int64)
    space = _workspace(network)
    _kernels.scatter(space.dist, result.node_ids, result.seconds)
    try:
        u_seconds = space.dist[network.edge_u[edges]]
        v_seconds = space.dist[network.edge_v[edges]]
    finally:
        space.reset(result.node_ids)
    return edges, u_seconds, v_seconds
