"""Bad input is answered with a 4xx problem that names the field, and changes nothing."""

from __future__ import annotations

import pytest

from app.security import Role
from tests.conftest import auth
from tests.factories import make_area


@pytest.fixture
def admin(session):
    area = make_area(session)
    return area, auth(Role.city_admin, region_id=area.city.id)


def _equipment(area, **location):
    return {"kind": "aed", "name": "AED", "region_code": area.community_a.code,
            "location": {"lon": 117.2, "lat": 39.13, **location}}


def _assert_problem(response, status: int, field: str):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert field in [e["field"] for e in body["errors"]], body


@pytest.mark.parametrize(("location", "field"), [
    ({"lat": 91}, "location.lat"),
    ({"lat": -90.0001}, "location.lat"),
    ({"lon": 180.5}, "location.lon"),
    ({"crs": "epsg3857"}, "location.crs"),
    ({"lat": "north"}, "location.lat"),
    ({"extra": 1}, "location.extra"),
])
def test_bad_locations(client, admin, location, field):
    area, headers = admin
    _assert_problem(client.post("/v1/equipment", headers=headers,
                                json=_equipment(area, **location)), 422, field)
    assert client.get("/v1/equipment", headers=headers).json()["total"] == 0


def test_nan_is_rejected(client, admin):
    area, headers = admin
    raw = ('{"kind": "aed", "name": "AED", "region_code": "' + area.community_a.code
           + '", "location": {"lon": NaN, "lat": 39.1}}')
    response = client.post("/v1/equipment", headers={**headers,
                                                     "content-type": "application/json"},
                           content=raw)
    _assert_problem(response, 422, "location.lon")


def test_malformed_json(client, admin):
    _, headers = admin
    response = client.post("/v1/volunteers", headers={**headers,
                                                      "content-type": "application/json"},
                           content='{"name": "x", ')
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_fields_and_wrong_types(client, admin):
    area, headers = admin
    body = {"name": "张伟", "phone": "13812341234", "region_code": area.community_a.code,
            "favourite_colour": "red"}
    _assert_problem(client.post("/v1/volunteers", headers=headers, json=body), 422,
                    "favourite_colour")
    body = {"name": "张伟", "phone": "13812341234", "region_code": area.community_a.code,
            "roles": "resident"}
    _assert_problem(client.post("/v1/volunteers", headers=headers, json=body), 422, "roles")
    _assert_problem(client.get("/v1/volunteers?limit=abc", headers=headers), 422, "limit")
    _assert_problem(client.get("/v1/volunteers?limit=100000", headers=headers), 422, "limit")
    _assert_problem(client.get("/v1/equipment?bbox=1,2,3", headers=headers), 422, "bbox")
    _assert_problem(client.get("/v1/equipment?near=1,nan", headers=headers), 422, "near")


def test_unknown_ids(client, admin):
    _, headers = admin
    _assert_problem(client.get("/v1/volunteers/999999", headers=headers), 404, "volunteer_id")
    _assert_problem(client.post("/v1/certifications", headers=headers, json={
        "volunteer_id": 999999, "skill": "cpr", "issued_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z", "issuer": "x", "number": "1"}), 404,
        "volunteer_id")
    _assert_problem(client.post("/v1/volunteers", headers=headers, json={
        "name": "张伟", "phone": "13812341234", "region_code": "nowhere"}), 404, "region_code")
    _assert_problem(client.get("/v1/volunteers/not-a-number", headers=headers), 422,
                    "volunteer_id")


def test_integrity_violation_is_409_naming_the_field(client, admin):
    area, headers = admin
    body = {"name": "张伟", "phone": "13812341234", "region_code": area.community_a.code}
    assert client.post("/v1/volunteers", headers=headers, json=body).status_code == 201
    _assert_problem(client.post("/v1/volunteers", headers=headers,
                                json={**body, "phone": "138 1234 1234"}), 409, "phone")
    _assert_problem(client.post("/v1/regions", headers=headers, json={
        "code": area.community_a.code, "name": "dup", "level": "community",
        "parent_code": area.district_a.code}), 409, "code")


def test_wrong_level_and_invalid_opening_hours(client, admin):
    area, headers = admin
    _assert_problem(client.post("/v1/volunteers", headers=headers, json={
        "name": "张伟", "phone": "13812341234", "region_code": area.district_a.code}), 422,
        "region_code")
    _assert_problem(client.post("/v1/equipment", headers=headers, json={
        **_equipment(area), "opening_hours": "whenever"}), 422, "opening_hours")
    _assert_problem(client.post("/v1/certifications", headers=headers, json={
        "volunteer_id": 1, "skill": "cpr", "issued_at": "2026-01-01T00:00:00",
        "expires_at": "2027-01-01T00:00:00Z", "issuer": "x", "number": "1"}), 422, "issued_at")


def test_unknown_route_is_a_problem(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
