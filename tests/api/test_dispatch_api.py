"""POST /v1/dispatch/rank: eligibility, walking-time ranking and the AED fetch, over HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.live.state import Fix
from app.main import create_app
from app.models import Assignment, Incident, Region
from app.networks import publish_network
from app.schemas.dispatch import RankResponse
from app.schemas.region import RegionCreate
from app.security import Role
from app.services.regions import create_city, create_region
from app.spatial import lonlat_element
from tests.api.test_walking_api import _at, river_network
from tests.conftest import auth
from tests.factories import OPERATOR, make_aed, make_certification, make_volunteer

SPEED = 1.8


@pytest.fixture
def river(session, settings):
    city = create_city(session, code="river", name="河城")
    create_region(session, RegionCreate(code="north", name="北岸", level="district",
                                        parent_code="river"), principal=OPERATOR)
    create_region(session, RegionCreate(code="south", name="南岸", level="district",
                                        parent_code="river"), principal=OPERATOR)
    community = create_region(session, RegionCreate(code="north-1", name="北岸社区",
                                                    level="community", parent_code="north"),
                              principal=OPERATOR)
    session.commit()
    publish_network(settings.data_dir, "river", river_network(), None, meta={})
    return city, community


def _on_duty(client, volunteer, x, y, *, fresh=True):
    live = client.app.state.live
    now = datetime.now(UTC)
    live.set_on_duty(volunteer.id, "river", now=now - timedelta(seconds=300))
    lon, lat = _at(x, y)
    received = now if fresh else now - timedelta(seconds=200)
    live.record_fix(volunteer.id, Fix(lon=lon, lat=lat, accuracy_m=8, recorded_at=received),
                    received_at=received)


def _responder(session, community, n, x, y, skills=("cpr",), issued_days_ago=30):
    volunteer = make_volunteer(session, community, n, lon=_at(x, y)[0], lat=_at(x, y)[1])
    for skill in skills:
        make_certification(session, volunteer, skill,
                           issued=datetime.now(UTC) - timedelta(days=issued_days_ago))
    return volunteer


def test_rank_with_aed_fetch(client, session, river):
    city, community = river
    nearest = _responder(session, community, 1, -100, 25)                 # CPR only
    fetcher = _responder(session, community, 2, 300, 25, ("cpr", "aed"))
    across = _responder(session, community, 3, 0, -25, ("cpr", "aed"))    # other bank
    busy = _responder(session, community, 4, 50, 25)
    lapsed = _responder(session, community, 5, 20, 25, issued_days_ago=400)
    off_duty = _responder(session, community, 6, 10, 25)
    stale = _responder(session, community, 7, 15, 25)
    for volunteer, (x, y) in [(nearest, (-100, 25)), (fetcher, (300, 25)), (across, (0, -25)),
                              (busy, (50, 25)), (lapsed, (20, 25))]:
        _on_duty(client, volunteer, x, y)
    _on_duty(client, stale, 15, 25, fresh=False)
    other = Incident(kind="trauma", location=lonlat_element(*_at(50, 25)), region_id=city.id,
                     created_by="test", budget_s=240)
    session.add(other)
    session.flush()
    session.add(Assignment(incident_id=other.id, volunteer_id=busy.id, role="direct",
                           eta_s=10, distance_m=18))
    session.commit()
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    make_aed(session, city, 2, lon=_at(-50, 25)[0], lat=_at(-50, 25)[1],
             status="out_of_service")
    lon, lat = _at(0, 25)
    response = client.post("/v1/dispatch/rank", headers=auth(Role.dispatcher,
                                                             region_id=city.id),
                           json={"location": {"lon": lon, "lat": lat},
                                 "kind": "cardiac_arrest"})
    assert response.status_code == 200, response.text
    body = response.json()
    # serialised by the route itself: checked against its declared model here
    assert RankResponse.model_validate(body).model_dump(mode="json") == body
    ids = [r["volunteer_id"] for r in body["responders"]]
    assert ids == [nearest.id, fetcher.id]
    assert off_duty.id not in ids and across.id not in ids and busy.id not in ids
    assert lapsed.id not in ids and stale.id not in ids
    first, second = body["responders"]
    assert first["role"] == "direct"
    assert first["eta_s"] == pytest.approx((5 + 100 + 5) / SPEED, abs=0.5)
    assert second["role"] == "fetch_aed" and second["aed_id"] == aed.id
    assert second["aed_eta_s"] == pytest.approx((5 + 100 + 5) / SPEED, abs=0.5)
    assert second["eta_s"] == pytest.approx((5 + 100 + 5 + 5 + 200 + 5) / SPEED, abs=0.5)
    assert body["first_aed_eta_s"] == pytest.approx(second["eta_s"], abs=0.1)
    assert body["first_responder_eta_s"] == pytest.approx(first["eta_s"], abs=0.1)
    assert [a["equipment_id"] for a in body["aeds"]] == [aed.id]
    assert first["phone_masked"].count("*") == 4 and first["position"] is not None
    # a dispatcher of the other district ranks the same people but sees no positions
    south_id = session.scalar(select(Region.id).where(Region.code == "south"))
    south = client.post("/v1/dispatch/rank", headers=auth(Role.dispatcher, region_id=south_id),
        json={"location": {"lon": lon, "lat": lat}, "kind": "cardiac_arrest"}).json()
    assert [r["volunteer_id"] for r in south["responders"]] == ids
    assert all(r["position"] is None for r in south["responders"])
    # trauma needs a bandaging certificate nobody holds; and no AED fetch
    trauma = client.post("/v1/dispatch/rank", headers=auth(Role.dispatcher, region_id=city.id),
                         json={"location": {"lon": lon, "lat": lat}, "kind": "trauma"})
    assert trauma.json()["responders"] == []


def test_rank_bad_input(client, session, river):
    city, _ = river
    headers = auth(Role.dispatcher, region_id=city.id)
    lon, lat = _at(0, 25)
    unknown = client.post("/v1/dispatch/rank", headers=headers,
                          json={"location": {"lon": lon, "lat": lat}, "kind": "alien"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "kind"
    far = client.post("/v1/dispatch/rank", headers=headers,
                      json={"location": {"lon": _at(0, 400)[0], "lat": _at(0, 400)[1]},
                            "kind": "cardiac_arrest"})
    assert far.status_code == 422 and far.json()["code"] == "too_far_from_network"
    volunteer = auth(Role.volunteer, volunteer_id=1)
    assert client.post("/v1/dispatch/rank", headers=volunteer, json={
        "location": {"lon": lon, "lat": lat}, "kind": "cardiac_arrest"}).status_code == 403


def test_ranking_does_not_wait_for_writers(client, session, river, engine):
    """Ranking only reads, so it runs while another request holds the write lock (on
    SQLite a writing request holds it from its first statement to its commit)."""
    city, community = river
    responder = _responder(session, community, 1, -100, 25)
    _on_duty(client, responder, -100, 25)
    writer = engine.raw_connection()
    try:
        cursor = writer.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE assignment IN EXCLUSIVE MODE")
        started = time.monotonic()
        ranked = client.post("/v1/dispatch/rank", headers=auth(Role.dispatcher,
                                                               region_id=city.id),
                             json={"location": {"lon": _at(0, 25)[0], "lat": _at(0, 25)[1]},
                                   "kind": "cardiac_arrest"})
        assert ranked.status_code == 200, ranked.text
        assert [r["volunteer_id"] for r in ranked.json()["responders"]] == [responder.id]
        assert time.monotonic() - started < 5
    finally:
        writer.rollback()
        writer.close()


def test_ranking_and_duty_without_live_state_are_503(settings, session, river):
    """Redis, which holds the live responder state, refuses connections: ranking (and an
    incident, which ranks first) and going on duty answer 503 problems, not 500s."""
    city, community = river
    volunteer = _responder(session, community, 1, 0, 25)
    session.commit()
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0",
                                       "escalation_interval_s": 0})
    lon, lat = _at(0, 25)
    with TestClient(create_app(down)) as client:
        console = auth(Role.dispatcher, region_id=city.id)
        body = {"location": {"lon": lon, "lat": lat}, "kind": "cardiac_arrest"}
        answers = [client.post("/v1/dispatch/rank", headers=console, json=body),
                   client.post("/v1/incidents", headers=console, json=body),
                   client.put("/v1/volunteers/me/duty", json={"on_duty": True},
                              headers=auth(Role.volunteer, volunteer_id=volunteer.id))]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "service_unavailable"
    assert session.scalars(select(Incident)).all() == []  # nothing half-written
