"""`WalkingNetwork`: an immutable, memory-mappable walking graph held as flat numpy arrays.

Nodes are junctions and way ends; every edge keeps its full polyline. Coordinates
are WGS-84 lon/lat and, for metric work (snapping, buffers), x/y in a transverse
Mercator projection centred on the network (`projection`, a PROJ string).
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["EARTH_RADIUS_M", "WalkingNetwork", "haversine_m", "segment_length_m"]

EARTH_RADIUS_M = 6_371_008.8
_WGS84_A = 6_378_137.0
_WGS84_E2 = 6.69437999014e-3
_FORMAT = "rescue-circle-walking-network"
_FORMAT_VERSION = 1
_SNAP_CELL_M = 64.0


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in metres (mean Earth radius), vectorised."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64))
                              for a in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2.0) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def segment_length_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Length of short segments on the WGS-84 ellipsoid, vectorised.

    Uses the meridian and prime-vertical radii of curvature at the mid-latitude; for
    street segments (< 10 km) it agrees with the geodesic to better than 1e-6 of the
    length, where a spherical haversine is off by up to 0.5 %.
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64))
                              for a in (lon1, lat1, lon2, lat2))
    mid = 0.5 * (lat1 + lat2)
    w2 = 1.0 - _WGS84_E2 * np.sin(mid) ** 2
    prime_vertical = _WGS84_A / np.sqrt(w2)
    meridian = _WGS84_A * (1.0 - _WGS84_E2) / (w2 * np.sqrt(w2))
    dlon = (lon2 - lon1 + np.pi) % (2.0 * np.pi) - np.pi
    return np.hypot(prime_vertical * np.cos(mid) * dlon, meridian * (lat2 - lat1))


def _local_projection(lon: np.ndarray, lat: np.ndarray) -> str:
    lon0 = 0.5 * (float(np.min(lon)) + float(np.max(lon)))
    lat0 = 0.5 * (float(np.min(lat)) + float(np.max(lat)))
    return (f"+proj=tmerc +lat_0={lat0:.7f} +lon_0={lon0:.7f} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs")


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.flags.writeable:
        array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class SnapGrid:
    """Uniform-grid index of the edges (projected), built lazily for snapping."""

    origin_x: float
    origin_y: float
    cell_m: float
    ncols: int
    nrows: int
    cell_keys: np.ndarray  # int32/int64, sorted: row * ncols + col of non-empty cells
    cell_start: np.ndarray  # int32/int64[len(cell_keys) + 1] into reg_edge
    reg_edge: np.ndarray  # int32: edges whose segments touch the cell

    @property
    def nbytes(self) -> int:
        return self.cell_keys.nbytes + self.cell_start.nbytes + self.reg_edge.nbytes


@dataclass(frozen=True, eq=False)
class WalkingNetwork:
    """An undirected walking graph as flat arrays (immutable, shareable across threads).

    Attributes
    ----------
    node_lon, node_lat, node_x, node_y
        float64[n_nodes]: WGS-84 and projected (metres) coordinates.
    node_osm_id
        int64[n_nodes]: OSM node id (0 for synthetic nodes).
    node_in_main
        bool[n_nodes]: node belongs to the largest connected component.
    indptr, adj_node, adj_edge
        CSR adjacency: half-edges of node `i` are `indptr[i]:indptr[i+1]`, leading to
        `adj_node[k]` over edge `adj_edge[k]` (each edge appears in both directions).
    edge_u, edge_v
        int32[n_edges]: end nodes; the polyline runs from u to v.
    edge_length_m
        float64[n_edges]: length of the polyline on the WGS-84 ellipsoid.
    edge_name, edge_highway
        int32[n_edges]: index into `names` / `highways`, -1 when absent.
    edge_osm_id
        int64[n_edges]: OSM way id (0 for synthetic edges).
    geom_offsets
        int64[n_edges + 1]: polyline of edge `e` is `geom_*[geom_offsets[e]:geom_offsets[e+1]]`.
    geom_x, geom_y
        float32[n_points]: projected polyline vertices (endpoints included), in metres
        from the projection centre (float32 keeps 1 cm within 100 km and halves the
        largest arrays; lon/lat come from `edge_lonlat`).
    bbox
        (min_lon, min_lat, max_lon, max_lat) of the polylines.
    names, highways
        String tables.
    projection
        PROJ definition of the x/y coordinates.
    """

    node_lon: np.ndarray
    node_lat: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    node_osm_id: np.ndarray
    node_in_main: np.ndarray
    indptr: np.ndarray
    adj_node: np.ndarray
    adj_edge: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_name: np.ndarray
    edge_highway: np.ndarray
    edge_osm_id: np.ndarray
    geom_offsets: np.ndarray
    geom_x: np.ndarray
    geom_y: np.ndarray
    bbox: tuple[float, float, float, float] = (math.nan,) * 4
    names: tuple[str, ...] = ()
    highways: tuple[str, ...] = ()
    projection: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                object.__setattr__(self, f.name, _readonly(value))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        node_lon: Sequence[float] | np.ndarray,
        node_lat: Sequence[float] | np.ndarray,
        edge_u: Sequence[int] | np.ndarray,
        edge_v: Sequence[int] | np.ndarray,
        *,
        geom_offsets: np.ndarray | None = None,
        geom_lon: np.ndarray | None = None,
        geom_lat: np.ndarray | None = None,
        edge_names: Sequence[str | None] | None = None,
        edge_highways: Sequence[str | None] | None = None,
        edge_osm_id: np.ndarray | None = None,
        node_osm_id: np.ndarray | None = None,
        edge_length_m: np.ndarray | None = None,
        projection: str | None = None,
    ) -> WalkingNetwork:
        """Build a network from nodes and edges (the public constructor).

        Parameters
        ----------
        node_lon, node_lat
            Node coordinates (WGS-84 degrees).
        edge_u, edge_v
            Edge end node indices.
        geom_offsets, geom_lon, geom_lat
            Optional polylines (flat, endpoints included, running u -> v); straight
            lines between the end nodes when omitted.
        edge_names, edge_highways
            Optional per-edge street name and highway class (None when absent).
        edge_osm_id, node_osm_id
            Optional OSM ids.
        edge_length_m
            Optional lengths; ellipsoidal length of the polyline when omitted.
        projection
            Optional PROJ string; a transverse Mercator centred on the nodes when omitted.

        Returns
        -------
        WalkingNetwork
        """
        node_lon = np.ascontiguousarray(node_lon, dtype=np.float64)
        node_lat = np.ascontiguousarray(node_lat, dtype=np.float64)
        u = np.ascontiguousarray(edge_u, dtype=np.int32)
        v = np.ascontiguousarray(edge_v, dtype=np.int32)
        n_nodes, n_edges = node_lon.shape[0], u.shape[0]
        if node_lat.shape != node_lon.shape or v.shape != u.shape:
            raise ValueError("node_lon/node_lat and edge_u/edge_v must have equal lengths")
        if n_edges and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n_nodes):
            raise ValueError("edge end outside the node range")
        if geom_offsets is None:
            geom_offsets = np.arange(0, 2 * n_edges + 1, 2, dtype=np.int64)
            geom_lon = np.column_stack((node_lon[u], node_lon[v])).ravel()
            geom_lat = np.column_stack((node_lat[u], node_lat[v])).ravel()
        else:
            geom_offsets = np.ascontiguousarray(geom_offsets, dtype=np.int64)
            geom_lon = np.ascontiguousarray(geom_lon, dtype=np.float64)
            geom_lat = np.ascontiguousarray(geom_lat, dtype=np.float64)
            if geom_offsets.shape[0] != n_edges + 1 or np.any(np.diff(geom_offsets) < 2):
                raise ValueError("each edge polyline needs at least two points")
        if edge_length_m is None:
            edge_length_m = _polyline_lengths(geom_lon, geom_lat, geom_offsets)
        projection = projection or _local_projection(node_lon, node_lat)
        to_xy = pyproj.Transformer.from_crs("EPSG:4326", projection, always_xy=True)
        node_x, node_y = to_xy.transform(node_lon, node_lat)
        bbox = ((float(geom_lon.min()), float(geom_lat.min()), float(geom_lon.max()),
                 float(geom_lat.max())) if n_edges else (math.nan,) * 4)
        geom_x, geom_y = to_xy.transform(geom_lon, geom_lat)
        del geom_lon, geom_lat
        names, name_idx = _string_table(edge_names, n_edges)
        highways, highway_idx = _string_table(edge_highways, n_edges)
        highway_idx = highway_idx.astype(np.int16)
        indptr, adj_node, adj_edge = _csr(u, v, n_nodes)
        return cls(
            node_lon=node_lon,
            node_lat=node_lat,
            node_x=np.asarray(node_x, dtype=np.float64),
            node_y=np.asarray(node_y, dtype=np.float64),
            node_osm_id=(np.zeros(n_nodes, np.int64) if node_osm_id is None
                         else np.ascontiguousarray(node_osm_id, dtype=np.int64)),
            node_in_main=_main_component(u, v, n_nodes),
            indptr=indptr,
            adj_node=adj_node,
            adj_edge=adj_edge,
            edge_u=u,
            edge_v=v,
            edge_length_m=np.ascontiguousarray(edge_length_m, dtype=np.float64),
            edge_name=name_idx,
            edge_highway=highway_idx,
            edge_osm_id=(np.zeros(n_edges, np.int64) if edge_osm_id is None
                         else np.ascontiguousarray(edge_osm_id, dtype=np.int64)),
            geom_offsets=geom_offsets,
            geom_x=np.asarray(geom_x, dtype=np.float32),
            geom_y=np.asarray(geom_y, dtype=np.float32),
            bbox=bbox,
            names=names,
            highways=highways,
            projection=projection,
        )

    # ------------------------------------------------------------------ properties
    @property
    def node_count(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def edge_count(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def total_length_m(self) -> float:
        return float(self.edge_length_m.sum())

    @property
    def nbytes(self) -> int:
        """Bytes held by the network's arrays (excluding lazily built indexes)."""
        return sum(getattr(self, f.name).nbytes for f in fields(self)
                   if isinstance(getattr(self, f.name), np.ndarray))

    @cached_property
    def edge_in_main(self) -> np.ndarray:
        """bool[n_edges]: edge lies in the largest connected component."""
        return _readonly(self.node_in_main[self.edge_u])

    def edge_name_of(self, edge_id: int) -> str | None:
        idx = int(self.edge_name[edge_id])
        return self.names[idx] if idx >= 0 else None

    def edge_highway_of(self, edge_id: int) -> str | None:
        idx = int(self.edge_highway[edge_id])
        return self.highways[idx] if idx >= 0 else None

    def edge_lonlat(self, edge_id: int) -> np.ndarray:
        """float64[k, 2]: lon/lat polyline of one edge, from u to v."""
        a, b = int(self.geom_offsets[edge_id]), int(self.geom_offsets[edge_id + 1])
        lon, lat = self.to_lonlat(self.geom_x[a:b], self.geom_y[a:b])
        return np.column_stack((lon, lat))

    def convex_hull(self) -> shapely.Geometry:
        """Convex hull of the polylines, as a shapely polygon in lon/lat (cached)."""
        hull = self._cache.get("convex_hull")
        if hull is None:
            hull = self.geometry_to_lonlat(_convex_hull_xy(self.geom_x, self.geom_y))
            self._cache["convex_hull"] = hull
        return hull

    # ------------------------------------------------------------------ projection
    @cached_property
    def _to_xy(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs("EPSG:4326", self.projection, always_xy=True)

    @cached_property
    def _to_lonlat(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs(self.projection, "EPSG:4326", always_xy=True)

    def to_xy(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Project WGS-84 lon/lat to the network's metric x/y."""
        x, y = self._to_xy.transform(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        return np.asarray(x), np.asarray(y)

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of `to_xy`."""
        lon, lat = self._to_lonlat.transform(np.asarray(x, np.float64), np.asarray(y, np.float64))
        return np.asarray(lon), np.asarray(lat)

    def geometry_to_lonlat(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A shapely geometry in projected metres, converted to lon/lat."""
        transformer = self._to_lonlat
        return shapely.transform(
            geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )

    # ------------------------------------------------------------------ snapping index
    @property
    def snap_grid(self) -> SnapGrid:
        """The segment grid used by `app.geo.snap` (built on first use, then cached)."""
        grid = self._cache.get("snap_grid")
        if grid is None:
            grid = _build_snap_grid(self)
            self._cache["snap_grid"] = grid
        return grid

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to one uncompressed `.npz` file, atomically.

        The file is written next to `path` and moved into place with `os.replace`,
        so readers see the old or the new network, never a partial one. Arrays are
        64-byte aligned inside the archive so that `load(mmap=True)` can map them.
        """
        path = Path(path)
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "names": list(self.names),
            "highways": list(self.highways),
            "projection": self.projection,
            "bbox": list(self.bbox),
        }
        arrays = {f.name: getattr(self, f.name) for f in fields(self)
                  if isinstance(getattr(self, f.name), np.ndarray)}
        grid = self.snap_grid  # stored too, so that loading needs no rebuild
        meta["snap_grid"] = {"origin_x": grid.origin_x, "origin_y": grid.origin_y,
                             "cell_m": grid.cell_m, "ncols": grid.ncols, "nrows": grid.nrows}
        arrays |= {"snap_cell_keys": grid.cell_keys, "snap_cell_start": grid.cell_start,
                   "snap_reg_edge": grid.reg_edge}
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                _write_aligned_npz(fh, arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> WalkingNetwork:
        """Read a network written by `save`.

        Parameters
        ----------
        path
            The `.npz` file.
        mmap
            Memory-map the arrays read-only (pages are shared between processes and
            loaded on demand) instead of reading them into memory.
        """
        arrays = _read_aligned_npz(Path(path)) if mmap else dict(np.load(path))
        meta = json.loads(bytes(arrays.pop("meta")).decode())
        if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{path} is not a walking network file of version {_FORMAT_VERSION}")
        grid = None
        if "snap_grid" in meta:
            grid = SnapGrid(**meta["snap_grid"], cell_keys=arrays.pop("snap_cell_keys"),
                            cell_start=arrays.pop("snap_cell_start"),
                            reg_edge=arrays.pop("snap_reg_edge"))
        network = cls(**arrays, names=tuple(meta["names"]), highways=tuple(meta["highways"]),
                      projection=meta["projection"], bbox=tuple(meta["bbox"]))
        if grid is not None:
            network._cache["snap_grid"] = grid
        return network


# ---------------------------------------------------------------------- helpers
def _polyline_lengths(lon: np.ndarray, lat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    seg = (segment_length_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) if lon.shape[0] > 1
           else np.zeros(0))
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    # segments crossing an edge boundary are excluded by differencing inside each edge
    return cum[offsets[1:] - 1] - cum[offsets[:-1]]


def _string_table(values: Sequence[str | None] | None,
                  n: int) -> tuple[tuple[str, ...], np.ndarray]:
    if values is None:
        return (), np.full(n, -1, np.int32)
    if len(values) != n:
        raise ValueError("one string per edge expected")
    table: dict[str, int] = {}
    idx = np.fromiter((-1 if s is None or s == "" else table.setdefault(s, len(table))
                       for s in values), dtype=np.int32, count=n)
    return tuple(table), idx


def _csr(u: np.ndarray, v: np.ndarray, n_nodes: int) -> tuple[np.ndarray, ...]:
    n_edges = u.shape[0]
    src = np.concatenate((u, v))
    dst = np.concatenate((v, u))
    eid = np.concatenate((np.arange(n_edges, dtype=np.int32),) * 2)
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n_nodes), out=indptr[1:])
    return indptr, dst[order].astype(np.int32), eid[order]


def _main_component(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    if n_nodes == 0:
        return np.zeros(0, bool)
    graph = coo_matrix((np.ones(u.shape[0], np.int8), (u, v)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph.tocsr(), directed=False)
    return labels == np.argmax(np.bincount(labels))


def _build_snap_grid(network: WalkingNetwork) -> SnapGrid:
    from app.geo import _kernels

    cell = _SNAP_CELL_M
    if network.edge_count == 0:
        empty = np.zeros(0, np.int64)
        return SnapGrid(0.0, 0.0, cell, 1, 1, empty, np.zeros(1, np.int64),
                        np.zeros(0, np.int32))
    gx = float(network.geom_x.min()) - 1.0
    gy = float(network.geom_y.min()) - 1.0
    ncols = int((float(network.geom_x.max()) - gx) // cell) + 1
    nrows = int((float(network.geom_y.max()) - gy) // cell) + 1
    edge_bits = max(1, int(network.edge_count - 1).bit_length())
    if (ncols * nrows).bit_length() + edge_bits > 62:
        raise ValueError("network too large for the snapping grid")
    packed = _kernels.grid_registrations(
        network.geom_x, network.geom_y, network.geom_offsets, gx, gy, cell, ncols, edge_bits
    )
    packed.sort()  # in place: cell-major, then edge id
    cell_keys, starts, edges = _kernels.unpack_registrations(packed, edge_bits)
    del packed
    if ncols * nrows < 2**31 and edges.shape[0] < 2**31:  # halve the index where possible
        cell_keys, starts = cell_keys.astype(np.int32), starts.astype(np.int32)
    return SnapGrid(gx, gy, cell, ncols, nrows, _readonly(cell_keys), _readonly(starts),
                    _readonly(edges))


def _convex_hull_xy(x: np.ndarray, y: np.ndarray, chunk: int = 1 << 20) -> shapely.Geometry:
    from scipy.spatial import ConvexHull, QhullError

    candidates = []
    for start in range(0, x.shape[0], chunk):
        points = np.column_stack((x[start:start + chunk], y[start:start + chunk])).astype(
            np.float64
        )
        try:
            candidates.append(points[ConvexHull(points).vertices])
        except QhullError:  # fewer than 3 points or all collinear
            candidates.append(points)
    return shapely.convex_hull(shapely.multipoints(np.concatenate(candidates)))


# ---------------------------------------------------------------------- aligned npz
_ALIGN = 64
_PAD_EXTRA_ID = 0xD935  # the id zipalign uses for padding


def _write_aligned_npz(fh: Any, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            header = _npy_header(array)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(header) + array.nbytes
            zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT
            local_header = 30 + len(info.filename.encode()) + (20 if zip64 else 0) + 4
            pad = (-(fh.tell() + local_header)) % _ALIGN
            info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + b"\0" * pad
            with zf.open(info, "w", force_zip64=zip64) as out:
                out.write(header)
                out.write(memoryview(array.reshape(-1)).cast("B"))


def _npy_header(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, np.lib.format.header_data_from_array_1_0(array))
    return buffer.getvalue()


def _read_aligned_npz(path: Path) -> dict[str, np.ndarray]:
    whole = np.memmap(path, dtype=np.uint8, mode="r")
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path}: member {info.filename} is compressed")
            fh.seek(info.header_offset)
            local = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            start = fh.tell()
            count = math.prod(shape)
            raw = whole[start:start + count * dtype.itemsize]
            array = np.asarray(raw).view(dtype).reshape(shape, order="F" if fortran else "C")
            arrays[info.filename.removesuffix(".npy")] = array
    return arrays
