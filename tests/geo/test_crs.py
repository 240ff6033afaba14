"""Tests for app.geo.crs: WGS-84 / GCJ-02 / BD-09 conversions.

Reference pairs come from public test suites and documentation (each cited where used).  They
are all (lon, lat) here, whatever order the source uses.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.geo.crs import (
    Crs,
    distance_m,
    from_wgs84,
    from_wgs84_array,
    is_in_china,
    to_wgs84,
    to_wgs84_array,
)

ROUND_TRIP_M = 0.5  # the module's promise, anywhere in China
REFERENCE_M = 1.0  # how close we must be to published pairs
SHIFTED = (Crs.gcj02, Crs.bd09)


def _china_grid() -> tuple[np.ndarray, np.ndarray]:
    """Every 1° box over China's extent (73–135° E, 3–54° N): its corner and one seeded point.

    Integer corners include lon 105° E, where the GCJ formula has its sqrt(|lon - 105|) cusp.
    """
    lon0, lat0 = (a.ravel() for a in np.meshgrid(np.arange(73.0, 135.0), np.arange(3.0, 54.0)))
    jitter = np.random.default_rng(20240531).random((2, lon0.size))
    return np.concatenate([lon0, lon0 + jitter[0]]), np.concatenate([lat0, lat0 + jitter[1]])


GRID_LON, GRID_LAT = _china_grid()


def _close(a: tuple[float, float], b: tuple[float, float]) -> float:
    return distance_m(a[0], a[1], b[0], b[1])


# --- Crs ---------------------------------------------------------------------------------------


def test_crs_values_are_the_api_strings():
    assert [c.value for c in Crs] == ["wgs84", "gcj02", "bd09"]
    assert Crs("bd09") is Crs.bd09
    assert Crs.gcj02 == "gcj02"


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("crs", SHIFTED)
def test_round_trip_from_crs_over_china(crs):
    worst = max(
        _close(from_wgs84(*to_wgs84(lon, lat, crs), crs), (lon, lat))
        for lon, lat in zip(GRID_LON.tolist(), GRID_LAT.tolist(), strict=True)
    )
    assert worst < ROUND_TRIP_M


@pytest.mark.parametrize("crs", SHIFTED)
def test_round_trip_from_wgs84_over_china(crs):
    worst = max(
        _close(to_wgs84(*from_wgs84(lon, lat, crs), crs), (lon, lat))
        for lon, lat in zip(GRID_LON.tolist(), GRID_LAT.tolist(), strict=True)
    )
    assert worst < ROUND_TRIP_M


@pytest.mark.parametrize("crs", SHIFTED)
def test_array_round_trip_and_agreement_with_scalar(crs):
    wgs = to_wgs84_array(GRID_LON, GRID_LAT, crs)
    back = from_wgs84_array(wgs[0], wgs[1], crs)
    worst = max(_close((a, b), (c, d)) for a, b, c, d in
                zip(back[0].tolist(), back[1].tolist(), GRID_LON.tolist(), GRID_LAT.tolist(),
                    strict=True))
    assert worst < ROUND_TRIP_M
    # numpy and math may differ in the last bits; 1e-9° is 0.1 mm
    scalar = np.array([to_wgs84(lon, lat, crs) for lon, lat in
                       zip(GRID_LON.tolist(), GRID_LAT.tolist(), strict=True)]).T
    np.testing.assert_allclose(wgs, scalar, rtol=0, atol=1e-9)


def test_gcj_inverse_is_exact_not_the_one_step_approximation():
    # Near Harbin the common one-step inverse (wgs = 2*gcj - forward(gcj)) is off by ~2.5 m.
    gcj = (126.535, 45.803)
    fwd = from_wgs84(*gcj, Crs.gcj02)
    one_step = (2 * gcj[0] - fwd[0], 2 * gcj[1] - fwd[1])
    assert _close(from_wgs84(*one_step, Crs.gcj02), gcj) > 1.0
    assert _close(from_wgs84(*to_wgs84(*gcj, Crs.gcj02), Crs.gcj02), gcj) < 1e-3


# --- published reference pairs -----------------------------------------------------------------

# WGS-84 -> GCJ-02 with the same public formula: we must agree to float precision, and a
# metre is the requirement.
WGS_TO_GCJ = [
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # googollee/eviltransform, python/test.py: Shanghai, Shenzhen, Beijing
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: Tiananmen, formula value
    ((116.39089, 39.90734), (116.39713094, 39.90874107)),
]

GCJ_TO_WGS = [
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02.to.WGS84([123, 45])
    ((123.0, 45.0), (122.99395597, 44.99804071)),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: Tiananmen "gcj 2 wgs"
    ((116.397131, 39.908746), (116.39089006, 39.90734493)),
    # wandergis/coordtransform, test/app.js: gcj02towgs84(116.404, 39.915); that library uses
    # the one-step inverse, a few centimetres from the exact one here
    ((116.404, 39.915), (116.39775550083061, 39.91359571849836)),
]

GCJ_TO_BD = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915)
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02.to.BD09([123, 45])
    ((123.0, 45.0), (123.00636499, 45.00636899)),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: Tiananmen "gcj 2 bd"
    ((116.397131, 39.908746), (116.40350426, 39.91508839)),
]

BD_TO_GCJ = [
    # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915) (approximate inverse)
    ((116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: Tiananmen "bd 2 gcj"
    ((116.40350, 39.91509), (116.39712692, 39.90874808)),
]


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published(wgs, gcj):
    assert _close(from_wgs84(*wgs, Crs.gcj02), gcj) < REFERENCE_M
    # and the exact inverse takes the published GCJ-02 point back to the WGS-84 one
    assert _close(to_wgs84(*gcj, Crs.gcj02), wgs) < REFERENCE_M


@pytest.mark.parametrize(("gcj", "wgs"), GCJ_TO_WGS)
def test_gcj02_to_wgs84_matches_published(gcj, wgs):
    assert _close(to_wgs84(*gcj, Crs.gcj02), wgs) < REFERENCE_M


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published(gcj, bd):
    assert _close(from_wgs84(*to_wgs84(*gcj, Crs.gcj02), Crs.bd09), bd) < REFERENCE_M


@pytest.mark.parametrize(("bd", "gcj"), BD_TO_GCJ)
def test_bd09_to_gcj02_matches_published(bd, gcj):
    assert _close(from_wgs84(*to_wgs84(*bd, Crs.bd09), Crs.gcj02), gcj) < REFERENCE_M


def test_wgs84_to_gcj02_agrees_with_an_online_api():
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R: for Tiananmen WGS-84
    # (116.39089, 39.90734) the file also records the GCJ-02 value an online conversion API
    # returned (marked "# api"): the public formula is within a metre of it (0.66 m).
    assert _close(from_wgs84(116.39089, 39.90734, Crs.gcj02), (116.39713623, 39.90874539)) < 1.0


def test_wgs84_bd09_beijing_railway_station():
    # geoChina (CRAN, Jun Cai), wgs2bd/bd2wgs examples: Beijing railway station
    # WGS-84 (116.42079, 39.90105) <-> BD-09 (116.43351, 39.90851), "verified by Google Earth".
    # Published to 1e-5° (up to ~0.7 m of rounding alone), so allow 2 m; we are at ~1.4 m.
    wgs, bd = (116.42079, 39.90105), (116.43351, 39.90851)
    assert _close(from_wgs84(*wgs, Crs.bd09), bd) < 2.0
    assert _close(to_wgs84(*bd, Crs.bd09), wgs) < 2.0


# --- size of the shift -------------------------------------------------------------------------


def test_offsets_in_beijing_are_a_few_hundred_metres():
    tiananmen = (116.39089, 39.90734)
    gcj = _close(from_wgs84(*tiananmen, Crs.gcj02), tiananmen)
    bd = _close(from_wgs84(*tiananmen, Crs.bd09), tiananmen)
    assert 300 < gcj < 800  # ~555 m
    assert 1000 < bd < 1800  # ~1.38 km: BD-09 adds roughly another 0.8 km


def test_wgs84_is_the_identity():
    assert to_wgs84(116.39089, 39.90734, Crs.wgs84) == (116.39089, 39.90734)
    assert from_wgs84(116.39089, 39.90734, "wgs84") == (116.39089, 39.90734)


# --- outside China -----------------------------------------------------------------------------

OUTSIDE = {
    "Helsinki": (24.9384, 60.1699),
    "New York": (-74.0060, 40.7128),
    "Sydney": (151.2093, -33.8688),
    "Tokyo": (139.6917, 35.6895),  # east of the box's 137.8347° E edge
    "Null Island": (0.0, 0.0),
    "antimeridian": (180.0, -90.0),
}


@pytest.mark.parametrize("point", OUTSIDE.values(), ids=OUTSIDE.keys())
@pytest.mark.parametrize("crs", list(Crs))
def test_points_outside_china_are_unchanged(point, crs):
    assert not is_in_china(*point)
    assert to_wgs84(*point, crs) == point
    assert from_wgs84(*point, crs) == point
    np.testing.assert_array_equal(to_wgs84_array(*point, crs), point)
    np.testing.assert_array_equal(from_wgs84_array(*point, crs), point)


def test_the_box_is_coarse_and_shifts_neighbours_too():
    # Documented behaviour, matching the apps: the box is a rectangle, not the border.
    for lon, lat in [(126.9780, 37.5665), (135.5023, 34.6937)]:  # Seoul, Osaka
        assert is_in_china(lon, lat)
        assert _close(from_wgs84(lon, lat, Crs.gcj02), (lon, lat)) > 100


def test_box_edges_are_inclusive():
    assert is_in_china(72.004, 0.8293)
    assert is_in_china(137.8347, 55.8271)
    assert not is_in_china(72.0039, 30.0)
    assert not is_in_china(137.8348, 30.0)
    assert not is_in_china(100.0, 0.8292)
    assert not is_in_china(100.0, 55.8272)


def test_mixed_array_shifts_only_points_inside():
    lon = np.array([116.39089, 24.9384])
    lat = np.array([39.90734, 60.1699])
    out = from_wgs84_array(lon, lat, Crs.gcj02)
    assert out.shape == (2, 2)
    assert _close((out[0, 0], out[1, 0]), (116.39713094, 39.90874107)) < REFERENCE_M
    assert (out[0, 1], out[1, 1]) == (24.9384, 60.1699)


# --- arrays ------------------------------------------------------------------------------------


def test_array_shapes_and_inputs_left_alone():
    lon = np.array([116.4, 121.5, 113.9])
    before = lon.copy()
    out = to_wgs84_array(lon, 39.9, Crs.bd09)  # lat broadcasts
    assert out.shape == (2, 3)
    assert out.T.shape == (3, 2)  # the (n, 2) layout shapely.transform wants
    np.testing.assert_array_equal(lon, before)
    assert to_wgs84_array([], [], Crs.gcj02).shape == (2, 0)
    assert from_wgs84_array(np.full((2, 4), 116.4), np.full((2, 4), 39.9), "gcj02").shape \
        == (2, 2, 4)


def test_scalar_results_are_python_floats():
    lon, lat = to_wgs84(np.float64(116.4), np.float64(39.9), Crs.gcj02)
    assert type(lon) is float
    assert type(lat) is float


# --- invalid input -----------------------------------------------------------------------------

BAD = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("crs", list(Crs))
def test_non_finite_rejected(bad, crs):
    with pytest.raises(ValueError, match="finite"):
        to_wgs84(bad, 39.9, crs)
    with pytest.raises(ValueError, match="finite"):
        from_wgs84(116.4, bad, crs)
    with pytest.raises(ValueError, match="finite"):
        to_wgs84_array([116.4, bad], [39.9, 39.9], crs)
    with pytest.raises(ValueError, match="finite"):
        from_wgs84_array([116.4, 116.4], [39.9, bad], crs)


@pytest.mark.parametrize("bad", BAD)
def test_is_in_china_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="finite"):
        is_in_china(bad, 39.9)


def test_unknown_crs_rejected():
    with pytest.raises(ValueError, match="utm"):
        to_wgs84(116.4, 39.9, "utm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="utm"):
        from_wgs84_array([116.4], [39.9], "utm")  # type: ignore[arg-type]


# --- distance helper ---------------------------------------------------------------------------


def test_distance_m():
    assert distance_m(116.4, 39.9, 116.4, 39.9) == 0.0
    assert distance_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, abs=1)  # 1° on the sphere
    assert distance_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * 6_371_008.8)
