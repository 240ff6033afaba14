from __future__ import annotations

import dataclasses
import zipfile

import numpy as np
import pytest
import shapely

from app.geo.network import WalkingNetwork, haversine_m, segment_length_m
from app.geo.search import bounded_search
from app.geo.snap import snap_point
from tests.geo.conftest import toy_lonlat, toy_network

ARRAYS = [f.name for f in dataclasses.fields(WalkingNetwork)
          if f.name not in ("bbox", "names", "highways", "projection", "_cache")]


@pytest.fixture
def grid_network() -> WalkingNetwork:
    """A 4 x 3 street grid (100 m blocks) plus a detached 2-node path."""
    points = {f"{i},{j}": (100.0 * i, 100.0 * j) for i in range(4) for j in range(3)}
    points |= {"x": (1000.0, 0.0), "y": (1000.0, 80.0)}
    edges = [(f"{i},{j}", f"{i + 1},{j}", f"街{j}") for i in range(3) for j in range(3)]
    edges += [(f"{i},{j}", f"{i},{j + 1}", None) for i in range(4) for j in range(2)]
    edges += [("x", "y", "孤路")]
    return toy_network(points, edges)[0]


def test_csr_and_components(grid_network: WalkingNetwork) -> None:
    net = grid_network
    assert net.node_count == 14 and net.edge_count == 18
    degree = np.diff(net.indptr)
    assert degree.sum() == 2 * net.edge_count
    for node in range(net.node_count):
        for k in range(net.indptr[node], net.indptr[node + 1]):
            edge, other = net.adj_edge[k], net.adj_node[k]
            assert {int(net.edge_u[edge]), int(net.edge_v[edge])} == {node, int(other)}
    assert net.node_in_main.sum() == 12 and not net.node_in_main[12:].any()
    assert net.edge_in_main.sum() == 17
    np.testing.assert_allclose(net.edge_length_m[:9], 100.0, atol=0.01)
    assert net.names[net.edge_name[0]] == "街0" and net.edge_name_of(9) is None
    with pytest.raises(ValueError, match="read-only"):
        net.node_lon[0] = 0.0


def test_bbox_hull_and_projection(grid_network: WalkingNetwork) -> None:
    net = grid_network
    lon0, lat0 = toy_lonlat(0.0, 0.0)
    expected = (net.node_lon.min(), net.node_lat.min(), net.node_lon.max(), net.node_lat.max())
    assert net.bbox == pytest.approx(expected, abs=1e-12)
    hull = net.convex_hull()
    assert hull.geom_type == "Polygon"
    assert hull.contains(shapely.Point(*toy_lonlat(500.0, 50.0)))
    assert not hull.contains(shapely.Point(*toy_lonlat(500.0, 300.0)))
    x, y = net.to_xy(lon0, lat0)
    lon, lat = net.to_lonlat(x, y)
    assert (float(lon), float(lat)) == pytest.approx((lon0, lat0), abs=1e-9)
    np.testing.assert_allclose(net.edge_lonlat(0), [[lon0, lat0], toy_lonlat(100.0, 0.0)],
                               atol=1e-7)
    assert "+proj=tmerc" in net.projection


def test_segment_length_matches_geodesic() -> None:
    import pyproj

    rng = np.random.default_rng(3)
    lon1, lat1 = rng.uniform(-180, 180, 500), rng.uniform(-70, 70, 500)
    bearing, dist = rng.uniform(0, 360, 500), rng.uniform(0.1, 5000, 500)
    geod = pyproj.Geod(ellps="WGS84")
    lon2, lat2, _ = geod.fwd(lon1, lat1, bearing, dist)
    np.testing.assert_allclose(segment_length_m(lon1, lat1, lon2, lat2), dist, rtol=2e-6)
    assert np.abs(haversine_m(lon1, lat1, lon2, lat2) / dist - 1).max() < 6e-3


def test_save_load_roundtrip_mmap(tmp_path, grid_network: WalkingNetwork) -> None:
    path = grid_network.save(tmp_path / "nets" / "tianjin.npz")
    assert path.exists() and not list(path.parent.glob("*.tmp"))
    for mmap in (True, False):
        loaded = WalkingNetwork.load(path, mmap=mmap)
        for name in ARRAYS:
            a, b = getattr(grid_network, name), getattr(loaded, name)
            assert a.dtype == b.dtype and np.array_equal(a, b), name
            assert not b.flags.writeable
        assert loaded.names == grid_network.names and loaded.projection == grid_network.projection
        assert loaded.bbox == pytest.approx(grid_network.bbox)
    mapped = WalkingNetwork.load(path)
    for name in ("cell_keys", "cell_start", "reg_edge"):  # the snap index is stored too
        assert np.array_equal(getattr(mapped.snap_grid, name),
                              getattr(grid_network.snap_grid, name))
    assert isinstance(mapped.indptr.base, np.memmap) or mapped.indptr.base is not None
    assert all(getattr(mapped, name).flags.aligned for name in ARRAYS)
    # a mapped network is fully usable
    point = snap_point(mapped, *toy_lonlat(150.0, 5.0))
    result = bounded_search(mapped, point, budget_seconds=100, speed_mps=1.0)
    assert result.node_ids.size == 2
    # standard numpy can read the archive too
    with np.load(path) as plain:
        assert np.array_equal(plain["edge_u"], grid_network.edge_u)
    with zipfile.ZipFile(path) as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())


def test_save_replaces_atomically_while_mapped(tmp_path, grid_network: WalkingNetwork) -> None:
    path = tmp_path / "net.npz"
    grid_network.save(path)
    old = WalkingNetwork.load(path)
    smaller, _ = toy_network({"a": (0, 0), "b": (10, 0)}, [("a", "b")])
    smaller.save(path)
    assert WalkingNetwork.load(path).node_count == 2
    assert old.node_count == 14 and old.edge_length_m.sum() > 1000  # old mapping intact


def test_load_rejects_other_files(tmp_path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.frombuffer(b'{"format": "x", "version": 1}', np.uint8))
    with pytest.raises(ValueError, match="not a walking network"):
        WalkingNetwork.load(path, mmap=False)


def test_from_edges_validates() -> None:
    with pytest.raises(ValueError, match="outside"):
        WalkingNetwork.from_edges([0.0, 1.0], [0.0, 1.0], [0], [2])
    with pytest.raises(ValueError, match="two points"):
        WalkingNetwork.from_edges([0.0, 0.001], [0.0, 0.0], [0], [1],
                                  geom_offsets=np.array([0, 1]), geom_lon=np.array([0.0]),
                                  geom_lat=np.array([0.0]))
