"""Walking-time endpoints over a published network: nearby equipment, routes, isochrones,
and the import that builds a city's network from a real OpenStreetMap extract."""

from __future__ import annotations

import threading

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from app.geo.crs import Crs, from_wgs84
from app.geo.network import WalkingNetwork
from app.models import EquipmentPoint, Volunteer
from app.networks import NetworkRegistry, publish_network
from app.schemas.region import RegionCreate
from app.security import Role
from app.services.anchors import resnap_city
from app.services.osm_import import import_osm
from app.services.regions import create_city, create_region
from tests.conftest import auth
from tests.factories import OPERATOR, make_aed, make_volunteer
from tests.geo.conftest import OSM_DIR, require_data, toy_lonlat, toy_network


def river_network():
    """Two banks 40 m apart, 2 km long, one bridge at x = 800 m (Tianjin coordinates)."""
    network, _ = toy_network(
        {"nw": (-1000, 20), "nb": (800, 20), "ne": (1000, 20),
         "sw": (-1000, -20), "sb": (800, -20), "se": (1000, -20)},
        [("nw", "nb", "北岸路"), ("nb", "ne", "北岸路"), ("sw", "sb", "南岸路"),
         ("sb", "se", "南岸路"), ("nb", "sb", "大桥")])
    return network


@pytest.fixture
def river_city(session, settings):
    city = create_city(session, code="river", name="河城")
    session.commit()
    publish_network(settings.data_dir, "river", river_network(), None, meta={})
    registry = NetworkRegistry(settings.data_dir)
    return city, registry


def _at(x, y):
    lon, lat = toy_lonlat(x, y)
    return float(lon), float(lat)


def test_nearby_ranks_by_walking_time_not_radius(client, session, river_city):
    city, registry = river_city
    across = make_aed(session, city, 1, lon=_at(0, -25)[0], lat=_at(0, -25)[1])
    same_bank = make_aed(session, city, 2, lon=_at(150, 25)[0], lat=_at(150, 25)[1])
    unverified = make_aed(session, city, 3, lon=_at(-200, 25)[0], lat=_at(-200, 25)[1],
                          last_verified_on=None)
    make_aed(session, city, 4, lon=_at(-100, 25)[0], lat=_at(-100, 25)[1],
             status="out_of_service")
    resnap_city(session, registry.get("river"))
    session.commit()
    lon, lat = _at(0, 25)
    response = client.get(f"/v1/equipment/nearby?lon={lon}&lat={lat}&minutes=4")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["attribution"] == "© OpenStreetMap contributors"
    ids = [item["equipment_id"] for item in body["items"]]
    # the AED 50 m away across the river needs 1.6 km of walking: not within 4 minutes
    assert ids == [same_bank.id, unverified.id]
    assert across.id not in ids
    first = body["items"][0]
    # 150 m along the bank plus the 5 m legs between each point and the street
    assert first["eta_s"] == pytest.approx((5 + 150 + 5) / 1.4, abs=0.5)
    assert first["distance_m"] == pytest.approx(160, abs=0.5)
    assert first["readiness"] == "usable"
    assert body["items"][1]["readiness"] == "unverified"
    route = shape(first["route"]["geometry"])
    assert route.length > 0
    assert first["route"]["length_m"] == pytest.approx(150, abs=3)
    # with a longer budget the AED across the river appears, after the bridge detour
    wide = client.get(f"/v1/equipment/nearby?lon={lon}&lat={lat}&minutes=30").json()
    eta = {i["equipment_id"]: i["eta_s"] for i in wide["items"]}
    assert eta[across.id] == pytest.approx((5 + 800 + 40 + 800 + 5) / 1.4, abs=1)


def test_nearby_answers_in_the_callers_crs(client, session, river_city):
    city, registry = river_city
    aed = make_aed(session, city, 1, lon=_at(100, 25)[0], lat=_at(100, 25)[1])
    resnap_city(session, registry.get("river"))
    session.commit()
    glon, glat = from_wgs84(*_at(0, 25), Crs.gcj02)
    body = client.get(f"/v1/equipment/nearby?lon={glon}&lat={glat}&crs=gcj02").json()
    item = body["items"][0]
    assert item["equipment_id"] == aed.id
    assert item["location"]["crs"] == "gcj02"
    expected = from_wgs84(*_at(100, 25), Crs.gcj02)
    assert item["location"]["lon"] == pytest.approx(expected[0], abs=1e-6)
    start = item["route"]["geometry"]["coordinates"][0]
    assert start[0] == pytest.approx(body["origin"]["position"]["lon"], abs=1e-6)


def test_errors_name_the_location(client, session, river_city):
    far_lon, far_lat = _at(0, 400)  # inside the city area, 380 m from any street
    too_far = client.get(f"/v1/equipment/nearby?lon={far_lon}&lat={far_lat}")
    assert too_far.status_code == 422
    assert too_far.json()["code"] == "too_far_from_network"
    assert too_far.json()["errors"][0]["field"] == "location"
    outside = client.get("/v1/equipment/nearby?lon=24.9&lat=60.1")
    assert outside.json()["code"] == "outside_service_area"
    bad = client.get("/v1/equipment/nearby?lon=200&lat=39")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lon"
    nan = client.get("/v1/isochrones?lon=nan&lat=39")
    assert nan.status_code == 422 and nan.json()["errors"][0]["field"] == "lon"
    minutes = client.get(f"/v1/isochrones?lon={far_lon}&lat={far_lat}&minutes=1,x")
    assert minutes.status_code == 422 and minutes.json()["errors"][0]["field"] == "minutes"
    route = client.get("/v1/routes?from=117.2,39.12&to=oops")
    assert route.status_code == 422 and route.json()["errors"][0]["field"] == "to"


def test_route_crosses_the_bridge(client, river_city):
    a, b = _at(0, 25), _at(0, -25)
    response = client.get(f"/v1/routes?from={a[0]},{a[1]}&to={b[0]},{b[1]}&speed_mps=1.5")
    assert response.status_code == 200, response.text
    route = response.json()
    assert route["length_m"] == pytest.approx(800 + 40 + 800, abs=5)
    assert route["duration_s"] == pytest.approx(route["length_m"] / 1.5, abs=1)
    assert [s["name"] for s in route["steps"]] == ["北岸路", "大桥", "南岸路"]
    assert route["attribution"] == "© OpenStreetMap contributors"


def test_isochrones_grow_with_the_budget(client, river_city):
    lon, lat = _at(0, 25)
    response = client.get(f"/v1/isochrones?lon={lon}&lat={lat}&minutes=4,1,2&speed_mps=1.8")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["properties"]["minutes"] for f in body["features"]] == [1, 2, 4]
    areas = [shape(f["geometry"]) for f in body["features"]]
    assert areas[0].area < areas[1].area < areas[2].area
    assert areas[2].contains(shapely.Point(lon, lat))
    # 4 minutes at 1.8 m/s is 432 m along the north bank: the south bank is not reached
    south = shapely.Point(*_at(0, -25))
    assert not areas[2].contains(south)


def test_anchors_are_snapped_when_written(client, session, river_city):
    city, _ = river_city
    headers = auth(Role.city_admin, region_id=city.id)
    lon, lat = _at(300, 30)
    created = client.post("/v1/equipment", headers=headers, json={
        "kind": "aed", "name": "桥头AED", "region_code": "river",
        "location": {"lon": lon, "lat": lat}})
    assert created.status_code == 201, created.text
    stored = session.get(EquipmentPoint, created.json()["id"])
    assert stored.snap_edge_id is not None
    assert stored.snap_distance_m == pytest.approx(10, abs=0.5)


def test_import_real_extract_and_reimport_without_duplicates(session, settings):
    path = require_data(OSM_DIR / "aed" / "liechtenstein_2024-03-04.osm.pbf")
    registry = NetworkRegistry(settings.data_dir)
    first = import_osm(session, settings, path, city_code="li", timezone="Europe/Vaduz",
                       registry=registry)
    session.commit()
    assert first.aeds_created == 148 and first.nodes > 10_000
    assert first.main_component_share > 0.9
    aeds = session.scalar(select(func.count()).select_from(EquipmentPoint)
                          .where(EquipmentPoint.source == "osm"))
    assert aeds == 148
    assert session.scalar(select(func.count()).select_from(EquipmentPoint).where(
        EquipmentPoint.snap_version == first.version)) == 148
    volunteer_city = registry.get("li")
    assert volunteer_city is not None and volunteer_city.buildings() is not None
    second = import_osm(session, settings, path, city_code="li", registry=registry)
    session.commit()
    assert (second.aeds_created, second.aeds_updated) == (0, 148)
    assert second.version != first.version
    assert session.scalar(select(func.count()).select_from(EquipmentPoint)) == 148
    assert session.scalar(select(func.count()).select_from(EquipmentPoint).where(
        EquipmentPoint.snap_version == second.version)) == 148
    assert registry.get("li").version == second.version


def test_volunteer_anchors_follow_a_new_network(session, settings, river_city):
    _, registry = river_city
    district = create_region(session, RegionCreate(code="river-d", name="区", level="district",
                                                   parent_code="river"), principal=OPERATOR)
    community = create_region(session, RegionCreate(code="river-c", name="社区",
                                                    level="community", parent_code="river-d"),
                              principal=OPERATOR)
    volunteer = make_volunteer(session, community, 1, lon=_at(500, 24)[0],
                               lat=_at(500, 24)[1])
    assert community.parent_id == district.id
    resnap_city(session, registry.get("river"))
    session.commit()
    before = session.get(Volunteer, volunteer.id)
    assert before.home_snap_edge_id is not None
    old_version = before.snap_version
    publish_network(settings.data_dir, "river", river_network(), None, meta={})
    registry.refresh(force=True)
    resnap_city(session, registry.get("river"))
    session.commit()
    assert session.get(Volunteer, volunteer.id).snap_version != old_version


def test_request_threads_never_share_a_city_hull(river_city):
    """GEOS builds a prepared polygon's point index on its first queries, and two threads
    doing so at once corrupt the heap (the process aborted when the first requests of a
    fresh service arrived together). Each thread queries a copy of its own."""
    _, registry = river_city
    city = registry.get("river")
    inside, outside = _at(0, 25), _at(0, 2_000)
    seen: list = []
    barrier = threading.Barrier(4)

    def look_up() -> None:
        barrier.wait()
        hull = city.hull
        assert city.hull is hull  # built once per thread
        assert city.contains(*inside) and not city.contains(*outside)
        seen.append(hull)

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen.append(city.hull)
    assert len(seen) == 5 and len({id(h) for h in seen}) == 5
    assert all(shapely.equals(seen[0], h) for h in seen)
    assert registry.containing(*inside) is city


@pytest.mark.usefixtures("river_city")
def test_each_request_uses_the_network_of_its_city(client, session, settings):
    # a second city 50 km east: a single 1 km street
    lon0, lat0 = _at(50_000, 0)
    lon1, lat1 = _at(51_000, 0)
    publish_network(settings.data_dir, "east", WalkingNetwork.from_edges(
        [lon0, lon1], [lat0, lat1], [0], [1], edge_names=["东街"]), None, meta={})
    create_city(session, code="east", name="东城")
    session.commit()
    east = client.get(f"/v1/routes?from={_at(50_100, 5)[0]},{_at(50_100, 5)[1]}"
                      f"&to={_at(50_900, 5)[0]},{_at(50_900, 5)[1]}")
    assert east.status_code == 200, east.text
    assert [s["name"] for s in east.json()["steps"]] == ["东街"]
    assert east.json()["length_m"] == pytest.approx(800, abs=2)
    west = client.get(f"/v1/isochrones?lon={_at(0, 25)[0]}&lat={_at(0, 25)[1]}&minutes=1")
    assert west.json()["origin"]["city"] == "river"
    across = client.get(f"/v1/routes?from={_at(0, 25)[0]},{_at(0, 25)[1]}"
                        f"&to={_at(50_100, 5)[0]},{_at(50_100, 5)[1]}")
    assert across.status_code == 422 and across.json()["code"] == "different_cities"
