"""The volunteer's own duty and location endpoints, with the in-process and Redis stores."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.geo.crs import Crs, from_wgs84
from app.main import create_app
from app.security import Role
from tests.conftest import IN_CI, auth
from tests.factories import make_area, make_volunteer

REDIS_URL = os.environ.get("RESCUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def live_client(request, settings, engine):
    overrides = {}
    if request.param == "redis":
        if not _redis_available():
            if IN_CI:
                pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}")
            pytest.skip(f"Redis not reachable at {REDIS_URL}")
        overrides = {"redis_url": REDIS_URL,
                     "live_key_prefix": f"test:{uuid.uuid4().hex}:"}
    app = create_app(settings.model_copy(update=overrides))
    with TestClient(app) as client:
        yield client
        app.state.live.clear()


def _fix(lon, lat, *, accuracy=10.0, seconds_ago=0, crs="wgs84"):
    recorded = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {"lon": lon, "lat": lat, "crs": crs, "accuracy_m": accuracy,
            "recorded_at": recorded.isoformat()}


def test_duty_and_location_flow(live_client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    off = live_client.put("/v1/volunteers/me/location", headers=me, json=_fix(117.2, 39.13))
    assert off.json()["status"] == "not_kept" and off.json()["reasons"] == ["off_duty"]
    on = live_client.put("/v1/volunteers/me/duty", headers=me, json={"on_duty": True})
    assert on.status_code == 200 and on.json()["on_duty"] is True
    glon, glat = from_wgs84(117.2, 39.13, Crs.gcj02)
    accepted = live_client.put("/v1/volunteers/me/location", headers=me,
                               json=_fix(glon, glat, crs="gcj02"))
    assert accepted.json() == {"status": "accepted", "reasons": [], "live": True}
    state = live_client.get("/v1/volunteers/me/live", headers=me).json()
    assert state["location"]["lon"] == pytest.approx(117.2, abs=1e-6)  # stored as WGS-84
    assert live_client.get("/v1/volunteers/me/live?crs=gcj02",
                           headers=me).json()["location"]["lon"] == pytest.approx(glon, abs=1e-6)
    # a jump of ~11 km a second later is implausible, and so is accuracy 0
    jump = live_client.put("/v1/volunteers/me/location", headers=me, json=_fix(117.33, 39.13))
    assert jump.json()["status"] == "flagged"
    assert "implausible_speed" in jump.json()["reasons"]
    vague = live_client.put("/v1/volunteers/me/location", headers=me,
                            json=_fix(117.2001, 39.13, accuracy=0))
    assert vague.json()["reasons"] == ["accuracy_not_positive"]
    skewed = live_client.put("/v1/volunteers/me/location", headers=me,
                             json=_fix(117.2001, 39.13, seconds_ago=3600))
    assert "clock_skew" in skewed.json()["reasons"]
    still = live_client.get("/v1/volunteers/me/live", headers=me).json()
    assert still["location"]["lon"] == pytest.approx(117.2, abs=1e-6)
    batch = live_client.post("/v1/volunteers/me/locations", headers=me, json={"fixes": [
        _fix(117.2003, 39.13, seconds_ago=20), _fix(117.2002, 39.13, seconds_ago=40)]})
    assert [v["live"] for v in batch.json()] == [True, False]
    assert live_client.get("/v1/volunteers/me/live", headers=me).json()["location"][
        "lon"] == pytest.approx(117.2003, abs=1e-6)
    # off duty deletes the live location at once
    live_client.put("/v1/volunteers/me/duty", headers=me, json={"on_duty": False})
    gone = live_client.get("/v1/volunteers/me/live", headers=me).json()
    assert gone["on_duty"] is False and gone["location"] is None


def test_bad_input_and_status(live_client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    volunteer.status = "suspended"
    session.commit()
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    refused = live_client.put("/v1/volunteers/me/duty", headers=me, json={"on_duty": True})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "on_duty"
    naive = _fix(117.2, 39.13)
    naive["recorded_at"] = "2026-11-23T06:00:00"
    bad = live_client.put("/v1/volunteers/me/location", headers=me, json=naive)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "recorded_at"
    too_many = live_client.post("/v1/volunteers/me/locations", headers=me,
                                json={"fixes": [_fix(117.2, 39.13)] * 101})
    assert too_many.status_code == 422
    admin = auth(Role.city_admin, region_id=area.city.id)
    assert live_client.get("/v1/volunteers/me/live", headers=admin).status_code == 403
