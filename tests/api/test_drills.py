"""Group drills: a certified trainer of a team (or a dispatcher) runs the whole flow for the
team's members only, as a test incident that takes no AED and earns drill hours."""

from __future__ import annotations

import json

from app.security import Role
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_incidents_api import _body
from tests.api.test_walking_api import _at
from tests.conftest import auth
from tests.factories import make_aed, make_team


def _drill_body(team, x=0, **extra):
    lon, lat = _at(x, 25)
    return {"team_id": team.id, "location": {"lon": lon, "lat": lat}, "address": "活动中心",
            **extra}


def _join(session, team, *volunteers, trainer=False):
    for volunteer in volunteers:
        volunteer.team_id = team.id
        if trainer:
            volunteer.roles = ["trainer"]
    session.commit()


def test_trainer_drills_own_team(client, session, river):  # noqa: F811 - fixture
    city, community = river
    team = make_team(session, community, "北岸急救队")
    other_team = make_team(session, community, "南岸急救队")
    trainer = _responder(session, community, 1, 50, 25)
    member_a = _responder(session, community, 2, -100, 25, ("cpr", "aed"))
    member_b = _responder(session, community, 3, 100, 25)
    off_duty = _responder(session, community, 4, 120, 25)
    stranger = _responder(session, community, 5, -50, 25)
    other_trainer = _responder(session, community, 6, 200, 25)
    _join(session, team, trainer, trainer=True)
    _join(session, team, member_a, member_b, off_duty)
    _join(session, other_team, other_trainer, trainer=True)
    for volunteer, x in ((trainer, 50), (member_a, -100), (member_b, 100), (stranger, -50)):
        _on_duty(client, volunteer, x, 25)
    aed = make_aed(session, city, 1, lon=_at(-150, 25)[0], lat=_at(-150, 25)[1])
    coach = auth(Role.volunteer, volunteer_id=trainer.id)

    refused = {
        member_a.id: "not_a_trainer",       # a member, but not a trainer
        other_trainer.id: "not_your_team",  # a trainer, of another team
    }
    for volunteer_id, code in refused.items():
        answer = client.post("/v1/drills", json=_drill_body(team),
                             headers=auth(Role.volunteer, volunteer_id=volunteer_id))
        assert answer.status_code == 403 and answer.json()["code"] == code
        assert answer.json()["errors"][0]["field"] == "team_id"
    assert client.post("/v1/drills", headers=coach,
                       json=_drill_body(team, kind="alien")).status_code == 422
    assert client.post("/v1/drills", headers=coach, json={**_drill_body(team),
                                                          "team_id": 999}).status_code == 404

    started = client.post("/v1/drills", headers=coach, json=_drill_body(team))
    assert started.status_code == 201, started.text
    drill = started.json()
    assert drill["address"] == "[DRILL] 活动中心" and drill["status"] == "open"
    alerted = {p["volunteer_id"]: p["role"] for p in drill["participants"]}
    assert alerted == {member_a.id: "fetch_aed", member_b.id: "direct"}   # members on duty
    # no walking times or distances: drills at chosen points would give away positions
    assert "eta_s" not in json.dumps(drill) and "distance" not in json.dumps(drill)
    console_view = client.get(f"/v1/incidents/{drill['id']}",
                              headers=auth(Role.dispatcher, region_id=city.id)).json()
    assert console_view["is_test"] is True
    assert all(a["distance_m"] > 0 for a in console_view["assignments"])

    # a drill is not a duplicate of a real incident nearby, nor the other way round
    console = auth(Role.dispatcher, region_id=city.id)
    real = client.post("/v1/incidents", headers=console, json=_body()).json()
    assert real["possible_duplicates"] == []
    # members busy with the drill are not alerted; the trainer running it is free
    assert {a["volunteer_id"] for a in real["incident"]["assignments"]} == {stranger.id,
                                                                            trainer.id}

    me = auth(Role.volunteer, volunteer_id=member_a.id)
    alert = client.get("/v1/volunteers/me/alerts", headers=me).json()[0]
    accepted = client.post(f"/v1/assignments/{alert['assignment_id']}/accept", headers=me)
    assert accepted.json()["aed_location"] is not None      # the route goes via the AED
    aeds = client.post("/v1/dispatch/rank", headers=console, json={
        "location": _body()["location"], "kind": "cardiac_arrest"}).json()["aeds"]
    assert [a["equipment_id"] for a in aeds] == [aed.id]     # still in service

    assert client.get(f"/v1/drills/{drill['id']}", headers=coach).status_code == 200
    assert client.get(f"/v1/drills/{drill['id']}", headers=me).status_code == 404
    assert client.get(f"/v1/drills/{real['incident']['id']}", headers=console).status_code == 404
    ended = client.post(f"/v1/drills/{drill['id']}/end", headers=coach, json={})
    assert ended.status_code == 200 and ended.json()["outcome"] == "drill_done"
    credited = {p["volunteer_id"]: p["credited_minutes"] for p in ended.json()["participants"]}
    assert credited == {member_a.id: 30, member_b.id: None}
    assert client.post(f"/v1/drills/{drill['id']}/end", headers=coach,
                       json={}).status_code == 409


def test_expired_trainer_cannot_drill_but_dispatcher_can(client, session, river):  # noqa: F811
    city, community = river
    team = make_team(session, community)
    trainer = _responder(session, community, 1, 50, 25, issued_days_ago=800)   # expired
    member = _responder(session, community, 2, -100, 25)
    _join(session, team, trainer, trainer=True)
    _join(session, team, member)
    _on_duty(client, member, -100, 25)
    refused = client.post("/v1/drills", json=_drill_body(team),
                          headers=auth(Role.volunteer, volunteer_id=trainer.id))
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_trainer"

    console = auth(Role.dispatcher, region_id=city.id)
    drill = client.post("/v1/drills", headers=console, json=_drill_body(team)).json()
    assert [p["volunteer_id"] for p in drill["participants"]] == [member.id]
    lonely = make_team(session, community, "空队")
    empty = client.post("/v1/drills", headers=console, json=_drill_body(lonely))
    assert empty.status_code == 422 and empty.json()["code"] == "empty_team"
