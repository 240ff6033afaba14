"""Risk warnings reach the right volunteers only (on duty inside the area, or subscribed for
a place inside it), through the alert stream and WeChat; anyone can read what is in force
at a place; future warnings are pushed when they start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.escalation import sweep_once
from app.geo.crs import Crs, from_wgs84
from app.models import IncidentEvent, RiskWarning
from app.security import Role
from app.services.warnings import push_due
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_stream import _events
from tests.api.test_walking_api import _at
from tests.api.test_wechat_notify import FakeWechat, _settled, wechat_app  # noqa: F401
from tests.conftest import auth


def _area(x0=-300, x1=300, y0=-50, y1=100):
    ring = [_at(x0, y0), _at(x1, y0), _at(x1, y1), _at(x0, y1), _at(x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def _warning(**extra):
    until = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
    return {"kind": "heat", "severity": "orange", "message": "高温橙色预警",
            "region_code": "river", "area": _area(), "valid_until": until, **extra}


@pytest.fixture
def people(client, session, river):  # noqa: F811 - fixture
    city, community = river
    inside = _responder(session, community, 1, 0, 25)
    stale = _responder(session, community, 2, 50, 25)
    outside = _responder(session, community, 3, 800, 25)
    subscriber = _responder(session, community, 4, 100, 25)    # off duty, home inside
    quiet = _responder(session, community, 5, 120, 25)         # off duty, not subscribed
    elsewhere = _responder(session, community, 6, 150, 25)     # subscribed for another place
    _on_duty(client, inside, 0, 25)
    _on_duty(client, stale, 50, 25, fresh=False)
    _on_duty(client, outside, 800, 25)
    me = auth(Role.volunteer, volunteer_id=subscriber.id)
    assert client.put("/v1/volunteers/me/warning-subscription", headers=me,
                      json={"active": True}).json()["uses_home"] is True
    lon, lat = _at(900, 25)
    client.put("/v1/volunteers/me/warning-subscription",
               headers=auth(Role.volunteer, volunteer_id=elsewhere.id),
               json={"location": {"lon": lon, "lat": lat}})
    return city, inside, subscriber, [stale, outside, quiet, elsewhere]


def _pushed(session, warning_id):
    session.rollback()
    return sorted(session.scalars(select(IncidentEvent.volunteer_id).where(
        IncidentEvent.warning_id == warning_id, IncidentEvent.kind == "warning")))


def test_warning_reaches_the_right_volunteers_only(client, session, people):
    city, inside, subscriber, others = people
    admin = auth(Role.city_admin, region_id=city.id)
    published = client.post("/v1/warnings", headers=admin, json=_warning())
    assert published.status_code == 201, published.text
    warning = published.json()
    assert warning["pushed_to"] == 2 and warning["pushed_at"] is not None
    assert _pushed(session, warning["id"]) == sorted([inside.id, subscriber.id])

    stream = _events(client.get("/v1/volunteers/me/alerts/stream?max_seconds=0.6",
                                headers=auth(Role.volunteer, volunteer_id=inside.id)).text)
    assert [(kind, data["warning_id"], data["data"]["severity"])
            for _, kind, data in stream] == [("warning", warning["id"], "orange")]
    for other in others:
        assert _events(client.get("/v1/volunteers/me/alerts/stream?max_seconds=0.3",
                                  headers=auth(Role.volunteer, volunteer_id=other.id)).text
                       ) == []
    # the console's incident stream carries no warnings
    assert _events(client.get("/v1/incidents/stream?max_seconds=0.3", headers=auth(
        Role.dispatcher, region_id=city.id)).text) == []

    # anyone can ask what is in force here, in any coordinate system
    lon, lat = _at(0, 25)
    here = client.get(f"/v1/warnings/active?lon={lon}&lat={lat}").json()
    assert [w["id"] for w in here] == [warning["id"]]
    glon, glat = from_wgs84(lon, lat, Crs.gcj02)
    assert len(client.get(f"/v1/warnings/active?lon={glon}&lat={glat}&crs=gcj02").json()) == 1
    far_lon, far_lat = _at(900, 25)
    assert client.get(f"/v1/warnings/active?lon={far_lon}&lat={far_lat}").json() == []

    withdrawn = client.post(f"/v1/warnings/{warning['id']}/cancel", headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["cancelled_at"] is not None
    assert client.post(f"/v1/warnings/{warning['id']}/cancel", headers=admin).status_code == 409
    assert client.get(f"/v1/warnings/active?lon={lon}&lat={lat}").json() == []
    stream = _events(client.get("/v1/volunteers/me/alerts/stream?max_seconds=0.6",
                                headers=auth(Role.volunteer, volunteer_id=subscriber.id)).text)
    assert [kind for _, kind, _ in stream] == ["warning", "warning_withdrawn"]
    listed = client.get("/v1/warnings?active=true", headers=admin).json()
    assert listed["total"] == 0
    assert client.get("/v1/warnings", headers=admin).json()["total"] == 1


def test_future_warning_is_pushed_when_it_starts(client, session, people):
    city, _, subscriber, _ = people
    start = datetime.now(UTC) + timedelta(hours=1)
    warning = client.post("/v1/warnings", headers=auth(Role.city_admin, region_id=city.id),
                          json=_warning(valid_from=start.isoformat(),
                                        valid_until=(start + timedelta(hours=2)).isoformat()
                                        )).json()
    assert warning["pushed_at"] is None and warning["pushed_to"] == 0
    lon, lat = _at(0, 25)
    assert client.get(f"/v1/warnings/active?lon={lon}&lat={lat}").json() == []
    session.rollback()
    assert push_due(session, client.app.state.live, now=datetime.now(UTC)) == 0
    # an hour later the live fixes are stale: only the subscriber's home still counts
    assert push_due(session, client.app.state.live, now=start + timedelta(seconds=1)) == 1
    session.commit()
    assert _pushed(session, warning["id"]) == [subscriber.id]
    assert push_due(session, client.app.state.live, now=start + timedelta(seconds=2)) == 0
    assert session.get(RiskWarning, warning["id"]).pushed_at is not None


def test_warning_input_is_checked(client, session, people):
    city, inside, *_ = people
    admin = auth(Role.city_admin, region_id=city.id)
    cases = {
        "kind": _warning(kind="alien_invasion"),
        "severity": _warning(severity="purple"),
        "valid_until": _warning(valid_until=(datetime.now(UTC) - timedelta(hours=1))
                                .isoformat()),
        "area": _warning(area=None),        # the region has no boundary of its own
        "region_code": _warning(region_code="nowhere"),
    }
    naive = client.post("/v1/warnings", headers=admin,
                        json=_warning(valid_until="2026-11-24T06:00:00"))   # no time zone
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "valid_until"
    for field, body in cases.items():
        answer = client.post("/v1/warnings", headers=admin, json=body)
        assert answer.status_code in (404, 422), (field, answer.text)
        assert answer.json()["errors"][0]["field"] == field, answer.text
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    assert client.post("/v1/warnings", headers=admin, json=_warning(area=bowtie)).json()[
        "errors"][0]["field"] == "area"
    assert client.post("/v1/warnings", headers=auth(Role.volunteer, volunteer_id=inside.id),
                       json=_warning()).status_code == 403
    assert client.get("/v1/warnings/active?lon=200&lat=30").status_code == 422


def test_warnings_as_wechat_messages(wechat_app, session, river):  # noqa: F811 - fixture
    client = wechat_app
    city, community = river
    volunteer = _responder(session, community, 1, 0, 25)
    volunteer.wechat_openid = "openid-warn"
    session.commit()
    _on_duty(client, volunteer, 0, 25)
    sweep_once(client.app)       # sets the cursor
    FakeWechat.sent.clear()
    client.post("/v1/warnings", headers=auth(Role.city_admin, region_id=city.id),
                json=_warning(severity="red"))
    sweep_once(client.app, now=_settled())
    assert [m["touser"] for m in FakeWechat.sent] == ["openid-warn"]
    data = FakeWechat.sent[0]["data"]
    assert data["thing1"]["value"] == "风险预警" and data["character_string3"]["value"] == "red"


def test_public_lookup_uses_the_region_outline_without_an_area(client, session, people):
    """A warning for a whole region (no area of its own) is in force inside the region's
    outline only; the database judges the place against it."""
    city, *_ = people
    admin = auth(Role.city_admin, region_id=city.id)
    created = client.post("/v1/regions", headers=admin, json={
        "code": "east-bank", "name": "东岸社区", "level": "community", "parent_code": "north",
        "boundary": _area(x0=400, x1=700, y0=0, y1=60)})
    assert created.status_code == 201, created.text
    whole = client.post("/v1/warnings", headers=admin,
                        json=_warning(region_code="east-bank", area=None, severity="red"))
    assert whole.status_code == 201, whole.text
    part = client.post("/v1/warnings", headers=admin, json=_warning())   # x -300..300
    assert part.status_code == 201, part.text

    def in_force(x, y):
        lon, lat = _at(x, y)
        return [w["id"] for w in client.get(f"/v1/warnings/active?lon={lon}&lat={lat}").json()]

    assert in_force(500, 25) == [whole.json()["id"]]
    assert in_force(0, 25) == [part.json()["id"]]
    assert in_force(350, 25) == [] and in_force(500, 80) == []
