"""Hazards' closed loop (report → fix on the spot, or list for a department → rectify →
verify → close; every other step 409) and patrol records with their service hours, on
SQLite and PostGIS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Hazard, HazardEvent, Patrol, ServiceEntry
from app.models.hazard import HazardAction, HazardStatus
from app.models.service import HoursSource
from app.schemas.common import PointIn
from app.schemas.hazard import HazardCreate, HazardStep, PatrolCreate, PatrolPlaceIn
from app.security import Principal, Role
from app.services import hazards, service_hours
from app.settings import Settings
from tests.conftest import auth
from tests.factories import NOW, OPERATOR, make_area, make_hazard, make_volunteer
from tests.race import race

# Written out, not derived from the service's table, so that a wrong table fails here.
ALLOWED = {
    "reported": {"fix": "fixed_on_spot", "list": "listed"},
    "fixed_on_spot": {"verify": "verified", "reject": "listed"},
    "listed": {"rectify": "rectified"},
    "rectified": {"verify": "verified", "reject": "listed"},
    "verified": {"close": "closed"},
    "closed": {},
}
ACTIONS = ("fix", "list", "rectify", "verify", "reject", "close")
# How to reach each state; fixes and rectifications by the community admin, so that the
# district admin may verify them.
PATHS = {
    "reported": [],
    "fixed_on_spot": ["fix"],
    "listed": ["list"],
    "rectified": ["list", "rectify"],
    "verified": ["fix", "verify"],
    "closed": ["fix", "verify", "close"],
}
DEPARTMENT = "区消防救援支队"


def _body(action: str) -> dict:
    if action in ("list", "reject"):
        return {"note": "转交", "department": DEPARTMENT}
    return {"note": "已处理"}


def _report(client, headers, region, **fields):
    body = {"kind": "ebike_charging_indoors", "region_code": region.code,
            "location": {"lon": 117.2009, "lat": 39.1336}, "compound": "金华里",
            "building": "3号楼", "unit": "2单元", "description": "楼道内电动车充电",
            "photo_ref": "hazards/8f3c.jpg", **fields}
    return client.post("/v1/hazards", headers=headers, json=body)


def _step(client, headers, hazard_id, action, body=None):
    return client.post(f"/v1/hazards/{hazard_id}/{action}", headers=headers,
                       json=_body(action) if body is None else body)


def _problem(response, status, field, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == field, problem
    if code is not None:
        assert problem["code"] == code, problem


def test_fixed_on_the_spot_then_verified_by_an_admin(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    admin = auth(Role.community_admin, region_id=area.community_a.id)

    created = _report(client, me, area.community_a)
    assert created.status_code == 201, created.text
    hazard = created.json()
    assert (hazard["status"], hazard["reported_by"], hazard["reporter_volunteer_id"]) == (
        "reported", f"volunteer:{volunteer.id}", volunteer.id)
    reported_at = datetime.fromisoformat(hazard["reported_at"])
    assert datetime.fromisoformat(hazard["due_at"]) - reported_at == timedelta(days=3)
    assert hazard["overdue"] is False and hazard["region_id"] == area.community_a.id
    assert hazard["location"] == {"lon": 117.2009, "lat": 39.1336, "crs": "wgs84"}

    _problem(_step(client, me, hazard["id"], "verify"), 403, "action")   # not a volunteer's
    fixed = _step(client, me, hazard["id"], "fix", {"note": "已劝离并断电"})
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed_on_spot"
    verified = _step(client, admin, hazard["id"], "verify", {"note": "现场复核"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_at"] is not None
    closed = _step(client, admin, hazard["id"], "close").json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["department"] is None
    assert [(e["action"], e["from_status"], e["to_status"], e["by"], e["volunteer_id"],
             e["note"]) for e in closed["events"]] == [
        ("report", None, "reported", f"volunteer:{volunteer.id}", volunteer.id, "楼道内电动车充电"),
        ("fix", "reported", "fixed_on_spot", f"volunteer:{volunteer.id}", volunteer.id,
         "已劝离并断电"),
        ("verify", "fixed_on_spot", "verified", "test:community_admin", None, "现场复核"),
        ("close", "verified", "closed", "test:community_admin", None, "已处理"),
    ]
    # the reporter follows it in the mini-program
    mine = client.get(f"/v1/hazards/{hazard['id']}", headers=me).json()
    assert mine["status"] == "closed" and len(mine["events"]) == 4


def test_problem_list_loop_with_a_failed_verification(client, session):
    area = make_area(session)
    community = auth(Role.community_admin, region_id=area.community_a.id)
    district = auth(Role.district_admin, region_id=area.district_a.id)
    hazard = _report(client, community, area.community_a, kind="blocked_exit").json()

    _problem(_step(client, community, hazard["id"], "list", {"note": "物业无法处理"}), 422,
             "department")
    listed = _step(client, community, hazard["id"], "list").json()
    assert (listed["status"], listed["department"]) == ("listed", DEPARTMENT)
    _step(client, community, hazard["id"], "rectify", {"note": "已清理通道"})
    # whoever rectified does not verify their own work
    _problem(_step(client, community, hazard["id"], "verify"), 403, "action",
             "self_verification")
    _problem(_step(client, district, hazard["id"], "reject", {"note": ""}), 422, "note")
    _problem(_step(client, district, hazard["id"], "rectify", {"note": "x",
                                                               "department": "街道"}),
             409, "action", "invalid_transition")
    rejected = _step(client, district, hazard["id"], "reject", {"note": "通道仍被堵"}).json()
    assert (rejected["status"], rejected["department"]) == ("listed", DEPARTMENT)
    _step(client, community, hazard["id"], "rectify", {"note": "杂物已全部清走"})
    verified = _step(client, district, hazard["id"], "verify").json()
    assert verified["status"] == "verified"
    closed = _step(client, district, hazard["id"], "close").json()
    assert [e["action"] for e in closed["events"]] == [
        "report", "list", "rectify", "reject", "rectify", "verify", "close"]
    assert closed["events"][3]["note"] == "通道仍被堵"

    # a rejected on-the-spot fix goes onto a problem list, which needs its department
    other = _report(client, community, area.community_a).json()
    _step(client, community, other["id"], "fix")
    _problem(_step(client, district, other["id"], "reject", {"note": "仍在充电"}), 422,
             "department")
    moved = _step(client, district, other["id"], "reject",
                  {"note": "仍在充电", "department": "街道综合执法队"}).json()
    assert (moved["status"], moved["department"]) == ("listed", "街道综合执法队")


def test_every_transition_and_every_rejected_one(client, session):
    area = make_area(session)
    community = auth(Role.community_admin, region_id=area.community_a.id)
    district = auth(Role.district_admin, region_id=area.district_a.id)
    checked = {"allowed": 0, "rejected": 0}
    for state, path in PATHS.items():
        for action in ACTIONS:
            hazard = make_hazard(session, area.community_a).id
            for earlier in path:
                actor = community if earlier in ("fix", "rectify") else district
                assert _step(client, actor, hazard, earlier).status_code == 200
            answer = _step(client, district, hazard, action)
            after = client.get(f"/v1/hazards/{hazard}", headers=district).json()
            if action in ALLOWED[state]:
                assert answer.status_code == 200, (state, action, answer.text)
                assert answer.json()["status"] == after["status"] == ALLOWED[state][action]
                checked["allowed"] += 1
            else:
                _problem(answer, 409, "action", "invalid_transition")
                assert after["status"] == state, (state, action)
                assert len(after["events"]) == len(path) + 1    # nothing written
                checked["rejected"] += 1
    assert checked == {"allowed": 8, "rejected": 28}


def test_closed_only_after_verification_in_the_database(session):
    area = make_area(session)
    hazard = make_hazard(session, area.community_a)
    hazard.status = HazardStatus.closed.value     # skipping the loop by hand
    with pytest.raises(IntegrityError, match="closed_after_verification"):
        session.commit()
    session.rollback()
    hazard.status = HazardStatus.listed.value     # a problem list entry without department
    with pytest.raises(IntegrityError, match="listed_for_department"):
        session.commit()


def test_overdue_follows_the_kind_deadline(client, session):
    area = make_area(session)
    exit_ = make_hazard(session, area.community_a, kind="blocked_exit", at=NOW)
    clutter = make_hazard(session, area.community_a, kind="corridor_clutter", at=NOW)
    done = make_hazard(session, area.community_a, kind="blocked_exit", at=NOW)
    fixer = Principal(role=Role.community_admin, subject="fixer", region_path="/")
    hazards.step(session, fixer, done.id, HazardAction.fix, HazardStep(), now=NOW)
    hazards.step(session, OPERATOR, done.id, HazardAction.verify, HazardStep(),
                 now=NOW + timedelta(days=1))
    session.commit()

    def overdue(days: float) -> list[int]:
        stmt = hazards.hazards_query(session, OPERATOR, region_code=None, status=None,
                                     kind=None, overdue=True, now=NOW + timedelta(days=days))
        return sorted(h.id for h in session.scalars(stmt))

    assert overdue(2.9) == []
    assert overdue(3.1) == [exit_.id]
    assert overdue(7.1) == sorted([exit_.id, clutter.id])    # never the verified one
    counts = hazards.community_counts(session, area.city, now=NOW + timedelta(days=4))
    assert [(c.region_code, c.open, c.overdue) for c in counts] == [("tj-a-1", 2, 1),
                                                                      ("tj-b-1", 0, 0)]
    assert hazards.is_overdue(exit_, NOW + timedelta(days=4))
    assert not hazards.is_overdue(done, NOW + timedelta(days=40))
    # a deadline is fixed at report time from the kinds configured then
    quick = hazards.report(session, Settings(hazard_kinds={"blocked_exit": 1}), OPERATOR,
                           HazardCreate(kind="blocked_exit", region_code="tj-a-1",
                                        location=PointIn(lon=117.2, lat=39.1)), now=NOW)
    assert quick.due_at == NOW + timedelta(days=1)
    session.commit()

    # the API's filter, with the clock of the request
    admin = auth(Role.city_admin, region_id=area.city.id)
    late = _report(client, admin, area.community_a).json()
    session.execute(Hazard.__table__.update().where(Hazard.id == late["id"])
                    .values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
    session.commit()
    fresh = _report(client, admin, area.community_a).json()
    late_ones = client.get("/v1/hazards?overdue=true&region=tj-a-1", headers=admin).json()
    assert late["id"] in [h["id"] for h in late_ones["items"]]
    assert all(h["overdue"] for h in late_ones["items"])
    on_time = client.get("/v1/hazards?overdue=false", headers=admin).json()
    assert {fresh["id"], done.id} <= {h["id"] for h in on_time["items"]}
    assert late["id"] not in [h["id"] for h in on_time["items"]]
    assert not any(h["overdue"] for h in on_time["items"])


def test_summary_counts_per_community(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    community = auth(Role.community_admin, region_id=area.community_a.id)
    district = auth(Role.district_admin, region_id=area.district_a.id)
    now = datetime.now(UTC)
    ids = [make_hazard(session, area.community_a, at=now).id for _ in range(5)]
    make_hazard(session, area.community_b, kind="corridor_clutter", at=now)
    _step(client, community, ids[0], "fix")                       # fixed, awaiting check
    _step(client, community, ids[1], "list")                      # on the problem list
    _step(client, community, ids[2], "list")
    _step(client, community, ids[2], "rectify")                   # rectified
    _step(client, community, ids[3], "fix")
    _step(client, district, ids[3], "verify")                     # verified
    _step(client, district, ids[3], "close")                      # and closed
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    patrol = {"region_code": area.community_a.code, "started_at": start.isoformat(),
              "ended_at": (start + timedelta(minutes=50)).isoformat(),
              "places": [{"compound": "金华里", "building": "3号楼"},
                         {"compound": "金华里", "building": "4号楼", "unit": "1单元"}]}
    assert client.post("/v1/patrols", headers=auth(Role.volunteer, volunteer_id=volunteer.id),
                       json=patrol).status_code == 201
    assert client.post("/v1/patrols", headers=community, json={
        **patrol, "places": [{"compound": "桂林里"}]}).status_code == 201

    city = auth(Role.city_admin, region_id=area.city.id)
    summary = client.get("/v1/hazards/summary?region=tj", headers=city)
    assert summary.status_code == 200, summary.text
    rows = {r["region_code"]: r for r in summary.json()["communities"]}
    fields = ("reported", "open", "overdue", "listed", "fixed", "verified", "patrols",
              "places_inspected")
    assert [rows["tj-a-1"][f] for f in fields] == [5, 4, 0, 1, 3, 1, 2, 3]
    assert [rows["tj-b-1"][f] for f in fields] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert [summary.json()["totals"][f] for f in fields] == [6, 5, 0, 1, 3, 1, 2, 3]
    assert rows["tj-a-1"]["name"] == "Community a1"
    # the counting itself, with the clock moved on: everything open is overdue by then
    later = hazards.community_counts(session, area.district_a, now=now + timedelta(days=30))
    assert [(r.region_code, r.open, r.overdue) for r in later] == [("tj-a-1", 4, 4)]

    own = client.get("/v1/hazards/summary?region=tj-a", headers=district).json()
    assert [r["region_code"] for r in own["communities"]] == ["tj-a-1"]
    _problem(client.get("/v1/hazards/summary?region=tj", headers=district), 404, "region")


def test_scope_and_who_may_do_what(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    neighbour = make_volunteer(session, area.community_a, 2)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    theirs = auth(Role.volunteer, volunteer_id=neighbour.id)
    admin_a = auth(Role.district_admin, region_id=area.district_a.id)
    admin_b = auth(Role.district_admin, region_id=area.district_b.id)
    mine = _report(client, me, area.community_a).json()["id"]
    other = _report(client, theirs, area.community_a).json()["id"]
    in_b = make_hazard(session, area.community_b).id

    # another district's admin: 404 for the hazard, nothing in lists
    assert client.get(f"/v1/hazards/{mine}", headers=admin_b).status_code == 404
    _problem(_step(client, admin_b, mine, "list"), 404, "hazard_id")
    assert [h["id"] for h in client.get("/v1/hazards", headers=admin_b).json()["items"]] == [
        in_b]
    listed = client.get("/v1/hazards", headers=admin_a).json()
    assert sorted(h["id"] for h in listed["items"]) == sorted([mine, other])
    _problem(_report(client, admin_a, area.community_b), 404, "region_code")

    # a volunteer: own reports only; no list of the area; no admin steps
    assert client.get("/v1/hazards", headers=me).status_code == 403
    assert client.get("/v1/hazards/summary?region=tj-a-1", headers=me).status_code == 403
    assert client.get("/v1/patrols", headers=me).status_code == 403
    own = client.get("/v1/volunteers/me/hazards", headers=me).json()
    assert [h["id"] for h in own["items"]] == [mine] and own["total"] == 1
    assert client.get(f"/v1/hazards/{other}", headers=me).status_code == 404
    _problem(_step(client, me, other, "fix"), 404, "hazard_id")
    for action in ("list", "rectify", "verify", "reject", "close"):
        _problem(_step(client, me, mine, action), 403, "action")
    _problem(_report(client, me, area.community_b), 404, "region_code")
    # dispatchers see the area's hazards but take no step
    dispatcher = auth(Role.dispatcher, region_id=area.district_a.id)
    assert client.get("/v1/hazards", headers=dispatcher).json()["total"] == 2
    assert _report(client, dispatcher, area.community_a).status_code == 403
    assert _step(client, dispatcher, mine, "fix").status_code == 403
    assert client.get(f"/v1/hazards/{mine}", headers=me).json()["status"] == "reported"


def test_bad_input_names_the_field(client, session):
    area = make_area(session)
    admin = auth(Role.city_admin, region_id=area.city.id)
    _problem(_report(client, admin, area.community_a, kind="alien_invasion"), 422, "kind",
             "unknown_kind")
    _problem(_report(client, admin, area.community_a,
                     location={"lon": 117.2, "lat": 91}), 422, "location.lat")
    _problem(_report(client, admin, area.community_a,
                     location={"lon": 117.2, "lat": 39.1, "crs": "mars"}), 422,
             "location.crs")
    _problem(_report(client, admin, area.district_a), 422, "region_code", "not_a_community")
    _problem(_report(client, admin, area.community_a, colour="red"), 422, "colour")
    assert session.scalar(select(func.count()).select_from(Hazard)) == 0
    hazard = _report(client, admin, area.community_a).json()["id"]
    _problem(_step(client, admin, hazard, "list", {"note": "x"}), 422, "department")
    _problem(_step(client, admin, hazard, "fix", {"department": DEPARTMENT}), 422,
             "department")
    _problem(_step(client, admin, hazard, "teleport"), 422, "action")
    _problem(_step(client, admin, hazard, "fix", {"note": "x" * 2001}), 422, "note")
    assert client.get("/v1/hazards?status=gone", headers=admin).status_code == 422
    _problem(client.get("/v1/hazards/999999", headers=admin), 404, "hazard_id")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HazardEvent)) == 1


def _patrol(region, start, minutes, **fields):
    return {"region_code": region.code, "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "places": [{"compound": "金华里", "building": "3号楼", "unit": "2单元"}],
            "note": "消防通道畅通", **fields}


def _ledger(session, volunteer_id):
    session.rollback()
    return list(session.execute(select(ServiceEntry.source, ServiceEntry.source_id,
                                       ServiceEntry.minutes)
                                .where(ServiceEntry.volunteer_id == volunteer_id)
                                .order_by(ServiceEntry.id)))


def test_patrols_credit_hours_once(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    other = make_volunteer(session, area.community_a, 2)
    stranger = make_volunteer(session, area.community_b, 3)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    admin = auth(Role.community_admin, region_id=area.community_a.id)
    hazard = _report(client, me, area.community_a).json()["id"]
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)

    first = client.post("/v1/patrols", headers=me,
                        json=_patrol(area.community_a, start, 70, hazard_ids=[hazard, hazard]))
    assert first.status_code == 201, first.text
    patrol = first.json()
    assert (patrol["volunteer_id"], patrol["credited_minutes"], patrol["hazard_ids"]) == (
        volunteer.id, 75, [hazard])                        # 70 min → 75, the quarter hour
    assert patrol["places"] == [{"compound": "金华里", "building": "3号楼", "unit": "2单元"}]
    # the same patrol sent again, or one overlapping it, earns nothing more
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(area.community_a, start, 70)),
             409, "started_at", "overlapping_patrol")
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(
        area.community_a, start + timedelta(minutes=30), 60)), 409, "started_at")
    assert not service_hours.credit(session, volunteer.id, source=HoursSource.patrol,
                                    source_id=patrol["id"], minutes=75, at=NOW)
    session.rollback()
    long = client.post("/v1/patrols", headers=me,
                       json=_patrol(area.community_a, start + timedelta(hours=2), 6 * 60))
    assert long.json()["credited_minutes"] == 240                      # capped
    assert _ledger(session, volunteer.id) == [("patrol", patrol["id"], 75),
                                              ("patrol", long.json()["id"], 240)]
    assert client.get("/v1/volunteers/me/service", headers=me).json()["earned_minutes"] == 315

    # an admin records a volunteer's patrol (credited), or a staff patrol (nothing credited)
    for_other = client.post("/v1/patrols", headers=admin, json=_patrol(
        area.community_a, start, 30, volunteer_id=other.id)).json()
    assert (for_other["credited_minutes"], for_other["recorded_by"]) == (
        30, "test:community_admin")
    staff = client.post("/v1/patrols", headers=admin, json=_patrol(area.community_a, start, 30))
    assert staff.json()["credited_minutes"] == 0 and staff.json()["volunteer_id"] is None
    assert _ledger(session, other.id) == [("patrol", for_other["id"], 30)]
    _problem(client.post("/v1/patrols", headers=admin, json=_patrol(
        area.community_a, start, 30, volunteer_id=stranger.id)), 404, "volunteer_id")
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(
        area.community_a, start - timedelta(hours=5), 30, volunteer_id=other.id)), 403,
        "volunteer_id")

    listed = client.get("/v1/patrols?region=tj-a-1", headers=admin).json()
    assert listed["total"] == 4
    assert [p["id"] for p in client.get(f"/v1/patrols?volunteer_id={other.id}",
                                        headers=admin).json()["items"]] == [for_other["id"]]
    b_admin = auth(Role.district_admin, region_id=area.district_b.id)
    assert client.get("/v1/patrols", headers=b_admin).json()["total"] == 0
    _problem(client.get("/v1/patrols?region=tj-a-1", headers=b_admin), 404, "region")


def test_patrol_input_is_checked(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    city = auth(Role.city_admin, region_id=area.city.id)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(area.community_a, start, 0)),
             422, "ended_at")
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(
        area.community_a, start + timedelta(hours=6), 60)), 422, "ended_at")   # future
    _problem(client.post("/v1/patrols", headers=me, json={
        **_patrol(area.community_a, start, 60), "places": []}), 422, "places")
    _problem(client.post("/v1/patrols", headers=me, json={
        **_patrol(area.community_a, start, 60), "places": [{"compound": ""}]}), 422,
        "places.0.compound")
    _problem(client.post("/v1/patrols", headers=me, json={
        **_patrol(area.community_a, start, 60), "started_at": "2026-11-23T09:00:00"}), 422,
        "started_at")                                                   # no UTC offset
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(
        area.community_a, start, 60, hazard_ids=[999999])), 404, "hazard_ids")
    in_b = make_hazard(session, area.community_b).id
    _problem(client.post("/v1/patrols", headers=city, json=_patrol(
        area.community_a, start, 60, hazard_ids=[in_b])), 422, "hazard_ids")
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(
        area.community_a, start, 60, hazard_ids=[in_b])), 404, "hazard_ids")   # not theirs
    _problem(client.post("/v1/patrols", headers=me, json=_patrol(area.community_b, start, 60)),
             404, "region_code")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Patrol)) == 0
    assert _ledger(session, volunteer.id) == []


THREADS = 8


def test_concurrent_resubmissions_credit_once(engine, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    principal = Principal(role=Role.volunteer, subject="wx", volunteer_id=volunteer.id)
    data = PatrolCreate(region_code=area.community_a.code, started_at=NOW - timedelta(hours=2),
                        ended_at=NOW - timedelta(hours=1),
                        places=[PatrolPlaceIn(compound="金华里")])
    outcomes = race(engine, lambda tx, _: hazards.record_patrol(
        tx, Settings(), principal, data, now=NOW), threads=THREADS)
    assert outcomes == ["ok"] + ["overlapping_patrol"] * (THREADS - 1), outcomes
    assert _ledger(session, volunteer.id) == [
        ("patrol", session.scalar(select(Patrol.id)), 60)]


def test_concurrent_overlapping_patrols_credit_once(engine, session):
    """Not the same patrol twice but overlapping ones (each a minute later): only the
    database can tell them apart under concurrency, as on PostgreSQL reads do not block."""
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    principal = Principal(role=Role.volunteer, subject="wx", volunteer_id=volunteer.id)

    def patrol(tx: Session, n: int) -> None:
        start = NOW - timedelta(hours=2) + timedelta(minutes=n)
        hazards.record_patrol(tx, Settings(), principal, PatrolCreate(
            region_code=area.community_a.code, started_at=start,
            ended_at=start + timedelta(minutes=45), places=[PatrolPlaceIn(compound="金华里")]),
            now=NOW)

    outcomes = race(engine, patrol, threads=THREADS)
    assert outcomes == ["ok"] + ["overlapping_patrol"] * (THREADS - 1), outcomes
    assert len(_ledger(session, volunteer.id)) == 1


def test_concurrent_verifications_take_one_step(engine, session):
    area = make_area(session)
    hazard = make_hazard(session, area.community_a)
    fixer = Principal(role=Role.community_admin, subject="fixer", region_path="/")
    hazards.step(session, fixer, hazard.id, HazardAction.fix, HazardStep(), now=NOW)
    session.commit()

    def verify(tx: Session, n: int) -> None:
        checker = Principal(role=Role.district_admin, subject=f"checker-{n}", region_path="/")
        hazards.step(tx, checker, hazard.id, HazardAction.verify, HazardStep(), now=NOW)

    outcomes = race(engine, verify, threads=THREADS)
    assert outcomes == ["invalid_transition"] * (THREADS - 1) + ["ok"], outcomes
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HazardEvent).where(
        HazardEvent.hazard_id == hazard.id, HazardEvent.action == "verify")) == 1
