"""Scope isolation: a district admin of A gets 404 on every object of B, for every route
with an id; lists never show B's objects."""

from __future__ import annotations

import asyncio
import re

from app.main import api_routes
from app.security import Role
from tests.conftest import auth
from tests.factories import (
    make_aed,
    make_area,
    make_certification,
    make_course,
    make_follow_up,
    make_hazard,
    make_incident,
    make_inventory_line,
    make_reward,
    make_team,
    make_training_session,
    make_volunteer,
)

# Valid bodies, so that only the scope can refuse them.
PATCH_BODIES = {
    "/v1/certifications/{certification_id}": {"issuer": "renamed"},
}
POST_BODIES = {"/v1/incidents/{incident_id}/close": {"outcome": "transported"},
               "/v1/drills/{incident_id}/end": {},
               "/v1/follow-ups/{follow_up_id}/aed-check": {"pads_used": False,
                                                           "returned": True, "working": True},
               "/v1/hazards/{hazard_id}/{action}": {"note": "已核实"},
               "/v1/training-sessions/{training_session_id}/assessments": {"assessments": [
                   {"volunteer_id": 1, "written": 90, "practical": 90, "simulation": 90}]}}


# Routes no admin may call at all (403 before any scope): a device's own telemetry.
NOT_FOR_ADMINS = {"/v1/equipment/{equipment_id}/telemetry"}
POST_BODIES["/v1/equipment/{equipment_id}/inventory"] = {"item": "绷带", "quantity": 1}
POST_BODIES["/v1/inventory/{line_id}/adjust"] = {"delta": 1}
PATCH_BODIES["/v1/inventory/{line_id}"] = {"min_quantity": 1}


def test_district_admin_of_a_gets_404_on_every_b_object(client, session):
    area = make_area(session)
    volunteer_b = make_volunteer(session, area.community_b, 2)
    ids = {
        "region_id": area.community_b.id,
        "team_id": make_team(session, area.community_b).id,
        "volunteer_id": volunteer_b.id,
        "certification_id": make_certification(session, volunteer_b).id,
        "equipment_id": make_aed(session, area.community_b, 1).id,
        "incident_id": make_incident(session, area.community_b).id,
        "reward_id": make_reward(session, area.community_b).id,
        "line_id": make_inventory_line(session, area.district_b).id,
        "hazard_id": make_hazard(session, area.community_b).id,
        "action": "close",  # a hazard's step: scope refuses before the step is checked
        "course_id": make_course(session, area.district_b).id,
    }
    ids["training_session_id"] = make_training_session(session, ids["course_id"],
                                                       area.community_b).id
    ids["follow_up_id"] = make_follow_up(session, ids["incident_id"], equipment_id=ids[
        "equipment_id"], region=area.community_b).id
    headers = auth(Role.district_admin, region_id=area.district_a.id)
    checked = 0
    for route in api_routes():
        params = re.findall(r"{(\w+)}", route.path)
        if not params or not all(p in ids for p in params) or route.path in NOT_FOR_ADMINS:
            continue
        path = route.path.format(**ids)
        for method in route.methods:
            body = (PATCH_BODIES.get(route.path, {"name": "renamed"}) if method == "PATCH"
                    else POST_BODIES.get(route.path))
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            checked += 1
    # every resource has get, patch and delete by id
    assert checked >= 15

    # ... and B's objects are still there and unchanged for B's own admin
    headers_b = auth(Role.district_admin, region_id=area.district_b.id)
    assert client.get(f"/v1/volunteers/{volunteer_b.id}", headers=headers_b).status_code == 200
    assert client.get(f"/v1/equipment/{ids['equipment_id']}",
                      headers=headers_b).json()["name"] == "AED 1"


def test_lists_show_only_the_scope(client, session):
    area = make_area(session)
    make_volunteer(session, area.community_a, 1)
    make_volunteer(session, area.community_b, 2)
    make_aed(session, area.community_a, 1)
    make_aed(session, area.community_b, 2)
    headers = auth(Role.district_admin, region_id=area.district_a.id)
    volunteers = client.get("/v1/volunteers", headers=headers).json()
    assert [v["region_id"] for v in volunteers["items"]] == [area.community_a.id]
    assert volunteers["total"] == 1
    equipment = client.get("/v1/equipment", headers=headers).json()
    assert [e["name"] for e in equipment["items"]] == ["AED 1"]
    regions = client.get("/v1/regions", headers=headers).json()
    assert {r["code"] for r in regions["items"]} == {"tj-a", "tj-a-1"}
    city = auth(Role.city_admin, region_id=area.city.id)
    assert client.get("/v1/volunteers", headers=city).json()["total"] == 2


def test_cannot_create_in_another_scope(client, session):
    area = make_area(session)
    headers = auth(Role.district_admin, region_id=area.district_a.id)
    response = client.post("/v1/volunteers", headers=headers, json={
        "name": "越界", "phone": "13900000001", "region_code": area.community_b.code})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "region_code"
    city = auth(Role.city_admin, region_id=area.city.id)
    assert client.get("/v1/volunteers", headers=city).json()["total"] == 0


def test_volunteer_sees_only_itself(client, session):
    area = make_area(session)
    me = make_volunteer(session, area.community_a, 1)
    other = make_volunteer(session, area.community_a, 2)
    headers = auth(Role.volunteer, volunteer_id=me.id)
    assert client.get("/v1/volunteers/me", headers=headers).json()["id"] == me.id
    assert client.get("/v1/volunteers", headers=headers).status_code == 403
    assert client.get(f"/v1/volunteers/{other.id}", headers=headers).status_code == 403


def test_a_token_of_a_region_that_never_existed_is_refused(client):
    response = client.get("/v1/incidents", headers=auth(Role.dispatcher, region_id=987654))
    assert response.status_code == 401
    assert "no longer exists" in response.json()["detail"]


def test_region_paths_are_remembered_for_their_time_only(engine, session):
    from app.db import make_sessionmaker
    from app.deps import RegionPaths

    area = make_area(session)
    session.commit()
    remembered = RegionPaths(make_sessionmaker(engine), ttl_s=60)
    assert remembered.remembered(area.district_a.id) is None
    assert asyncio.run(remembered.load(area.district_a.id)) == area.district_a.path
    assert remembered.remembered(area.district_a.id) == area.district_a.path
    assert asyncio.run(remembered.load(987654)) is None
    assert remembered.remembered(987654) is None
    expired = RegionPaths(make_sessionmaker(engine), ttl_s=0)
    assert asyncio.run(expired.load(area.district_a.id)) == area.district_a.path
    assert expired.remembered(area.district_a.id) is None  # read again after its time
