"""Snap points onto the nearest walkable edge (not node), in projected metres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.geo import _kernels
from app.geo.errors import TooFarFromNetwork
from app.geo.network import WalkingNetwork

__all__ = ["DEFAULT_MAX_SNAP_M", "SnappedPoint", "SnappedPoints", "snap_point", "snap_points"]

DEFAULT_MAX_SNAP_M = 250.0
_WIDER_SEARCH_M = 5_000.0


@dataclass(frozen=True, slots=True)
class SnappedPoint:
    """A position on the network: `offset_m` metres along `edge_id` from its u end.

    `lon`/`lat` is the snapped position, `distance_m` the distance from the input point.
    """

    edge_id: int
    offset_m: float
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Vectorised snapping result; rows with `edge_id == -1` were too far (others NaN)."""

    edge_id: np.ndarray  # int32
    offset_m: np.ndarray  # float64
    lon: np.ndarray
    lat: np.ndarray
    distance_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """bool mask of the points that were snapped."""
        return self.edge_id >= 0

    def __len__(self) -> int:
        return int(self.edge_id.shape[0])

    def __getitem__(self, i: int) -> SnappedPoint:
        return SnappedPoint(int(self.edge_id[i]), float(self.offset_m[i]), float(self.lon[i]),
                            float(self.lat[i]), float(self.distance_m[i]))


def _snap_xy(network: WalkingNetwork, x: np.ndarray, y: np.ndarray, *, max_snap_m: float,
             main_component_only: bool) -> tuple[np.ndarray, ...]:
    grid = network.snap_grid
    edge_ok = network.edge_in_main if main_component_only else np.ones(network.edge_count, bool)
    return _kernels.snap_to_edges(
        np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, np.float64),
        network.geom_x, network.geom_y, network.geom_offsets, grid.cell_keys, grid.cell_start,
        grid.reg_edge, edge_ok, grid.origin_x, grid.origin_y, grid.cell_m, grid.ncols,
        grid.nrows, float(max_snap_m),
    )


def snap_points(
    network: WalkingNetwork,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    main_component_only: bool = True,
) -> SnappedPoints:
    """Snap many WGS-84 points to their nearest walkable edge.

    Parameters
    ----------
    network
        The walking network.
    lon, lat
        Arrays of WGS-84 coordinates.
    max_snap_m
        Points farther than this from every eligible edge get `edge_id = -1`.
    main_component_only
        Only consider edges of the largest connected component (so that every
        snapped point can reach every other).

    Returns
    -------
    SnappedPoints
    """
    lon = np.atleast_1d(np.asarray(lon, np.float64))
    lat = np.atleast_1d(np.asarray(lat, np.float64))
    x, y = network.to_xy(lon, lat)
    edge, frac, sx, sy, dist = _snap_xy(network, np.atleast_1d(x), np.atleast_1d(y),
                                        max_snap_m=max_snap_m,
                                        main_component_only=main_component_only)
    ok = edge >= 0
    offset = np.full(edge.shape[0], np.nan)
    offset[ok] = frac[ok] * network.edge_length_m[edge[ok]]
    snapped_lon, snapped_lat = network.to_lonlat(sx, sy)
    return SnappedPoints(edge, offset, np.atleast_1d(snapped_lon), np.atleast_1d(snapped_lat),
                         dist)


def snap_point(
    network: WalkingNetwork,
    lon: float,
    lat: float,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    main_component_only: bool = True,
) -> SnappedPoint:
    """Snap one WGS-84 point to its nearest walkable edge.

    Raises
    ------
    TooFarFromNetwork
        No eligible edge within `max_snap_m`; carries the actual distance when an
        edge lies within a wider radius (5 km), else `inf`.
    """
    snapped = snap_points(network, np.array([lon]), np.array([lat]), max_snap_m=max_snap_m,
                          main_component_only=main_component_only)
    if snapped.edge_id[0] >= 0:
        return snapped[0]
    x, y = network.to_xy(np.array([lon]), np.array([lat]))
    wider = _snap_xy(network, np.atleast_1d(x), np.atleast_1d(y),
                     max_snap_m=max(_WIDER_SEARCH_M, max_snap_m),
                     main_component_only=main_component_only)
    distance = float(wider[4][0]) if wider[0][0] >= 0 else float("inf")
    raise TooFarFromNetwork(distance, max_snap_m)
