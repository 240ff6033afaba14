"""CRUD, filters and pagination of the registry, validated against the response schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.schemas.common import Page
from app.schemas.equipment import EquipmentRead
from app.schemas.region import RegionRead
from app.schemas.volunteer import CertificationRead, VolunteerRead
from app.security import Role
from tests.conftest import auth
from tests.factories import NOW, make_aed, make_area, make_certification, make_volunteer


def test_region_hierarchy(client, session):
    area = make_area(session)
    headers = auth(Role.city_admin, region_id=area.city.id)
    created = client.post("/v1/regions", headers=headers, json={
        "code": "tj-a-2", "name": "新社区", "level": "community", "parent_code": "tj-a",
        "population": 8000, "boundary": {"type": "Polygon", "coordinates": [
            [[117.19, 39.12], [117.21, 39.12], [117.21, 39.14], [117.19, 39.12]]]}})
    assert created.status_code == 201, created.text
    region = RegionRead.model_validate(created.json())
    assert region.has_boundary and region.responder_speed_mps == 1.8
    assert region.time_budget_s == 240 and region.timezone == "Asia/Shanghai"
    district = client.get(f"/v1/regions/{area.district_a.id}", headers=headers).json()
    assert [c["code"] for c in district["children"]] == ["tj-a-1", "tj-a-2"]
    # a community cannot hang under a city, and a district admin cannot reach B
    bad = client.post("/v1/regions", headers=headers, json={
        "code": "x", "name": "x", "level": "community", "parent_code": "tj"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "parent_code"
    patched = client.patch(f"/v1/regions/{region.id}", headers=headers,
                           json={"time_budget_s": 180, "responder_speed_mps": 1.5})
    assert patched.json()["time_budget_s"] == 180
    assert client.get("/v1/regions?level=community&within=tj-a",
                      headers=headers).json()["total"] == 2
    # a region that still has children or members cannot be deleted
    assert client.delete(f"/v1/regions/{area.district_a.id}", headers=headers).status_code == 409
    assert client.delete(f"/v1/regions/{region.id}", headers=headers).status_code == 204


def test_volunteer_crud_with_crs(client, session):
    area = make_area(session)
    headers = auth(Role.community_admin, region_id=area.community_a.id)
    # GCJ-02 from the mini-program, stored as WGS-84, answered in the caller's system
    body = {"name": "张伟", "phone": "138-1234-1234", "region_code": area.community_a.code,
            "roles": ["veteran", "trainer"],
            "home_location": {"lon": 117.2069, "lat": 39.1345, "crs": "gcj02"}}
    created = client.post("/v1/volunteers?crs=gcj02", headers=headers, json=body)
    assert created.status_code == 201, created.text
    volunteer = VolunteerRead.model_validate(created.json())
    assert volunteer.phone_masked == "138****1234"
    assert abs(volunteer.home_location.lon - 117.2069) < 1e-6
    wgs = client.get(f"/v1/volunteers/{volunteer.id}", headers=headers).json()["home_location"]
    assert wgs["crs"] == "wgs84"
    # the GCJ-02 shift in Tianjin is a few hundred metres, mostly in longitude
    assert 0.004 < 117.2069 - wgs["lon"] < 0.008
    updated = client.patch(f"/v1/volunteers/{volunteer.id}", headers=headers,
                           json={"status": "suspended", "home_location": None})
    assert updated.json()["status"] == "suspended"
    assert updated.json()["home_location"] is None
    listed = Page[VolunteerRead].model_validate(
        client.get("/v1/volunteers?status=suspended", headers=headers).json())
    assert [v.id for v in listed.items] == [volunteer.id]
    assert client.delete(f"/v1/volunteers/{volunteer.id}", headers=headers).status_code == 204
    assert client.get(f"/v1/volunteers/{volunteer.id}", headers=headers).status_code == 404


def test_pagination(client, session):
    area = make_area(session)
    for n in range(7):
        make_volunteer(session, area.community_a, n)
    headers = auth(Role.city_admin, region_id=area.city.id)
    first = client.get("/v1/volunteers?limit=3", headers=headers).json()
    second = client.get("/v1/volunteers?limit=3&offset=3", headers=headers).json()
    last = client.get("/v1/volunteers?limit=3&offset=6", headers=headers).json()
    assert first["total"] == second["total"] == last["total"] == 7
    ids = [v["id"] for page in (first, second, last) for v in page["items"]]
    assert len(ids) == len(set(ids)) == 7


def test_qualification_follows_valid_certificates(client, session):
    area = make_area(session)
    valid = make_volunteer(session, area.community_a, 1)
    lapsed = make_volunteer(session, area.community_a, 2)
    now = datetime.now(UTC)
    make_certification(session, valid, "cpr", issued=now - timedelta(days=10))
    make_certification(session, valid, "aed", issued=now - timedelta(days=10))
    make_certification(session, lapsed, "cpr", issued=now - timedelta(days=400))
    headers = auth(Role.city_admin, region_id=area.city.id)
    qualified = client.get("/v1/volunteers?skill=cpr", headers=headers).json()["items"]
    assert [v["id"] for v in qualified] == [valid.id]
    assert qualified[0]["qualified_skills"] == ["aed", "cpr"]
    mine = client.get("/v1/volunteers/me/certifications",
                      headers=auth(Role.volunteer, volunteer_id=valid.id)).json()
    assert sorted(c["skill"] for c in mine) == ["aed", "cpr"]
    assert all(c["valid_now"] for c in mine)
    lapsed_read = client.get(f"/v1/volunteers/{lapsed.id}", headers=headers).json()
    assert lapsed_read["qualified_skills"] == []
    certificates = Page[CertificationRead].model_validate(
        client.get(f"/v1/certifications?volunteer_id={lapsed.id}", headers=headers).json())
    assert [c.valid_now for c in certificates.items] == [False]
    expiring = client.get("/v1/certifications?expiring_within_days=400",
                          headers=headers).json()
    assert expiring["total"] == 2
    renewed = client.patch(f"/v1/certifications/{certificates.items[0].id}", headers=headers,
                           json={"expires_at": (now + timedelta(days=30)).isoformat()})
    assert renewed.json()["valid_now"] is True
    assert client.get("/v1/volunteers?skill=cpr", headers=headers).json()["total"] == 2


def test_equipment_readiness_and_reminders(client, session):
    area = make_area(session)
    today = datetime.now(UTC).date()
    usable = make_aed(session, area.community_a, 1)
    osm_like = make_aed(session, area.community_a, 2, pads_expire_on=None,
                        battery_expires_on=None, last_verified_on=None)
    expired = make_aed(session, area.community_a, 3,
                       pads_expire_on=(today - timedelta(days=1)).isoformat())
    soon = make_aed(session, area.community_a, 4,
                    pads_expire_on=(today + timedelta(days=30)).isoformat())
    headers = auth(Role.city_admin, region_id=area.city.id)

    def read(equipment):
        return EquipmentRead.model_validate(
            client.get(f"/v1/equipment/{equipment.id}", headers=headers).json())

    assert read(usable).readiness.state == "usable"
    assert read(osm_like).readiness.state == "unverified"
    assert "pads expiry unknown" in read(osm_like).readiness.reasons
    assert read(expired).readiness.state == "not_usable"
    assert any("pads expired" in r for r in read(expired).readiness.reasons)
    assert read(soon).expiry_reminders == [
        f"pads expire on {(today + timedelta(days=30)).isoformat()}"]
    assert read(usable).expiry_reminders == []
    reminders = client.get("/v1/equipment?expiring_within_days=61", headers=headers).json()
    assert {e["id"] for e in reminders["items"]} == {expired.id, soon.id}
    out = client.patch(f"/v1/equipment/{usable.id}", headers=headers,
                       json={"status": "out_of_service"}).json()
    assert out["readiness"] == {**out["readiness"], "state": "not_usable",
                                "reasons": ["status is out_of_service"]}


def test_spatial_filters(client, session):
    area = make_area(session)
    near = make_aed(session, area.community_a, 1, lon=117.2000, lat=39.1300)
    make_aed(session, area.community_a, 2, lon=117.2100, lat=39.1300)  # ~860 m east
    make_aed(session, area.community_a, 3, lon=117.3000, lat=39.2000)
    make_volunteer(session, area.community_a, 1, lon=117.2001, lat=39.1301)
    headers = auth(Role.city_admin, region_id=area.city.id)
    in_radius = client.get("/v1/equipment?near=117.2,39.13&radius_m=500", headers=headers).json()
    assert [e["id"] for e in in_radius["items"]] == [near.id]
    wider = client.get("/v1/equipment?near=117.2,39.13&radius_m=1000", headers=headers).json()
    assert wider["total"] == 2
    boxed = client.get("/v1/equipment?bbox=117.19,39.12,117.215,39.14", headers=headers).json()
    assert boxed["total"] == 2
    volunteers = client.get("/v1/volunteers?near=117.2,39.13&radius_m=100",
                            headers=headers).json()
    assert volunteers["total"] == 1
    assert client.get("/v1/volunteers?bbox=117.25,39.15,117.4,39.3",
                      headers=headers).json()["total"] == 0


def test_team_crud_and_leader(client, session):
    area = make_area(session)
    leader = make_volunteer(session, area.community_a, 1)
    other = make_volunteer(session, area.community_b, 2)
    headers = auth(Role.city_admin, region_id=area.city.id)
    team = client.post("/v1/teams", headers=headers, json={
        "name": "南开大学急救队", "kind": "university", "region_code": area.district_a.code,
        "leader_id": leader.id})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    wrong = client.patch(f"/v1/teams/{team_id}", headers=headers, json={"leader_id": other.id})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "leader_id"
    joined = client.patch(f"/v1/volunteers/{leader.id}", headers=headers,
                          json={"team_id": team_id})
    assert joined.json()["team_id"] == team_id
    assert client.get(f"/v1/volunteers?team_id={team_id}", headers=headers).json()["total"] == 1
    duplicate = client.post("/v1/teams", headers=headers, json={
        "name": "南开大学急救队", "kind": "university", "region_code": area.district_a.code})
    assert duplicate.status_code == 409
    assert client.get("/v1/teams?region=tj-a", headers=headers).json()["total"] == 1
    assert client.delete(f"/v1/teams/{team_id}", headers=headers).status_code == 204
    assert client.get(f"/v1/volunteers/{leader.id}", headers=headers).json()["team_id"] is None


def test_readiness_uses_local_opening_hours():
    from app.services.readiness import assess

    common = {"status": "available", "opening_hours": "Mo-Fr 08:00-18:00",
              "pads_expire_on": NOW.date() + timedelta(days=300),
              "battery_expires_on": NOW.date() + timedelta(days=300),
              "last_verified_on": NOW.date(), "timezone": "Asia/Shanghai"}
    # NOW is Monday 06:00 UTC = 14:00 in Beijing: open; 20:00 UTC = 04:00 Tuesday: closed
    assert assess(**common, at=NOW).state == "usable"
    closed = assess(**common, at=NOW.replace(hour=20))
    assert closed.state == "not_usable" and "closed now" in closed.reasons[0]
