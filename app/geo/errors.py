"""Domain exceptions of the walking-network engine (plain exceptions, no HTTP)."""

from __future__ import annotations

import math

__all__ = ["GeoError", "NoRoute", "TooFarFromNetwork"]


class GeoError(Exception):
    """Base class of app.geo errors."""


class TooFarFromNetwork(GeoError):
    """A point is farther than the allowed snapping distance from any walkable edge.

    Attributes
    ----------
    distance_m
        Distance to the nearest eligible edge, or `math.inf` when none was found
        within a wider search radius.
    max_snap_m
        The allowed snapping distance.
    """

    def __init__(self, distance_m: float, max_snap_m: float) -> None:
        self.distance_m = float(distance_m)
        self.max_snap_m = float(max_snap_m)
        detail = f"{self.distance_m:.0f} m" if math.isfinite(self.distance_m) else "far"
        super().__init__(
            f"point is {detail} from the walking network (allowed: {self.max_snap_m:.0f} m)"
        )


class NoRoute(GeoError):
    """No walking path connects the two points (within the time limit, if one was given)."""
