"""Smart cabinets: signed telemetry (tampering, replays, re-dating and floods refused) and
the device faults that take an AED out of ranking and coverage at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import EquipmentPoint, Region
from app.security import Role
from app.services.equipment import maintenance_list
from app.services.readiness import Readiness, assess_equipment
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_follow_ups import fetch_scenario
from tests.api.test_incidents_api import _body
from tests.api.test_walking_api import _at
from tests.conftest import auth
from tests.factories import OPERATOR, make_aed

_counter = iter(range(1, 10_000))


def _signed(key: str, body: dict, *, message_id: str | None = None,
            timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """Sign as a device would, independently of the server's code."""
    raw = json.dumps(body).encode()
    message_id = message_id or f"m-{next(_counter):06d}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(key.encode(), f"{message_id}.{timestamp}.".encode() + raw,
                      hashlib.sha256).hexdigest()
    return raw, {"X-Device-Message-Id": message_id, "X-Device-Timestamp": str(timestamp),
                 "X-Device-Signature": f"v1={digest}", "Content-Type": "application/json"}


class Device:
    def __init__(self, client, equipment_id: int, credentials: dict) -> None:
        self.client, self.equipment_id = client, equipment_id
        self.key, self.token = credentials["device_key"], credentials["token"]

    def send(self, body: dict, **signing):
        raw, headers = _signed(self.key, body, **signing)
        return self.client.post(f"/v1/equipment/{self.equipment_id}/telemetry", content=raw,
                                headers={**headers, "Authorization": f"Bearer {self.token}"})


def _device(client, city, aed) -> Device:
    issued = client.post(f"/v1/equipment/{aed.id}/device-credentials",
                         headers=auth(Role.community_admin, region_id=city.id))
    assert issued.status_code == 201, issued.text
    return Device(client, aed.id, issued.json())


def test_signed_telemetry_and_its_refusals(client, session, river):  # noqa: F811 - fixture
    city, _ = river
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    other = make_aed(session, city, 2, lon=_at(-200, 25)[0], lat=_at(-200, 25)[1])
    device = _device(client, city, aed)
    ok = device.send({"battery_pct": 91, "door_open": False, "self_test": "passed",
                      "temperature_c": 18.5})
    assert ok.status_code == 200, ok.text
    assert ok.json()["faults"] == []

    # tampered body: signed one thing, sent another
    raw, headers = _signed(device.key, {"battery_pct": 91})
    tampered = client.post(f"/v1/equipment/{aed.id}/telemetry", content=raw.replace(
        b"91", b"99"), headers={**headers, "Authorization": f"Bearer {device.token}"})
    assert tampered.status_code == 401 and tampered.json()["code"] == "bad_signature"
    assert tampered.json()["errors"][0]["field"] == "X-Device-Signature"
    # a wrong key
    impostor = Device(client, aed.id, {"device_key": "not-the-key", "token": device.token})
    assert impostor.send({"battery_pct": 50}).json()["code"] == "bad_signature"
    # a replay of an accepted message
    replay = device.send({"battery_pct": 90}, message_id="m-replay")
    assert replay.status_code == 200
    again = device.send({"battery_pct": 90}, message_id="m-replay")
    assert again.status_code == 409 and again.json()["code"] == "replayed"
    assert again.json()["errors"][0]["field"] == "X-Device-Message-Id"
    # re-dated: more than five minutes off, either way (by 10 s: a whole-second timestamp
    # and the request's own time made +301 s arrive as 299.x s now and then)
    for skew in (-310, 310):
        stale = device.send({"battery_pct": 90}, timestamp=int(time.time()) + skew)
        assert stale.status_code == 401 and stale.json()["code"] == "stale_timestamp"
    assert device.send({"battery_pct": 90}, message_id="bad id!").json()["code"] == (
        "bad_message_id")
    # well signed, badly formed
    bad = device.send({"battery_pct": 140})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "battery_pct"
    assert device.send({"lon": 117.2}).json()["errors"][0]["field"] == "lat"
    # the token speaks for one device only; people cannot post telemetry
    raw, headers = _signed(device.key, {"battery_pct": 90})
    assert client.post(f"/v1/equipment/{other.id}/telemetry", content=raw, headers={
        **headers, "Authorization": f"Bearer {device.token}"}).status_code == 404
    assert client.post(f"/v1/equipment/{aed.id}/telemetry", content=raw, headers={
        **headers, **auth(Role.city_admin, region_id=city.id)}).status_code == 403
    # new credentials revoke the old key
    renewed = _device(client, city, aed)
    assert Device(client, aed.id, {"device_key": device.key,
                                   "token": renewed.token}).send({}).status_code == 401
    assert renewed.send({}).status_code == 200


def test_rate_limit_per_device(client, session, river, settings):  # noqa: F811 - fixture
    city, _ = river
    settings.telemetry_max_per_minute = 3
    first = _device(client, city, make_aed(session, city, 1))
    second = _device(client, city, make_aed(session, city, 2))
    answers = [first.send({"door_open": False}).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    limited = first.send({})
    assert limited.headers["Retry-After"] == "60"
    assert second.send({}).status_code == 200     # the limit is per device


def _rank_aeds(client, city):
    ranked = client.post("/v1/dispatch/rank", headers=auth(Role.dispatcher, region_id=city.id),
                         json={"location": _body()["location"], "kind": "cardiac_arrest"})
    return [a["equipment_id"] for a in ranked.json()["aeds"]]


def _covered_share(client, city):
    body = client.get("/v1/coverage?region=river&minutes=4",
                      headers=auth(Role.auditor, region_id=city.id)).json()
    return next(r for r in body["rows"] if r["region_code"] == "river")["length_share"]


@pytest.mark.parametrize(("report", "fault"), [
    ({"door_open": True}, "door open: without an incident"),
    ({"self_test": "failed"}, "self-test failed"),
    ({"battery_pct": 12}, "battery low: 12 %"),
    ({"temperature_c": -5}, "temperature: -5 °C outside 0-50 °C"),
    ({"lon": _at(200, 300)[0], "lat": _at(200, 300)[1]}, "moved: 275 m"),
])
def test_faults_take_the_aed_out_at_once(client, session, river, report, fault):  # noqa: F811
    city, _ = river
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    device = _device(client, city, aed)
    assert device.send({"door_open": False, "self_test": "passed"}).json()["faults"] == []
    assert _rank_aeds(client, city) == [aed.id]
    covered = _covered_share(client, city)
    assert covered > 0

    faults = device.send(report).json()["faults"]
    assert len(faults) == 1 and faults[0].startswith(fault)
    assert _rank_aeds(client, city) == []
    assert _covered_share(client, city) == 0
    read = client.get(f"/v1/equipment/{aed.id}", headers=auth(Role.city_admin,
                                                               region_id=city.id)).json()
    assert read["readiness"]["state"] == "not_usable"
    assert read["readiness"]["reasons"][0].startswith(fault)
    maintenance = client.get("/v1/maintenance", headers=auth(Role.community_admin,
                                                              region_id=city.id)).json()
    assert [e["id"] for e in maintenance["items"]] == [aed.id]
    assert maintenance["items"][0]["readiness"]["actions"]

    # the next report that clears it puts the AED back at once
    cleared = dict.fromkeys(report)
    cleared.update({"door_open": False, "self_test": "passed", "battery_pct": 90,
                    "temperature_c": 20, "lon": _at(200, 25)[0], "lat": _at(200, 25)[1]})
    assert device.send(cleared).json()["faults"] == []
    assert _rank_aeds(client, city) == [aed.id]
    assert _covered_share(client, city) == pytest.approx(covered)


def test_door_opened_by_a_fetcher_is_no_fault(client, session, river):  # noqa: F811
    city, _, fetcher, aed = fetch_scenario(client, session, river)
    device = _device(client, city, aed)
    incident = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id),
                           json=_body()).json()["incident"]
    fetch = next(a for a in incident["assignments"] if a["role"] == "fetch_aed")
    client.post(f"/v1/assignments/{fetch['id']}/accept",
                headers=auth(Role.volunteer, volunteer_id=fetcher.id))
    assert device.send({"door_open": True}).json()["faults"] == []


def test_silence_makes_it_not_ready(client, session, river):  # noqa: F811 - fixture
    city, _ = river
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    plain = make_aed(session, city, 2, lon=_at(-200, 25)[0], lat=_at(-200, 25)[1])
    device = _device(client, city, aed)
    assert device.send({"self_test": "passed"}).status_code == 200
    session.rollback()
    session.expire_all()     # see what the request committed
    row = session.get(EquipmentPoint, aed.id)
    timezone = session.scalar(select(Region.timezone).where(Region.id == city.id))
    now = datetime.now(UTC)
    assert assess_equipment(row, timezone=timezone, at=now).state is Readiness.usable
    later = now + timedelta(hours=48, minutes=1)
    silent = assess_equipment(row, timezone=timezone, at=later)
    assert silent.state is Readiness.not_usable
    assert silent.reasons[0].startswith("no telemetry since")
    assert silent.actions == ["check the device's power and network connection"]
    # equipment without a device is not expected to report
    assert assess_equipment(session.get(EquipmentPoint, plain.id), timezone=timezone,
                            at=later).state is Readiness.usable
    assert [e.id for e in maintenance_list(session, OPERATOR, region_code="river",
                                           at=later)] == [aed.id]


def test_device_credentials_are_scoped(client, session, river):  # noqa: F811 - fixture
    city, community = river
    aed = make_aed(session, city, 1)
    outsider = auth(Role.community_admin, region_id=community.id)    # the AED is city-level
    assert client.post(f"/v1/equipment/{aed.id}/device-credentials",
                       headers=outsider).status_code == 404
    assert client.post(f"/v1/equipment/{aed.id}/device-credentials",
                       headers=auth(Role.dispatcher, region_id=city.id)).status_code == 403
    raw, headers = _signed("k", {})
    never_issued = make_aed(session, city, 2)
    from app.security import issue_token
    from tests.conftest import TEST_SECRET
    token = issue_token(secret_key=TEST_SECRET, role=Role.device,
                        subject=f"device:{never_issued.id}", region_id=city.id, ttl_s=60)
    refused = client.post(f"/v1/equipment/{never_issued.id}/telemetry", content=raw,
                          headers={**headers, "Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and refused.json()["code"] == "no_device_key"
