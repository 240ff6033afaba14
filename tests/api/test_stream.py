"""Server-sent events for the console and for a volunteer, resumable with Last-Event-ID."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select

from app.models import IncidentEvent, Region
from app.security import Role
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_walking_api import _at
from tests.conftest import auth
from tests.factories import make_incident


def _events(text: str) -> list[tuple[int, str, dict]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if ": " in line and not line.startswith(":"))
        if "id" in fields:
            out.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return out


def test_console_and_volunteer_streams(client, session, river):  # noqa: F811 - fixture
    city, community = river
    first = _responder(session, community, 1, 100, 25, ("trauma_bandaging",))
    second = _responder(session, community, 2, 200, 25, ("trauma_bandaging",))
    _on_duty(client, first, 100, 25)
    _on_duty(client, second, 200, 25)
    console = auth(Role.dispatcher, region_id=city.id)
    lon, lat = _at(0, 25)
    created = client.post("/v1/incidents", headers=console, json={
        "location": {"lon": lon, "lat": lat}, "kind": "trauma"})
    assert created.status_code == 201, created.text
    stream = client.get("/v1/incidents/stream?max_seconds=0.6", headers=console)
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = _events(stream.text)
    assert [kind for _, kind, _ in events] == ["created", "alerted", "alerted"]
    resumed = _events(client.get("/v1/incidents/stream?max_seconds=0.6", headers={
        **console, "Last-Event-ID": str(events[0][0])}).text)
    assert [e[0] for e in resumed] == [e[0] for e in events[1:]]
    # a dispatcher of the south district does not see the city's incident
    south = session.scalar(select(Region.id).where(Region.code == "south"))
    other = client.get("/v1/incidents/stream?max_seconds=0.6",
                       headers=auth(Role.dispatcher, region_id=south))
    assert other.status_code == 200 and _events(other.text) == []
    mine = _events(client.get("/v1/volunteers/me/alerts/stream?max_seconds=0.6",
                              headers=auth(Role.volunteer, volunteer_id=second.id)).text)
    assert [(kind, data["volunteer_id"]) for _, kind, data in mine] == [("alerted", second.id)]


def test_a_lower_id_committed_late_still_reaches_the_stream(client, session, river):  # noqa: F811
    """On PostgreSQL an event id is taken before its transaction commits, so a lower id can
    appear after a higher one was streamed; the stream must still send it."""
    city, _ = river
    incident = make_incident(session, city)
    console = auth(Role.dispatcher, region_id=city.id)

    def add(event_id: int) -> None:
        session.add(IncidentEvent(id=event_id, incident_id=incident.id, kind="note",
                                  at=datetime.now(UTC), data={}))
        session.commit()

    add(1000)
    received: list = []
    streaming = threading.Thread(target=lambda: received.append(client.get(
        "/v1/incidents/stream?max_seconds=1.6", headers=console).text))
    streaming.start()
    time.sleep(0.8)          # the stream has sent 1000 by now
    add(990)                 # ... and then a transaction that took 990 commits
    streaming.join()
    assert [event_id for event_id, _, _ in _events(received[0])] == [1000, 990]
