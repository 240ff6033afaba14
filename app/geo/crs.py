"""Coordinate systems used in China: WGS-84, GCJ-02 and BD-09.

The service stores WGS-84 and answers in the caller's system.

* ``wgs84``: GPS, OpenStreetMap.
* ``gcj02``: the state-mandated obfuscated datum ("Mars coordinates") used by WeChat, Tencent
  and AMap.  Implemented with the standard public offset formula on the Krasovsky 1940
  ellipsoid, which agrees with the official (unpublished) algorithm to within a metre.
* ``bd09``: Baidu's further obfuscation of GCJ-02.

The public formulas only go forwards (WGS-84 -> GCJ-02 -> BD-09).  The usual one-step inverses
are off by up to about 5 m (GCJ-02) and 0.2 m (BD-09), so both inverses here are solved exactly
by fixed-point iteration: each forward map is the identity plus a small, slowly varying offset
(derivative at most about 0.02), so every iteration gains more than one digit.

"In China" is the conventional coarse box (lon 72.004–137.8347, lat 0.8293–55.8271) that all
widely used implementations share, so we agree with the coordinates apps actually produce.  It
is a rectangle, not the border: it also covers neighbours such as Mongolia, the Koreas,
western Japan (Osaka; Tokyo at 139.7° E is outside), the Russian Far East, much of South-East
Asia and northern India, where we shift just as those apps do.  Outside the box the three
systems coincide and nothing is shifted.  The box is tested on the *input* point; within about
2 km of its edges a shifted point can land on the other side, so round trips are exact only
away from the edges (China itself is everywhere more than 100 km inside).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Crs",
    "distance_m",
    "from_wgs84",
    "from_wgs84_array",
    "is_in_china",
    "to_wgs84",
    "to_wgs84_array",
]

FloatArray = NDArray[np.float64]
_V = TypeVar("_V", float, FloatArray)  # one point (math) or many (numpy)


class Crs(StrEnum):
    """A coordinate system a caller may send or ask for."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


# Krasovsky 1940 ellipsoid, as in the public GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The conventional coarse "out of China" box (inclusive).
_MIN_LON, _MAX_LON = 72.004, 137.8347
_MIN_LAT, _MAX_LAT = 0.8293, 55.8271

# 1e-11° is about 1 µm: far below the 0.5 m we promise, still above float64 rounding (~1e-14°
# at 100°), so the loop always terminates on the tolerance; the cap is only a safety net.
_TOL_DEG = 1e-11
_MAX_ITER = 30

_MEAN_EARTH_RADIUS_M = 6_371_008.8


# --- validation -------------------------------------------------------------------------------


def _check_finite(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"coordinates must be finite, got lon={lon!r}, lat={lat!r}")


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                               np.asarray(lat, dtype=np.float64))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("coordinates must be finite (no NaN or inf)")
    # Copies: broadcast views are read-only and we write the shifted points into them.
    return x.copy(), y.copy()


def _in_box(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    return (lon >= _MIN_LON) & (lon <= _MAX_LON) & (lat >= _MIN_LAT) & (lat <= _MAX_LAT)


# --- the formulas -------------------------------------------------------------------------------
# Written once over a tiny table of operations, so one point goes through plain ``math`` (about
# ten times faster than numpy on a single value) and many points through numpy, with one copy
# of each formula.


@dataclass(frozen=True, slots=True)
class _Ops:
    sin: Callable[[Any], Any]
    cos: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    hypot: Callable[[Any, Any], Any]
    atan2: Callable[[Any, Any], Any]
    max_abs: Callable[[Any], float]


_MATH = _Ops(math.sin, math.cos, math.sqrt, math.hypot, math.atan2, abs)
_NUMPY = _Ops(np.sin, np.cos, np.sqrt, np.hypot, np.arctan2,
              lambda e: float(np.abs(e).max(initial=0.0)))


def _gcj_offset(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (the public formula)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * m.sin(6.0 * x * pi) + 20.0 * m.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(abs(x))
            + common
            + (20.0 * m.sin(y * pi) + 40.0 * m.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * m.sin(y / 12.0 * pi) + 320.0 * m.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(abs(x))
            + common
            + (20.0 * m.sin(x * pi) + 40.0 * m.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * m.sin(x / 12.0 * pi) + 300.0 * m.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    # The terms above are metre-like; turn them into degrees with the Krasovsky radii of
    # curvature (meridional for latitude, prime vertical times cos(lat) for longitude).
    radlat = lat / 180.0 * pi
    sin_lat = m.sin(radlat)
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * m.cos(radlat) * pi)
    return dlon, dlat


def _wgs_to_gcj(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    dlon, dlat = _gcj_offset(lon, lat, m)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    z = m.hypot(lon, lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    # The published inverse evaluates the perturbation at the BD point instead of the GCJ
    # point (off by up to ~0.2 m); here it is only the iteration's starting point.
    x = lon - 0.0065
    y = lat - 0.006
    z = m.hypot(x, y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def _invert(forward: Callable[[_V, _V, _Ops], tuple[_V, _V]], lon: _V, lat: _V,
            start: tuple[_V, _V], m: _Ops) -> tuple[_V, _V]:
    """Solve ``forward(p) == (lon, lat)`` by fixed-point iteration from ``start``.

    ``forward`` is the identity plus a small offset, so ``p -= forward(p) - target`` contracts.
    """
    x, y = start
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y, m)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if max(m.max_abs(ex), m.max_abs(ey)) < _TOL_DEG:
            break
    return x, y


def _gcj_to_wgs(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    # Start from the usual one-step inverse (off by up to ~5 m), then make it exact.  The
    # sqrt(|lon - 105|) term has a cusp at 105° E; there the iteration still settles within
    # ~1e-12° (sub-micrometre) because the term's weight in degrees is ~1e-6.
    dlon, dlat = _gcj_offset(lon, lat, m)
    return _invert(_wgs_to_gcj, lon, lat, (lon - dlon, lat - dlat), m)


def _bd_to_gcj(lon: _V, lat: _V, m: _Ops) -> tuple[_V, _V]:
    return _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_approx(lon, lat, m), m)


def _shift(lon: _V, lat: _V, crs: Crs, *, inverse: bool, m: _Ops) -> tuple[_V, _V]:
    """Shift points known to be inside the box; ``inverse`` means from ``crs`` to WGS-84."""
    if crs is Crs.gcj02:
        return _gcj_to_wgs(lon, lat, m) if inverse else _wgs_to_gcj(lon, lat, m)
    if crs is Crs.bd09:
        if inverse:
            return _gcj_to_wgs(*_bd_to_gcj(lon, lat, m), m)
        return _gcj_to_bd(*_wgs_to_gcj(lon, lat, m), m)
    return lon, lat


def _shift_scalar(lon: float, lat: float, crs: Crs, *, inverse: bool) -> tuple[float, float]:
    crs = Crs(crs)
    inside = is_in_china(lon, lat)  # also rejects NaN/inf, whatever the crs
    if crs is Crs.wgs84 or not inside:
        return float(lon), float(lat)
    return _shift(float(lon), float(lat), crs, inverse=inverse, m=_MATH)


def _shift_array(lon: ArrayLike, lat: ArrayLike, crs: Crs, *, inverse: bool) -> FloatArray:
    crs = Crs(crs)
    x, y = _as_arrays(lon, lat)
    if crs is not Crs.wgs84:
        inside = _in_box(x, y)
        x[inside], y[inside] = _shift(x[inside], y[inside], crs, inverse=inverse, m=_NUMPY)
    return np.stack([x, y])


# --- public API --------------------------------------------------------------------------------


def is_in_china(lon: float, lat: float) -> bool:
    """Whether a point is inside the conventional coarse China box (see the module docstring).

    Raises
    ------
    ValueError
        If a coordinate is NaN or infinite.
    """
    _check_finite(lon, lat)
    return bool(_MIN_LON <= lon <= _MAX_LON and _MIN_LAT <= lat <= _MAX_LAT)


def to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """Convert one point from ``crs`` to WGS-84.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS-84 degrees; unchanged outside the China box.

    Raises
    ------
    ValueError
        If a coordinate is NaN or infinite, or ``crs`` is unknown.
    """
    return _shift_scalar(lon, lat, crs, inverse=True)


def from_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """Convert one WGS-84 point to ``crs``; the inverse of :func:`to_wgs84`."""
    return _shift_scalar(lon, lat, crs, inverse=False)


def to_wgs84_array(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> FloatArray:
    """Convert many points from ``crs`` to WGS-84 (same results as :func:`to_wgs84`).

    Parameters
    ----------
    lon, lat
        Degrees in ``crs``; broadcast against each other.
    crs
        System of the input.

    Returns
    -------
    numpy.ndarray
        Shape ``(2, *broadcast_shape)``: longitudes, then latitudes.  For ``(n,)`` inputs
        ``.T`` gives the ``(n, 2)`` layout that ``shapely.transform`` expects.

    Raises
    ------
    ValueError
        If any coordinate is NaN or infinite, or ``crs`` is unknown.
    """
    return _shift_array(lon, lat, crs, inverse=True)


def from_wgs84_array(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> FloatArray:
    """Convert many WGS-84 points to ``crs``; the inverse of :func:`to_wgs84_array`."""
    return _shift_array(lon, lat, crs, inverse=False)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres on the mean Earth sphere.

    Good to about 0.5 % of the distance, which is plenty for checking offsets and round trips.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2.0) ** 2
    return 2.0 * _MEAN_EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
