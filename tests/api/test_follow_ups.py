"""After an incident: service hours, responder check-ins, the check of every fetched AED
(kept out of dispatch until then), and drills that earn hours only when a trainer or
dispatcher runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict
from app.models import EquipmentPoint
from app.security import Role
from app.services.service_hours import minutes_served
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_incidents_api import _body
from tests.api.test_walking_api import _at
from tests.conftest import auth
from tests.factories import make_aed


def test_minutes_served_rounds_up_with_a_minimum():
    start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    served = [minutes_served(start, start + timedelta(minutes=m), round_to=15, minimum=30)
              for m in (0, 29, 31, 45, 46.5, 120)]
    assert served == [30, 30, 45, 45, 60, 120]


def _aed_status(session, aed_id):
    session.rollback()  # a fresh snapshot of what the requests committed
    return session.scalar(select(EquipmentPoint.status).where(EquipmentPoint.id == aed_id))


def fetch_scenario(client, session, river):  # noqa: F811 - fixture value
    """A responder near the patient, one who can fetch the AED on the way, and the AED:
    a cardiac arrest at (0, 25) sends the first direct and the second via the AED."""
    city, community = river
    direct = _responder(session, community, 1, -100, 25)
    fetcher = _responder(session, community, 2, 300, 25, ("cpr", "aed"))
    _on_duty(client, direct, -100, 25)
    _on_duty(client, fetcher, 300, 25)
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    return city, direct, fetcher, aed


def _accept_all(client, volunteers):
    for volunteer in volunteers:
        me = auth(Role.volunteer, volunteer_id=volunteer.id)
        for alert in client.get("/v1/volunteers/me/alerts", headers=me).json():
            assert client.post(f"/v1/assignments/{alert['assignment_id']}/accept",
                               headers=me).status_code == 200


def test_close_credits_hours_and_asks_follow_ups(client, session, river):  # noqa: F811
    city, community = river
    direct = _responder(session, community, 1, -100, 25)
    fetcher = _responder(session, community, 2, 300, 25, ("cpr", "aed"))
    bystander = _responder(session, community, 3, -150, 25)     # alerted, never answers
    for volunteer, x in ((direct, -100), (fetcher, 300), (bystander, -150)):
        _on_duty(client, volunteer, x, 25)
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    console = auth(Role.dispatcher, region_id=city.id)
    incident = client.post("/v1/incidents", headers=console, json=_body()).json()["incident"]
    assert {a["volunteer_id"] for a in incident["assignments"]} == {
        direct.id, fetcher.id, bystander.id}
    _accept_all(client, [direct, fetcher])

    # the fetched AED has left its cabinet: no other incident is sent to it
    assert _aed_status(session, aed.id) == "in_use"
    rank = client.post("/v1/dispatch/rank", headers=console,
                       json={"location": _body(x=150)["location"], "kind": "cardiac_arrest"})
    assert aed.id not in [a["equipment_id"] for a in rank.json()["aeds"]]

    closed = client.post(f"/v1/incidents/{incident['id']}/close", headers=console,
                         json={"outcome": "rosc"}).json()
    # the response is built from what the close wrote: it equals a read-back
    assert closed == client.get(f"/v1/incidents/{incident['id']}", headers=console).json()
    assert [e["kind"] for e in closed["timeline"]][-1] == "aed_check_requested"
    credited = {e["volunteer_id"]: e["data"]["minutes"] for e in closed["timeline"]
                if e["kind"] == "hours_credited"}
    assert credited == {direct.id: 30, fetcher.id: 30}       # the minimum; never the silent
    for volunteer, minutes in ((direct, 30), (fetcher, 30), (bystander, 0)):
        me = auth(Role.volunteer, volunteer_id=volunteer.id)
        summary = client.get("/v1/volunteers/me/service", headers=me).json()
        assert summary == {"volunteer_id": volunteer.id, "earned_minutes": minutes,
                           "balance_minutes": minutes}
    ledger = client.get("/v1/volunteers/me/service/entries",
                        headers=auth(Role.volunteer, volunteer_id=direct.id)).json()
    assert [(e["source"], e["source_id"], e["minutes"]) for e in ledger["items"]] == [
        ("incident", incident["id"], 30)]

    # each responder who took part is asked how they are, once
    me = auth(Role.volunteer, volunteer_id=fetcher.id)
    pending = client.get("/v1/volunteers/me/check-ins?status=pending", headers=me).json()
    assert pending["total"] == 1 and pending["items"][0]["incident_id"] == incident["id"]
    assert client.get("/v1/volunteers/me/check-ins", headers=auth(
        Role.volunteer, volunteer_id=bystander.id)).json()["total"] == 0
    check_in = pending["items"][0]["id"]
    other = auth(Role.volunteer, volunteer_id=direct.id)
    answer = {"wellbeing": "distressed", "wants_debrief": True, "note": "想聊聊"}
    assert client.post(f"/v1/volunteers/me/check-ins/{check_in}", headers=other,
                       json=answer).status_code == 404
    bad = client.post(f"/v1/volunteers/me/check-ins/{check_in}", headers=me,
                      json={**answer, "wellbeing": "meh"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "wellbeing"
    answered = client.post(f"/v1/volunteers/me/check-ins/{check_in}", headers=me, json=answer)
    assert answered.status_code == 200 and answered.json()["answer"]["wants_debrief"] is True
    again = client.post(f"/v1/volunteers/me/check-ins/{check_in}", headers=me, json=answer)
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    timeline = client.get(f"/v1/incidents/{incident['id']}", headers=console).json()["timeline"]
    support = [e for e in timeline if e["kind"] == "support_requested"]
    assert [(e["volunteer_id"], e["data"]) for e in support] == [
        (fetcher.id, {"follow_up_id": check_in})]       # how they feel stays off the timeline
    answers = client.get("/v1/follow-ups?kind=responder_checkin&status=answered",
                         headers=auth(Role.community_admin, region_id=city.id)).json()
    assert [a["answer"]["wellbeing"] for a in answers["items"]] == ["distressed"]

    # the AED's owner checks it: pads used → maintenance list, not back in dispatch
    admin = auth(Role.community_admin, region_id=city.id)
    checks = client.get("/v1/follow-ups?kind=aed_check&status=pending", headers=admin).json()
    assert [c["equipment_id"] for c in checks["items"]] == [aed.id]
    check_id = checks["items"][0]["id"]
    assert client.post(f"/v1/follow-ups/{check_id}/aed-check", headers=console,
                       json={"pads_used": True, "returned": True,
                             "working": True}).status_code == 403
    done = client.post(f"/v1/follow-ups/{check_id}/aed-check", headers=admin,
                       json={"pads_used": True, "returned": True, "working": True})
    assert done.status_code == 200 and done.json()["status"] == "answered"
    assert _aed_status(session, aed.id) == "needs_service"
    assert client.post(f"/v1/follow-ups/{check_id}/aed-check", headers=admin,
                       json={"pads_used": False, "returned": True,
                             "working": True}).status_code == 409
    assert client.post(f"/v1/follow-ups/{check_in}/aed-check", headers=admin,
                       json={"pads_used": False, "returned": True,
                             "working": True}).status_code == 404


def test_aed_back_in_service_after_a_clean_check(client, session, river):  # noqa: F811
    city, _, fetcher, aed = fetch_scenario(client, session, river)
    console = auth(Role.dispatcher, region_id=city.id)
    incident = client.post("/v1/incidents", headers=console, json=_body()).json()["incident"]
    assert [a["equipment_id"] for a in incident["assignments"]] == [None, aed.id]
    _accept_all(client, [fetcher])
    client.post(f"/v1/incidents/{incident['id']}/close", headers=console,
                json={"outcome": "false_alarm"})
    admin = auth(Role.city_admin, region_id=city.id)
    check = client.get("/v1/follow-ups?kind=aed_check", headers=admin).json()["items"][0]
    client.post(f"/v1/follow-ups/{check['id']}/aed-check", headers=admin,
                json={"pads_used": False, "returned": True, "working": True})
    assert _aed_status(session, aed.id) == "available"
    assert session.scalar(select(EquipmentPoint.last_verified_on).where(
        EquipmentPoint.id == aed.id)) == datetime.now(UTC).date()
    rank = client.post("/v1/dispatch/rank", headers=console,
                       json={"location": _body()["location"], "kind": "cardiac_arrest"})
    assert [a["equipment_id"] for a in rank.json()["aeds"]] == [aed.id]


def test_drills_earn_hours_only_when_organised(client, session, river):  # noqa: F811
    city, community = river
    volunteer = _responder(session, community, 1, 100, 25, ("cpr", "aed"))
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1])
    console = auth(Role.dispatcher, region_id=city.id)

    own = client.post("/v1/volunteers/me/test-alert", headers=me).json()
    client.post(f"/v1/assignments/{own['assignment_id']}/accept", headers=me)
    client.post(f"/v1/incidents/{own['incident_id']}/close", headers=console,
                json={"outcome": "drill_done"})
    assert client.get("/v1/volunteers/me/service", headers=me).json()["earned_minutes"] == 0

    _on_duty(client, volunteer, 100, 25)
    drill = client.post("/v1/incidents", headers=console,
                        json=_body(is_test=True)).json()["incident"]
    _accept_all(client, [volunteer])
    assert _aed_status(session, aed.id) == "available"   # drills take no AED
    closed = client.post(f"/v1/incidents/{drill['id']}/close", headers=console,
                         json={"outcome": "drill_done"}).json()
    kinds = [e["kind"] for e in closed["timeline"]]
    assert "hours_credited" in kinds and "check_in_requested" not in kinds
    assert client.get("/v1/volunteers/me/service", headers=me).json()["earned_minutes"] == 30
    entries = client.get("/v1/volunteers/me/service/entries", headers=me).json()["items"]
    assert [(e["source"], e["source_id"]) for e in entries] == [("drill", drill["id"])]


def test_aed_of_a_fetcher_stood_down_is_still_checked(client, session, river):  # noqa: F811
    city, _, fetcher, aed = fetch_scenario(client, session, river)
    console = auth(Role.dispatcher, region_id=city.id)
    incident = client.post("/v1/incidents", headers=console, json=_body()).json()["incident"]
    _accept_all(client, [fetcher])
    assert _aed_status(session, aed.id) == "in_use"
    # the fetcher goes off duty with the AED (or having left it somewhere): stood down
    me = auth(Role.volunteer, volunteer_id=fetcher.id)
    assert client.put("/v1/volunteers/me/duty", headers=me,
                      json={"on_duty": False}).status_code == 200
    closed = client.post(f"/v1/incidents/{incident['id']}/close", headers=console,
                         json={"outcome": "transported"}).json()
    assert {a["volunteer_id"]: a["status"] for a in closed["assignments"]}[fetcher.id] == (
        "cancelled")
    checks = client.get("/v1/follow-ups?kind=aed_check", headers=auth(
        Role.city_admin, region_id=city.id)).json()
    assert [c["equipment_id"] for c in checks["items"]] == [aed.id]


def test_a_close_read_before_responders_answered_still_credits_them(
        client, session, settings, river):  # noqa: F811
    """A close reads the incident and its assignments before it takes the write lock. A
    responder who accepts in between is released and credited, not cancelled as the read
    said; one who declines in between stays declined; the closed incident is not closed
    again from the same reading."""
    from app.db import transaction
    from app.models.base import utcnow
    from app.security import Principal
    from app.services.incidents import close, read_for_closing

    city, community = river
    first = _responder(session, community, 1, -100, 25)
    second = _responder(session, community, 3, -150, 25)
    for volunteer, x in ((first, -100), (second, -150)):
        _on_duty(client, volunteer, x, 25)
    console = auth(Role.dispatcher, region_id=city.id)
    dispatcher = Principal(role=Role.dispatcher, subject="test", region_id=city.id,
                           region_path=city.path)
    factory = client.app.state.sessionmaker

    def close_after(answer) -> tuple[dict[int, str], list[tuple[str, int]]]:
        incident = client.post("/v1/incidents", headers=console, json=_body()).json()
        incident_id = incident["incident"]["id"]
        with transaction(factory, write=False) as reading:
            closing = read_for_closing(reading, incident_id, dispatcher)
        assert {a.status for a in closing.assignments} == {"alerted"}
        answer()  # after the read, before the close
        with transaction(factory) as tx:
            closed = close(tx, settings, closing, by="test", outcome="rosc", now=utcnow())
        status = {a.volunteer_id: a.status for a in closed.assignments}
        read_back = client.get(f"/v1/incidents/{incident_id}", headers=console).json()
        assert {a["volunteer_id"]: a["status"] for a in read_back["assignments"]} == status
        with pytest.raises(Conflict), transaction(factory) as tx:
            close(tx, settings, closing, by="test", outcome="rosc", now=utcnow())
        return status, [(e["kind"], e["volunteer_id"]) for e in read_back["timeline"]
                        if e["kind"] in ("released", "cancelled", "hours_credited")]

    # what the close's own UPDATE returned brings the read assignments up to date
    assert close_after(lambda: _accept_all(client, [first])) == (
        {first.id: "released", second.id: "cancelled"},
        [("released", first.id), ("cancelled", second.id), ("hours_credited", first.id)])

    # an assignment that ended in between makes the close read them all again
    def first_declines_second_accepts() -> None:
        me = auth(Role.volunteer, volunteer_id=first.id)
        alert, = client.get("/v1/volunteers/me/alerts", headers=me).json()
        assert client.post(f"/v1/assignments/{alert['assignment_id']}/decline",
                           headers=me).status_code == 200
        _accept_all(client, [second])

    assert close_after(first_declines_second_accepts) == (
        {first.id: "declined", second.id: "released"},
        [("released", second.id), ("hours_credited", second.id)])
