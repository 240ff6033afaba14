"""Incidents: creation with first alerts, idempotency, duplicates, the assignment life
cycle seen by the volunteer, closing."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.main import create_app
from app.schemas.incident import IncidentCreated, IncidentRead
from app.security import Role
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_walking_api import _at
from tests.conftest import auth
from tests.factories import make_aed


def _body(x=0, y=25, **extra):
    lon, lat = _at(x, y)
    return {"location": {"lon": lon, "lat": lat}, "kind": "cardiac_arrest",
            "address": "河城北岸路1号", "access_notes": "北门, 5楼", **extra}


def test_incident_life(client, session, river):  # noqa: F811 - fixture
    city, community = river
    nearest = _responder(session, community, 1, -100, 25)
    fetcher = _responder(session, community, 2, 300, 25, ("cpr", "aed"))
    _on_duty(client, nearest, -100, 25)
    _on_duty(client, fetcher, 300, 25)
    aed = make_aed(session, city, 1, lon=_at(200, 25)[0], lat=_at(200, 25)[1],
                   cabinet_pin="4921")
    console = {**auth(Role.dispatcher, region_id=city.id), "Idempotency-Key": "cad-0001"}

    created = client.post("/v1/incidents", headers=console, json=_body())
    assert created.status_code == 201, created.text
    body = created.json()
    incident = body["incident"]
    assert [a["volunteer_id"] for a in incident["assignments"]] == [nearest.id, fetcher.id]
    assert [e["kind"] for e in incident["timeline"]] == ["created", "alerted", "alerted"]
    assert incident["under_covered"] is False
    assert body["ranking"]["first_aed_eta_s"] is not None
    # the response is built from what was written: the same as reading it back; it is
    # serialised by the route itself, so it is checked against its declared model here
    assert client.get(f"/v1/incidents/{incident['id']}", headers=console).json() == incident
    assert created.headers["content-type"] == "application/json"
    assert IncidentCreated.model_validate(body).model_dump(mode="json") == body
    # a retry returns the first response; the same key with another body is refused
    retry = client.post("/v1/incidents", headers=console, json=_body())
    assert retry.status_code == 201 and retry.json()["incident"]["id"] == incident["id"]
    reused = client.post("/v1/incidents", headers=console, json=_body(kind="trauma"))
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"

    # a second call 20 m away: listed as a possible duplicate; everyone is busy now
    second = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id),
                         json=_body(x=20)).json()
    assert second["possible_duplicates"] == [incident["id"]]
    assert second["incident"]["assignments"] == []
    assert second["incident"]["under_covered"] is True

    # the fetcher sees only kind and distance until accepting
    me = auth(Role.volunteer, volunteer_id=fetcher.id)
    alerts = client.get("/v1/volunteers/me/alerts", headers=me).json()
    assert len(alerts) == 1 and "address" not in alerts[0]
    assignment_id = alerts[0]["assignment_id"]
    accepted = client.post(f"/v1/assignments/{assignment_id}/accept", headers=me).json()
    assert accepted["status"] == "accepted" and accepted["address"] == "河城北岸路1号"
    assert accepted["cabinet_pin"] == "4921" and accepted["aed_location"] is not None
    again = client.post(f"/v1/assignments/{assignment_id}/accept", headers=me)
    assert again.status_code == 200 and again.json()["status"] == "accepted"
    late_decline = client.post(f"/v1/assignments/{assignment_id}/decline", headers=me)
    assert late_decline.status_code == 409
    assert late_decline.json()["code"] == "invalid_transition"
    assert client.post(f"/v1/assignments/{assignment_id}/arrive",
                       headers=me).json()["status"] == "arrived"
    # another volunteer cannot touch it
    other = auth(Role.volunteer, volunteer_id=nearest.id)
    assert client.post(f"/v1/assignments/{assignment_id}/release",
                       headers=other).status_code == 404

    closed = client.post(f"/v1/incidents/{incident['id']}/close", headers=console,
                         json={"outcome": "transported"})
    assert closed.status_code == 200, closed.text
    assert IncidentRead.model_validate(closed.json()).model_dump(mode="json") == closed.json()
    assert client.get(f"/v1/incidents/{incident['id']}", headers=console).json() \
        == closed.json()
    final = {a["volunteer_id"]: a["status"] for a in closed.json()["assignments"]}
    assert final == {nearest.id: "cancelled", fetcher.id: "released"}
    after = [e["kind"] for e in closed.json()["timeline"]]
    assert after[after.index("closed") + 1:] == ["hours_credited", "check_in_requested",
                                                 "aed_check_requested"]
    twice = client.post(f"/v1/incidents/{incident['id']}/close", headers=console,
                        json={"outcome": "transported"})
    assert twice.status_code == 409
    listed = client.get("/v1/incidents?status=open", headers=console).json()
    assert [i["id"] for i in listed["items"]] == [second["incident"]["id"]]
    # a page of incidents carries each one's own assignments and timeline
    everything = client.get("/v1/incidents", headers=console).json()["items"]
    assert [len(i["assignments"]) for i in everything] == [0, 2]
    assert all(e["kind"] != "closed" for e in everything[0]["timeline"])
    assert everything[1]["timeline"] == closed.json()["timeline"]
    assert aed.id == body["ranking"]["responders"][1]["aed_id"]
    eido = client.get(f"/v1/incidents/{incident['id']}/eido", headers=console).json()
    component = eido["incidentComponent"][0]
    assert component["incidentStatusCommonRegistryText"] == "Closed"
    assert component["incidentDispositionCommonRegistryText"] == "transported"
    kinds = sorted(r["resourceTypeCommonRegistryText"] for r in eido["emergencyResourceComponent"])
    assert kinds == ["AED", "Lay Responder", "Lay Responder"]
    assert eido["locationComponent"][0]["locationByValue"]["coordinates"][0] == pytest.approx(
        _at(0, 25)[0], abs=1e-7)
    assert len(eido["notesComponent"]) == len(closed.json()["timeline"])


def test_incident_bad_input(client, session, river):  # noqa: F811 - fixture
    city, _ = river
    console = auth(Role.dispatcher, region_id=city.id)
    assert client.post("/v1/incidents", headers=console,
                       json=_body(kind="alien")).status_code == 422
    assert client.post("/v1/incidents", headers=console,
                       json={**_body(), "extra": 1}).status_code == 422
    assert client.get("/v1/incidents/999", headers=console).status_code == 404
    volunteer = auth(Role.volunteer, volunteer_id=1)
    assert client.post("/v1/incidents", headers=volunteer, json=_body()).status_code == 403
    assert client.post("/v1/assignments/1/fly", headers=volunteer).status_code == 422


@pytest.mark.usefixtures("river")
def test_incident_needs_a_network(client, session):
    from app.services.regions import create_city

    lonely = create_city(session, code="lonely", name="无网")
    session.commit()
    far = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=lonely.id),
                      json={"location": {"lon": 100.0, "lat": 30.0}, "kind": "cardiac_arrest"})
    assert far.status_code == 422 and far.json()["code"] == "outside_service_area"


def test_volunteer_drill(client, session, river):  # noqa: F811 - fixture
    city, community = river
    volunteer = _responder(session, community, 1, 100, 25)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    drill = client.post("/v1/volunteers/me/test-alert", headers=me)
    assert drill.status_code == 201, drill.text
    assert drill.json()["is_test"] is True and drill.json()["status"] == "alerted"
    accepted = client.post(f"/v1/assignments/{drill.json()['assignment_id']}/accept",
                           headers=me).json()
    assert accepted["address"].startswith("[TEST]")
    # busy with the drill: a second one is refused; real incident lists exclude drills
    assert client.post("/v1/volunteers/me/test-alert", headers=me).status_code == 409
    console = auth(Role.dispatcher, region_id=city.id)
    real = client.get("/v1/incidents?is_test=false", headers=console).json()
    assert real["total"] == 0
    assert client.get("/v1/incidents?is_test=true", headers=console).json()["total"] == 1


def test_concurrent_retries_create_one_incident(client, session, river):  # noqa: F811
    """The ranking runs before the write transaction, so two retries can both get past
    the first look-up; the second look-up inside the write keeps it to one incident."""
    city, community = river
    for n, x in enumerate((-100, 100, 200), start=1):
        _on_duty(client, _responder(session, community, n, x, 25), x, 25)
    console = {**auth(Role.dispatcher, region_id=city.id), "Idempotency-Key": "cad-race"}
    barrier = threading.Barrier(8)
    answers: list = []

    def create() -> None:
        barrier.wait()
        answers.append(client.post("/v1/incidents", headers=console, json=_body()))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.json()["incident"]["id"] for a in answers}) == 1
    listed = client.get("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id))
    assert listed.json()["total"] == 1
    assert len(listed.json()["items"][0]["assignments"]) == 3


def test_close_answers_without_a_body_when_asked(client, session, river):  # noqa: F811
    city, community = river
    responder = _responder(session, community, 1, -100, 25)
    _on_duty(client, responder, -100, 25)
    console = auth(Role.dispatcher, region_id=city.id)
    incident = client.post("/v1/incidents", headers=console, json=_body()).json()["incident"]
    assert [a["volunteer_id"] for a in incident["assignments"]] == [responder.id]

    closed = client.post(f"/v1/incidents/{incident['id']}/close",
                         headers={**console, "Prefer": "handling=lenient, return=minimal"},
                         json={"outcome": "false_alarm"})
    assert closed.status_code == 204 and closed.content == b""
    assert closed.headers["preference-applied"] == "return=minimal"
    # the close happened in full: what a closing with a body would have shown
    after = client.get(f"/v1/incidents/{incident['id']}", headers=console).json()
    assert after["status"] == "closed" and after["outcome"] == "false_alarm"
    assert [a["status"] for a in after["assignments"]] == ["cancelled"]
    assert [e["kind"] for e in after["timeline"]][-2:] == ["cancelled", "closed"]
    # any other preference gets the usual answer (here: already closed)
    again = client.post(f"/v1/incidents/{incident['id']}/close",
                        headers={**console, "Prefer": "return=representation"},
                        json={"outcome": "false_alarm"})
    assert again.status_code == 409


def test_prefer_header_parsing():
    from app.responses import prefers_minimal

    assert prefers_minimal("return=minimal")
    assert prefers_minimal("respond-async, Return = Minimal; foo=bar")
    assert not prefers_minimal(None)
    assert not prefers_minimal("return=representation")
    assert not prefers_minimal("return=minimalist")


def test_the_calls_of_an_emergency_run_their_sql_where_their_database_wants_it(
        settings, session, river):  # noqa: F811 - fixture
    """Ranking, creating and closing an incident and a responder's answer are coroutines:
    on SQLite their statements run in the event loop itself (no thread competes with a
    writer holding the write lock); on PostgreSQL, where each statement is a round trip,
    in worker threads, never in the loop."""
    city, community = river
    in_loop: list[bool] = []

    def note_where(*_args) -> None:
        try:
            asyncio.get_running_loop()
            in_loop.append(True)
        except RuntimeError:
            in_loop.append(False)

    quiet = settings.model_copy(update={"escalation_interval_s": 0})  # no sweep's thread
    with TestClient(create_app(quiet)) as client:
        for n, x in enumerate((-100, 100), start=1):
            _on_duty(client, _responder(session, community, n, x, 25), x, 25)
        engine = client.app.state.engine
        event.listen(engine, "before_cursor_execute", note_where)
        console = auth(Role.dispatcher, region_id=city.id)
        ranked = client.post("/v1/dispatch/rank", headers=console,
                             json={"location": _body()["location"], "kind": "cardiac_arrest"})
        created = client.post("/v1/incidents", headers=console, json=_body())
        assignments = created.json()["incident"]["assignments"]
        answers = [client.post(f"/v1/assignments/{a['id']}/{action}",
                               headers=auth(Role.volunteer, volunteer_id=a["volunteer_id"]))
                   for a, action in zip(assignments, ("accept", "decline"), strict=True)]
        closed = client.post(f"/v1/incidents/{created.json()['incident']['id']}/close",
                             headers=console, json={"outcome": "transported"})
        event.remove(engine, "before_cursor_execute", note_where)
    assert [r.status_code for r in (ranked, created, *answers, closed)] == \
        [200, 201, 200, 200, 200]
    assert len(in_loop) > 10
    assert set(in_loop) == {engine.dialect.name == "sqlite"}
