"""Reserve-centre inventory: lines per item and batch, low-stock and expiry alerts, and
stock that never goes negative, also when hand-outs race (on SQLite and PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import InventoryLine
from app.security import Role
from app.services import inventory
from tests.conftest import auth
from tests.factories import OPERATOR, make_aed, make_area
from tests.race import race


def _centre(session, region):
    return make_aed(session, region, 90, kind="reserve_centre", name="区应急物资储备中心")


def test_inventory_and_alerts(client, session):
    area = make_area(session)
    centre = _centre(session, area.district_a)
    admin = auth(Role.district_admin, region_id=area.district_a.id)
    soon = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    url = f"/v1/equipment/{centre.id}/inventory"
    pads = client.post(url, headers=admin, json={"item": "AED电极片", "batch": "A",
                                                 "unit": "pair", "quantity": 12,
                                                 "min_quantity": 10, "expires_on": soon})
    assert pads.status_code == 201, pads.text
    assert pads.json()["alerts"] == [f"expires on {soon}"]
    bandages = client.post(url, headers=admin, json={"item": "绷带", "quantity": 200,
                                                     "min_quantity": 50, "expires_on": later})
    assert bandages.json()["alerts"] == []
    duplicate = client.post(url, headers=admin, json={"item": "AED电极片", "batch": "A",
                                                      "quantity": 1})
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "batch"
    aed = make_aed(session, area.district_a, 1)
    not_a_centre = client.post(f"/v1/equipment/{aed.id}/inventory", headers=admin,
                               json={"item": "x", "quantity": 1})
    assert not_a_centre.status_code == 422
    assert not_a_centre.json()["errors"][0]["field"] == "equipment_id"

    handed_out = client.post(f"/v1/inventory/{pads.json()['id']}/adjust", headers=admin,
                             json={"delta": -3})
    assert handed_out.json()["quantity"] == 9
    assert handed_out.json()["alerts"] == ["low stock: 9 pair, minimum 10",
                                           f"expires on {soon}"]
    overdraw = client.post(f"/v1/inventory/{pads.json()['id']}/adjust", headers=admin,
                           json={"delta": -10})
    assert overdraw.status_code == 409 and overdraw.json()["code"] == "insufficient_stock"
    alerts = client.get("/v1/inventory/alerts", headers=admin).json()
    assert [a["id"] for a in alerts["items"]] == [pads.json()["id"]]
    assert client.get("/v1/inventory/alerts?within_days=500", headers=admin).json()[
        "total"] == 2
    patched = client.patch(f"/v1/inventory/{pads.json()['id']}", headers=admin,
                           json={"min_quantity": 5})
    assert patched.json()["alerts"] == [f"expires on {soon}"]
    assert client.patch(f"/v1/inventory/{pads.json()['id']}", headers=admin,
                        json={"unit": None}).status_code == 422

    other = auth(Role.district_admin, region_id=area.district_b.id)
    assert client.get(url, headers=other).status_code == 404
    assert client.post(f"/v1/inventory/{pads.json()['id']}/adjust", headers=other,
                       json={"delta": 1}).status_code == 404
    assert client.get("/v1/inventory/alerts", headers=other).json()["total"] == 0


def test_concurrent_hand_outs_never_go_negative(engine, session):
    area = make_area(session)
    centre = _centre(session, area.city)
    line = InventoryLine(equipment_id=centre.id, item="止血带", quantity=5)
    session.add(line)
    session.commit()
    outcomes = race(engine, lambda tx, _: inventory.adjust(tx, line.id, -1, OPERATOR))
    assert outcomes == ["insufficient_stock"] * 15 + ["ok"] * 5, outcomes
    session.rollback()
    assert session.scalar(select(InventoryLine.quantity).where(InventoryLine.id == line.id)) == 0
