"""Fixtures for app.geo: toy networks laid out in metres, and the real OSM extracts.

Real extracts live in ../shared/data next to the repository. Tests that need them
skip with a reason when it is absent, and fail in CI (CI=true), where it is present.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyproj
import pytest

from app.geo.network import WalkingNetwork
from app.geo.osm_import import OsmExtract, read_osm

DATA_DIR = (Path(__file__).resolve().parents[2] / "../shared/data").resolve()
OSM_DIR = DATA_DIR / "osm"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# A local metric frame for hand-built graphs (Tianjin, Heping district).
TOY_ORIGIN = (117.2, 39.12)
_TOY = pyproj.Transformer.from_crs(
    f"+proj=tmerc +lat_0={TOY_ORIGIN[1]} +lon_0={TOY_ORIGIN[0]} +k=1 +ellps=WGS84 +units=m",
    "EPSG:4326",
    always_xy=True,
)


def toy_lonlat(x_m: float | np.ndarray, y_m: float | np.ndarray) -> tuple:
    """Metres east/north of TOY_ORIGIN -> lon/lat."""
    return _TOY.transform(x_m, y_m)


def toy_network(
    points: Mapping[str, tuple[float, float]],
    edges: Sequence[tuple[str, str] | tuple[str, str, str | None]],
) -> tuple[WalkingNetwork, dict[str, int]]:
    """A straight-edged network from named points (metres) and (a, b[, name]) edges."""
    names = list(points)
    index = {name: i for i, name in enumerate(names)}
    xy = np.array([points[n] for n in names], dtype=float)
    lon, lat = toy_lonlat(xy[:, 0], xy[:, 1])
    network = WalkingNetwork.from_edges(
        lon, lat,
        [index[e[0]] for e in edges], [index[e[1]] for e in edges],
        edge_names=[e[2] if len(e) > 2 else None for e in edges],
    )
    return network, index


def require_data(path: Path) -> Path:
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"CI=true but the shared OSM data is missing: {path}")
    pytest.skip(f"shared OSM data not available at {path} (see shared/data/README.md)")
    raise AssertionError  # unreachable


@pytest.fixture(scope="session")
def osm_file() -> Callable[[str], Path]:
    """Path of an extract under shared/data/osm (skips when missing, fails in CI)."""
    return lambda relative: require_data(OSM_DIR / relative)


_EXTRACTS: dict[str, OsmExtract] = {}


@pytest.fixture(scope="session")
def extract(osm_file: Callable[[str], Path]) -> Callable[[str], OsmExtract]:
    """Imported extract, cached for the session."""

    def load(relative: str) -> OsmExtract:
        if relative not in _EXTRACTS:
            _EXTRACTS[relative] = read_osm(osm_file(relative))
        return _EXTRACTS[relative]

    return load
