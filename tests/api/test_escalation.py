"""Escalation with a controlled clock: declines and silent alerts are replaced by the next
best responder; when nobody is left within the budget it widens (4 -> 8 min) and the
incident is marked under-covered. Every step is in the timeline."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.live.state import Fix
from app.main import create_app
from app.models import Assignment, Incident
from app.models.base import utcnow
from app.schemas.common import PointIn
from app.schemas.incident import IncidentCreate
from app.security import Principal, Role
from app.services import incidents as service
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_walking_api import _at
from tests.conftest import auth


@pytest.fixture
def app_one_alert(settings, engine):
    app = create_app(settings.model_copy(update={"dispatch_alert_count": 1,
                                                 "escalation_interval_s": 0}))
    with TestClient(app) as client:
        yield client


def _statuses(session, incident_id):
    rows = session.query(Assignment).filter_by(incident_id=incident_id).order_by(Assignment.id)
    return [(a.volunteer_id, a.status) for a in rows]


def test_replace_timeout_and_widen(app_one_alert, session, river):  # noqa: F811
    client = app_one_alert
    city, community = river
    # trauma: no AED needed, so the incident starts fully covered
    people = [_responder(session, community, n, x, 25, ("trauma_bandaging",))
              for n, x in enumerate((100, 200, 300, 600), start=1)]
    for volunteer, x in zip(people, (100, 200, 300, 600), strict=True):
        _on_duty(client, volunteer, x, 25)
    state, settings = client.app.state, client.app.state.settings
    principal = Principal(role=Role.dispatcher, subject="console", region_id=city.id,
                          region_path=city.path)
    t0 = utcnow()
    lon, lat = _at(0, 25)
    created = service.create_incident(session, state.networks, state.live, settings, principal,
                                      IncidentCreate(location=PointIn(lon=lon, lat=lat),
                                                     kind="trauma"), now=t0)
    session.commit()
    incident_id = created.incident.id
    first, second, third, far = (p.id for p in people)
    assert _statuses(session, incident_id) == [(first, "alerted")]

    # the first declines through the API: replaced at once by the next best
    assignment = session.query(Assignment).filter_by(volunteer_id=first).one()
    declined = client.post(f"/v1/assignments/{assignment.id}/decline",
                           headers=auth(Role.volunteer, volunteer_id=first))
    assert declined.status_code == 200
    session.commit()  # end the read transaction: see what the API committed
    session.expire_all()
    assert _statuses(session, incident_id) == [(first, "declined"), (second, "alerted")]

    # 59 s later nothing happens; at 60 s the silent alert times out and is replaced
    alerted_at = session.query(Assignment).filter_by(volunteer_id=second).one().alerted_at
    incident = session.get(Incident, incident_id)
    service.escalate(session, state.networks, state.live, settings, incident,
                     now=alerted_at + timedelta(seconds=59))
    assert _statuses(session, incident_id)[-1] == (second, "alerted")
    t1 = alerted_at + timedelta(seconds=60)
    service.escalate(session, state.networks, state.live, settings, incident, now=t1)
    session.commit()
    assert _statuses(session, incident_id)[-2:] == [(second, "timed_out"), (third, "alerted")]
    assert incident.under_covered is False

    # the third stays silent too; the fourth (still reporting) is 339 s away: the budget
    # widens to 8 min
    t2 = t1 + timedelta(seconds=60)
    far_lon, far_lat = _at(600, 25)
    state.live.record_fix(far, Fix(lon=far_lon, lat=far_lat, accuracy_m=8, recorded_at=t2),
                          received_at=t2)
    service.escalate(session, state.networks, state.live, settings, incident, now=t2)
    session.commit()
    assert _statuses(session, incident_id)[-2:] == [(third, "timed_out"), (far, "alerted")]
    assert incident.budget_s == 480 and incident.under_covered is True
    kinds = [e.kind for e in service.timeline_of(session, incident)]
    assert kinds == ["created", "alerted", "declined", "replacement_alerted", "timed_out",
                     "replacement_alerted", "timed_out", "widened", "under_covered",
                     "replacement_alerted"]
    # the sweep finds nothing more to do once every alert is fresh
    assert service.open_incidents_needing_attention(session, settings,
                                                    now=t1 + timedelta(seconds=61)) == []


def _trauma_with_backup(client, session, river):  # noqa: F811 - fixture value
    """A trauma call with the nearest responder alerted (one alert) and a backup free."""
    city, community = river
    near = _responder(session, community, 1, 100, 25, ("trauma_bandaging",))
    backup = _responder(session, community, 2, 200, 25, ("trauma_bandaging",))
    _on_duty(client, near, 100, 25)
    _on_duty(client, backup, 200, 25)
    lon, lat = _at(0, 25)
    created = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id),
                          json={"location": {"lon": lon, "lat": lat}, "kind": "trauma"})
    return near, backup, created.json()["incident"]["id"]


def test_off_duty_stands_down_and_replaces(app_one_alert, session, river):  # noqa: F811
    client = app_one_alert
    near, backup, incident_id = _trauma_with_backup(client, session, river)
    assert _statuses(session, incident_id) == [(near.id, "alerted")]
    off = client.put("/v1/volunteers/me/duty", headers=auth(Role.volunteer, volunteer_id=near.id),
                     json={"on_duty": False})
    assert off.status_code == 200
    session.commit()
    session.expire_all()
    assert _statuses(session, incident_id) == [(near.id, "cancelled"), (backup.id, "alerted")]
    incident = session.get(Incident, incident_id)
    stood = [e for e in service.timeline_of(session, incident) if e.kind == "stood_down"]
    assert [(e.volunteer_id, e.data["reason"]) for e in stood] == [(near.id, "off_duty")]


def test_moving_out_of_reach_stands_down(app_one_alert, session, river):  # noqa: F811
    client = app_one_alert
    mover, _, incident_id = _trauma_with_backup(client, session, river)
    me = auth(Role.volunteer, volunteer_id=mover.id)
    # a little closer: still on it
    near_lon, near_lat = _at(90, 25)
    fix = {"lon": near_lon, "lat": near_lat, "accuracy_m": 5,
           "recorded_at": utcnow().isoformat()}
    assert client.put("/v1/volunteers/me/location", headers=me, json=fix).status_code == 200
    session.commit()
    session.expire_all()
    assert _statuses(session, incident_id) == [(mover.id, "alerted")]
    # 900 m away along the bank (walked there within the plausible speed): out of reach
    # of a 240 s budget x 1.5 at 1.8 m/s (648 m)
    live = client.app.state.live
    t = utcnow() + timedelta(seconds=60)
    far_lon, far_lat = _at(-800, 25)
    live.record_fix(mover.id, Fix(lon=far_lon, lat=far_lat, accuracy_m=5, recorded_at=t),
                    received_at=t)
    state = client.app.state
    far = service.out_of_reach(session, state.networks, mover.id, lon=far_lon, lat=far_lat, now=t,
                       max_snap_m=250)
    assert [i.id for i in far] == [incident_id]
    session.commit()
    assert _statuses(session, incident_id) == [(mover.id, "cancelled")]
    reasons = [e.data.get("reason") for e in service.timeline_of(session, far[0])
               if e.kind == "stood_down"]
    assert reasons == ["out_of_reach"]


def test_idle_sweep_takes_no_write_lock(app_one_alert, session, river, engine):  # noqa: F811
    """With nothing to do the sweep only reads, so requests never queue behind it."""
    from app.escalation import sweep_once

    writer = engine.raw_connection()
    try:
        cursor = writer.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            for table in ("incident", "assignment", "webhook", "risk_warning", "delivery_cursor"):
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        started = time.monotonic()
        assert sweep_once(app_one_alert.app) == 0
        assert time.monotonic() - started < 5
    finally:
        writer.rollback()
        writer.close()



def _rank_trauma(client, session, city, settings):
    """A dispatcher's trauma call on the river's bank, ranked before it is stored (as
    incident creation does, outside its write transaction)."""
    state = client.app.state
    principal = Principal(role=Role.dispatcher, subject="console", region_id=city.id,
                          region_path=city.path)
    lon, lat = _at(0, 25)
    data = IncidentCreate(location=PointIn(lon=lon, lat=lat), kind="trauma")
    now = utcnow()
    ranked = service.rank_new_incident(session, state.networks, state.live, settings,
                                       principal, data, now=now)
    return principal, data, now, ranked

def test_responder_claimed_since_the_ranking_is_skipped(client, session, river):  # noqa: F811
    """Incident creation ranks before its write transaction: a responder claimed by another
    incident in between is skipped (on the timeline), the others are still alerted."""
    city, community = river
    people = [_responder(session, community, n, x, 25, ("trauma_bandaging",))
              for n, x in enumerate((100, 200, 300), start=1)]
    for volunteer, x in zip(people, (100, 200, 300), strict=True):
        _on_duty(client, volunteer, x, 25)
    state, settings = client.app.state, client.app.state.settings.model_copy(
        update={"dispatch_alert_count": 2})
    principal, data, now, ranked = _rank_trauma(client, session, city, settings)
    assert [v.id for v in ranked.volunteers][:2] == [people[0].id, people[1].id]
    other = service.create_incident(session, state.networks, state.live, settings.model_copy(
        update={"dispatch_alert_count": 1}), principal, data, now=now)   # takes the nearest
    created = service.open_incident(session, settings, data, ranked, created_by="console",
                                    alert_count=2, now=now)
    session.commit()
    assert _statuses(session, other.incident.id) == [(people[0].id, "alerted")]
    assert _statuses(session, created.incident.id) == [(people[1].id, "alerted")]
    skipped = [e.volunteer_id for e in service.timeline_of(session, created.incident)
               if e.kind == "skipped_busy"]
    assert skipped == [people[0].id]
    # the ranking held two; the next sweep alerts the next best in place of the skipped
    service.escalate(session, state.networks, state.live, settings, created.incident, now=now)
    assert _statuses(session, created.incident.id) == [(people[1].id, "alerted"),
                                                        (people[2].id, "alerted")]



def test_incident_whose_ranked_are_all_claimed_is_stored_under_covered(
        client, session, river):  # noqa: F811
    city, community = river
    only = _responder(session, community, 1, 100, 25, ("trauma_bandaging",))
    _on_duty(client, only, 100, 25)
    state, settings = client.app.state, client.app.state.settings
    principal, data, now, ranked = _rank_trauma(client, session, city, settings)
    assert [v.id for v in ranked.volunteers] == [only.id]
    service.create_incident(session, state.networks, state.live, settings, principal, data,
                            now=now)  # takes the only responder
    created = service.open_incident(session, settings, data, ranked, created_by="console",
                                    alert_count=2, now=now)
    session.commit()
    assert created.assignments == [] and created.incident.under_covered is True
    stored = client.get(f"/v1/incidents/{created.incident.id}",
                        headers=auth(Role.dispatcher, region_id=city.id)).json()
    assert stored["under_covered"] is True and stored["assignments"] == []
    assert [e["kind"] for e in stored["timeline"]] == ["created", "skipped_busy",
                                                       "under_covered"]

def test_a_slow_sweep_takes_no_request_thread(settings, engine, monkeypatch, river):  # noqa: F811
    """A sweep waits on webhooks and WeChat; with one request handler thread, a request
    is still served meanwhile (the sweep runs in a thread of its own)."""
    import threading

    from app import escalation

    city, _ = river
    in_sweep, release = threading.Event(), threading.Event()

    def slow_sweep(app, *, now=None):
        in_sweep.set()
        release.wait(20)
        return 0

    monkeypatch.setattr(escalation, "sweep_once", slow_sweep)
    app = create_app(settings.model_copy(update={"worker_threads": 1,
                                                 "escalation_interval_s": 0.01}))
    try:
        with TestClient(app) as client:
            assert in_sweep.wait(10)
            started = time.monotonic()
            # an authenticated read: its caller is checked in a worker thread
            answer = client.get("/v1/incidents", headers=auth(Role.dispatcher,
                                                              region_id=city.id))
            assert answer.status_code == 200, answer.text
            assert time.monotonic() - started < 10 and not release.is_set()
            release.set()
    finally:
        release.set()
