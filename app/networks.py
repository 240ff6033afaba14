"""The walking networks the service holds, one per city, on disk and in memory.

Layout under ``<data_dir>/networks/<city_code>/``::

    <version>/network.npz     the WalkingNetwork (memory-mapped when loaded)
    <version>/buildings.npz   building centroids, footprints and levels (coverage weights)
    current.json              {"version": ..., ...}: which version is live

An import writes a new version directory, then replaces ``current.json`` atomically; a
running service notices the new version on its next look-up (a few ``stat`` calls tell
whether anything changed), so re-imports need no restart.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock, local
from typing import Any

import numpy as np
import shapely

from app.geo.network import WalkingNetwork
from app.geo.osm_import import Buildings

CURRENT_FILE = "current.json"
NETWORK_FILE = "network.npz"
BUILDINGS_FILE = "buildings.npz"
# A point this close outside a network's hull may still snap onto it.
HULL_MARGIN_DEG = 0.005


@dataclass(frozen=True, eq=False)
class CityNetwork:
    """One city's live network and what belongs to it."""

    city_code: str
    version: str
    network: WalkingNetwork
    directory: Path
    meta: dict[str, Any]
    hull_wkb: bytes = field(repr=False)
    _per_thread: local = field(default_factory=local, init=False, repr=False)

    @property
    def hull(self) -> shapely.Geometry:
        """The network's convex hull with a margin (lon/lat), prepared, one per thread.

        A GEOS geometry keeps state that its queries build lazily (a prepared polygon's
        point index), and two threads building it at once corrupt the heap (aborts when
        the first requests of a fresh process arrived together; libgeos/geos#825). So no
        geometry is shared between request threads: each thread gets its own copy."""
        hull = getattr(self._per_thread, "hull", None)
        if hull is None:
            hull = shapely.from_wkb(self.hull_wkb)
            shapely.prepare(hull)
            self._per_thread.hull = hull
        return hull

    def contains(self, lon: float, lat: float) -> bool:
        return bool(shapely.contains_xy(self.hull, lon, lat))

    def buildings(self) -> Buildings | None:
        path = self.directory / BUILDINGS_FILE
        if not path.exists():
            return None
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        kinds = tuple(str(k) for k in arrays.pop("kind"))
        return Buildings(**arrays, kind=kinds)


def networks_root(data_dir: Path) -> Path:
    return Path(data_dir) / "networks"


def publish_network(data_dir: Path, city_code: str, network: WalkingNetwork,
                    buildings: Buildings | None, *, meta: dict[str, Any]) -> str:
    """Write a new version of a city's network and make it live atomically."""
    city_dir = networks_root(data_dir) / city_code
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    version_dir = city_dir / version
    version_dir.mkdir(parents=True)
    network.save(version_dir / NETWORK_FILE)
    if buildings is not None:
        np.savez(version_dir / BUILDINGS_FILE, osm_id=buildings.osm_id,
                 is_relation=buildings.is_relation, lon=buildings.lon, lat=buildings.lat,
                 area_m2=buildings.area_m2, levels=buildings.levels,
                 kind=np.array(buildings.kind, dtype=str))
    document = {**meta, "version": version, "city_code": city_code,
                "nodes": network.node_count, "edges": network.edge_count,
                "length_km": round(network.total_length_m / 1000, 3)}
    fd, tmp = tempfile.mkstemp(prefix=".current.", dir=city_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=2)
    os.replace(tmp, city_dir / CURRENT_FILE)
    _remove_old_versions(city_dir, keep={version})
    return version


def _remove_old_versions(city_dir: Path, *, keep: set[str]) -> None:
    # Readers that still map an old file keep it alive (POSIX unlink semantics).
    for child in city_dir.iterdir():
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def _hull_wkb(network: WalkingNetwork) -> bytes:
    return shapely.to_wkb(network.convex_hull().buffer(HULL_MARGIN_DEG))


class NetworkRegistry:
    """City code -> live CityNetwork, reloaded when ``current.json`` changes."""

    def __init__(self, data_dir: Path) -> None:
        self._root = networks_root(data_dir)
        self._networks: dict[str, CityNetwork] = {}
        self._lock = Lock()
        self._seen: tuple[tuple[str, int], ...] | None = None

    def _signature(self) -> tuple[tuple[str, int], ...]:
        # Replacing current.json changes its directory's mtime; a new city changes the root's.
        try:
            with os.scandir(self._root) as entries:
                cities = [(e.name, e.stat().st_mtime_ns) for e in entries if e.is_dir()]
            return (("", self._root.stat().st_mtime_ns), *sorted(cities))
        except FileNotFoundError:
            return ()

    def refresh(self, *, force: bool = False) -> None:
        signature = self._signature()
        if not force and signature == self._seen:
            return
        with self._lock:
            # Marked seen only once loaded: a request arriving meanwhile waits on the lock
            # instead of answering from the old (at start-up: empty) set of networks.
            if not force and signature == self._seen:
                return
            if not self._root.is_dir():
                self._seen = signature
                return
            complete = True
            networks = dict(self._networks)
            for current in self._root.glob(f"*/{CURRENT_FILE}"):
                meta = json.loads(current.read_text(encoding="utf-8"))
                code = current.parent.name
                loaded = networks.get(code)
                if loaded is not None and loaded.version == meta["version"]:
                    continue
                directory = current.parent / meta["version"]
                try:
                    network = WalkingNetwork.load(directory / NETWORK_FILE, mmap=True)
                except FileNotFoundError:
                    # Replaced while we read it: the next look-up sees the newer version.
                    complete = False
                    continue
                networks[code] = CityNetwork(code, meta["version"], network, directory, meta,
                                             _hull_wkb(network))
            self._networks = networks
            self._seen = signature if complete else None

    def get(self, city_code: str) -> CityNetwork | None:
        self.refresh()
        return self._networks.get(city_code)

    def containing(self, lon: float, lat: float) -> CityNetwork | None:
        """The network of the city that contains the point (the smallest, if nested)."""
        self.refresh()
        matches = [c for c in self._networks.values() if c.contains(lon, lat)]
        return min(matches, key=lambda c: c.network.node_count, default=None)

    def all(self) -> list[CityNetwork]:
        self.refresh()
        return list(self._networks.values())

    def node_counts(self) -> dict[str, int]:
        return {c.city_code: c.network.node_count for c in self.all()}
