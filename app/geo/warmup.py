"""Compile the numba kernels before the first real request.

The first call of each kernel compiles it (seconds); an emergency request must not pay
that. ``warm_up`` runs every query once on a two-edge network; compiled code is cached on
disk, so later processes start fast.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from app.geo.isochrone import isochrones
from app.geo.network import WalkingNetwork
from app.geo.route import walking_route
from app.geo.search import (
    bounded_search,
    nearest_source_seconds,
    times_from_sources,
    times_to_points,
)
from app.geo.snap import snap_point, snap_points


@cache
def warm_up() -> None:
    """Run once per process (later calls return at once)."""
    network = WalkingNetwork.from_edges([117.2000, 117.2010, 117.2020], [39.12, 39.12, 39.12],
                                        [0, 1], [1, 2], edge_names=["a", "b"])
    source = snap_point(network, 117.2001, 39.1201)
    target = snap_point(network, 117.2018, 39.1199)
    result = bounded_search(network, source, budget_seconds=240, speed_mps=1.8)
    many = snap_points(network, np.array([117.2005, 117.2015]), np.array([39.12, 39.12]))
    times_to_points(result, many.edge_id, many.offset_m)
    times_from_sources(network, many.edge_id, many.offset_m, np.array([240.0, -1.0]),
                       many.edge_id, many.offset_m, speed_mps=1.8)
    nearest_source_seconds(network, many.edge_id, many.offset_m, speed_mps=1.8)
    walking_route(network, source, target, speed_mps=1.8)
    isochrones(result, [60, 120])
