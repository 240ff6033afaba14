"""Rewards for service hours: offered by area, redeemed without ever overspending the
balance or the stock, also when many redemptions race (on SQLite and PostGIS)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import make_sessionmaker
from app.models import Redemption, ServiceAccount, ServiceEntry
from app.models.service import HoursSource
from app.security import Role
from app.services import service_hours
from tests.conftest import auth
from tests.factories import NOW, make_area, make_volunteer
from tests.race import race


def _reward(client, region, **fields):
    body = {"name": "家庭急救包", "cost_minutes": 120, "region_code": region.code, **fields}
    created = client.post("/v1/rewards", headers=auth(Role.city_admin, region_id=region.id),
                          json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _credit(session, volunteer_id, minutes, source_id):
    assert service_hours.credit(session, volunteer_id, source=HoursSource.patrol,
                                source_id=source_id, minutes=minutes, at=NOW)
    session.commit()


def test_rewards_and_redemption(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    elsewhere = make_volunteer(session, area.community_b, 2)
    kit = _reward(client, area.city, stock=1)
    check = _reward(client, area.district_a, name="免费体检", cost_minutes=240)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)

    offered = client.get("/v1/volunteers/me/rewards", headers=me).json()
    assert [r["id"] for r in offered["items"]] == [kit["id"], check["id"]]   # cheapest first
    theirs = client.get("/v1/volunteers/me/rewards", headers=auth(
        Role.volunteer, volunteer_id=elsewhere.id)).json()
    assert [r["id"] for r in theirs["items"]] == [kit["id"]]     # not their district's
    assert client.post("/v1/volunteers/me/redemptions", headers=auth(
        Role.volunteer, volunteer_id=elsewhere.id),
        json={"reward_id": check["id"]}).status_code == 404

    broke = client.post("/v1/volunteers/me/redemptions", headers=me,
                        json={"reward_id": kit["id"]})
    assert broke.status_code == 409 and broke.json()["code"] == "insufficient_hours"
    assert broke.json()["errors"][0]["field"] == "reward_id"

    _credit(session, volunteer.id, 300, source_id=1)
    assert not service_hours.credit(session, volunteer.id, source=HoursSource.patrol,
                                    source_id=1, minutes=300, at=NOW)   # credited once
    session.rollback()
    bought = client.post("/v1/volunteers/me/redemptions", headers=me,
                         json={"reward_id": kit["id"]})
    assert bought.status_code == 201 and bought.json()["balance_minutes"] == 180
    sold_out = client.post("/v1/volunteers/me/redemptions", headers=me,
                           json={"reward_id": kit["id"]})
    assert sold_out.status_code == 409 and sold_out.json()["code"] == "out_of_stock"
    assert client.get("/v1/volunteers/me/service", headers=me).json() == {
        "volunteer_id": volunteer.id, "earned_minutes": 300, "balance_minutes": 180}
    ledger = client.get("/v1/volunteers/me/service/entries", headers=me).json()["items"]
    assert [(e["source"], e["minutes"]) for e in ledger] == [("redemption", -120),
                                                             ("patrol", 300)]
    admin_view = client.get(f"/v1/volunteers/{volunteer.id}/service",
                            headers=auth(Role.community_admin, region_id=area.community_a.id))
    assert admin_view.json()["balance_minutes"] == 180
    assert client.get(f"/v1/volunteers/{volunteer.id}/service", headers=auth(
        Role.community_admin, region_id=area.community_b.id)).status_code == 404


def test_reward_input_is_checked(client, session):
    area = make_area(session)
    admin = auth(Role.district_admin, region_id=area.district_a.id)
    odd = client.post("/v1/rewards", headers=admin, json={
        "name": "x", "cost_minutes": 50, "region_code": area.district_a.code})
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "cost_minutes"
    outside = client.post("/v1/rewards", headers=admin, json={
        "name": "x", "cost_minutes": 60, "region_code": area.district_b.code})
    assert outside.status_code == 404
    reward = _reward(client, area.district_a)
    nulled = client.patch(f"/v1/rewards/{reward['id']}", headers=admin,
                          json={"cost_minutes": None})
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["field"] == "cost_minutes"
    retired = client.patch(f"/v1/rewards/{reward['id']}", headers=admin, json={"active": False})
    assert retired.json()["active"] is False
    volunteer = make_volunteer(session, area.community_a, 1)
    assert client.get("/v1/volunteers/me/rewards", headers=auth(
        Role.volunteer, volunteer_id=volunteer.id)).json()["total"] == 0
    listed = client.get("/v1/rewards", headers=auth(Role.district_admin,
                                                    region_id=area.district_b.id)).json()
    assert listed["total"] == 0


THREADS = 20


def test_concurrent_redemptions_never_overspend(engine, session, client):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    reward = _reward(client, area.city, cost_minutes=60)
    limited = _reward(client, area.city, name="体检", cost_minutes=15, stock=3)
    _credit(session, volunteer.id, 5 * 60 + 30, source_id=1)   # enough for five, not six
    factory = make_sessionmaker(engine)

    def redeem_all(reward_id: int) -> list[str]:
        return race(engine, lambda tx, _: service_hours.redeem(tx, volunteer.id, reward_id,
                                                               now=NOW), threads=THREADS)

    first = redeem_all(reward["id"])
    assert first == ["insufficient_hours"] * (THREADS - 5) + ["ok"] * 5, first
    second = redeem_all(limited["id"])   # 30 minutes left: two fit the balance, three the stock
    assert second == ["insufficient_hours"] * (THREADS - 2) + ["ok"] * 2, second
    _credit(session, volunteer.id, 600, source_id=2)
    third = redeem_all(limited["id"])         # plenty of hours now, one left in stock
    assert third == ["ok"] + ["out_of_stock"] * (THREADS - 1), third
    with factory() as check:
        account = check.get(ServiceAccount, volunteer.id)
        assert (account.earned_minutes, account.balance_minutes) == (930, 600 - 15)
        assert check.scalar(select(func.count()).select_from(Redemption)) == 8
        assert check.scalar(select(func.sum(ServiceEntry.minutes)).where(
            ServiceEntry.volunteer_id == volunteer.id)) == 600 - 15
