"""Bulk import: a row-by-row report; a file with errors changes nothing unless asked."""

from __future__ import annotations

import json

from app.security import Role
from tests.conftest import auth
from tests.factories import make_area

CSV_HEADER = "name,phone,region_code,roles,home_lon,home_lat,crs\n"


def _csv(area, *rows):
    return CSV_HEADER + "".join(rows).format(c=area.community_a.code)


def test_csv_with_errors_changes_nothing(client, session):
    area = make_area(session)
    headers = {**auth(Role.city_admin, region_id=area.city.id), "content-type": "text/csv"}
    body = _csv(area,
                "张伟,13812340001,{c},resident;veteran,117.2,39.13,wgs84\n",
                "李娜,not-a-phone,{c},resident,117.2,39.13,wgs84\n",
                "王芳,13812340003,{c},astronaut,117.2,95,wgs84\n",
                "赵磊,13812340001,{c},resident,,,\n")
    response = client.post("/v1/imports/volunteers", headers=headers, content=body.encode())
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"rows[2].phone", "rows[3].roles.0", "rows[3].home_location.lat",
            "rows[4].phone"} <= fields
    assert "rows[1].phone" not in fields
    assert client.get("/v1/volunteers", headers=headers).json()["total"] == 0

    partial = client.post("/v1/imports/volunteers?partial=true", headers=headers,
                          content=body.encode())
    assert partial.status_code == 200, partial.text
    report = partial.json()
    assert report["total"] == 4 and report["imported"] == 1
    assert report["rejected_rows"] == [2, 3, 4]
    listed = client.get("/v1/volunteers", headers=headers).json()["items"]
    assert [v["name"] for v in listed] == ["张伟"]
    assert listed[0]["roles"] == ["resident", "veteran"]


def test_geojson_equipment(client, session):
    area = make_area(session)
    headers = {**auth(Role.city_admin, region_id=area.city.id),
               "content-type": "application/geo+json"}
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.2, 39.13]},
         "properties": {"kind": "aed", "name": "地铁站AED", "region_code": area.community_a.code,
                        "opening_hours": "Mo-Su 06:00-23:00", "pads_expire_on": "2027-01-01"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.21, 39.14]},
         "properties": {"kind": "aed", "name": "商场AED", "region_code": area.community_b.code}},
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features})
    response = client.post("/v1/imports/equipment", headers=headers, content=body.encode())
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2
    items = client.get("/v1/equipment", headers=headers).json()["items"]
    assert {e["source"] for e in items} == {"bulk_import"}
    assert items[0]["location"] == {"lon": 117.2, "lat": 39.13, "crs": "wgs84"}


def test_bad_files(client, session):
    area = make_area(session)
    headers = auth(Role.city_admin, region_id=area.city.id)
    wrong_type = client.post("/v1/imports/equipment", headers={**headers,
                             "content-type": "application/pdf"}, content=b"%PDF")
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["field"] == "content-type"
    not_json = client.post("/v1/imports/equipment", headers={**headers,
                           "content-type": "application/geo+json"}, content=b"{nope")
    assert not_json.status_code == 400 and not_json.json()["errors"][0]["field"] == "file"
    empty = client.post("/v1/imports/volunteers", headers={**headers,
                        "content-type": "text/csv"}, content=CSV_HEADER.encode())
    assert empty.status_code == 422
    scope = auth(Role.district_admin, region_id=area.district_a.id)
    other_scope = client.post(
        "/v1/imports/volunteers", headers={**scope, "content-type": "text/csv"},
        content=(CSV_HEADER + f"张伟,13812340001,{area.community_b.code},,,,\n").encode())
    assert other_scope.status_code == 422
    assert other_scope.json()["errors"][0]["field"] == "rows[1].region_code"
