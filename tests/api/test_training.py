"""Training: the Baoding default course, sessions, assessments that certify, rates against
the targets by hand count, re-certification due lists, training hours (SQLite and PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Region
from app.schemas.region import RegionCreate
from app.security import Role
from app.services.regions import create_region
from app.services.training import DEFAULT_SKILLS, certificate_number
from tests.conftest import auth
from tests.factories import OPERATOR, make_area, make_certification, make_volunteer

SKILLS = sorted(s.value for s in DEFAULT_SKILLS)


def _second_community(session, area) -> Region:
    community = create_region(session, RegionCreate(
        code="tj-a-2", name="Community a2", level="community",
        parent_code=area.district_a.code), principal=OPERATOR)
    session.commit()
    return community


def _trainer(session, community, n: int, now: datetime):
    trainer = make_volunteer(session, community, n)
    trainer.roles = ["trainer"]
    session.commit()
    make_certification(session, trainer, "cpr", issued=now - timedelta(days=10))
    return trainer


def _default_course(client, headers, code: str = "tj") -> dict:
    response = client.post("/v1/courses/default", headers=headers, json={"region_code": code})
    assert response.status_code in (200, 201), response.text
    return response.json()


def _session(client, headers, course_id: int, region_code: str, trainer_id: int, *,
             starts: datetime, hours: float = 3) -> dict:
    response = client.post("/v1/training-sessions", headers=headers, json={
        "course_id": course_id, "region_code": region_code, "trainer_id": trainer_id,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "place": "社区党群服务中心"})
    assert response.status_code == 201, response.text
    return response.json()


def _assess(client, headers, session_id: int, scores: dict[int, tuple[float, float, float]],
            assessed_at: datetime | None = None):
    body: dict = {"assessments": [
        {"volunteer_id": v, "written": w, "practical": p, "simulation": s}
        for v, (w, p, s) in scores.items()]}
    if assessed_at is not None:
        body["assessed_at"] = assessed_at.isoformat()
    return client.post(f"/v1/training-sessions/{session_id}/assessments", headers=headers,
                       json=body)


def _earned(client, headers, volunteer_id: int) -> int:
    return client.get(f"/v1/volunteers/{volunteer_id}/service",
                      headers=headers).json()["earned_minutes"]


def test_default_course_has_the_eight_baoding_modules(client, session):
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    created = client.post("/v1/courses/default", headers=city, json={"region_code": "tj"})
    assert created.status_code == 201, created.text
    course = created.json()
    assert [m["position"] for m in course["modules"]] == list(range(1, 9))
    titles = [m["title"] for m in course["modules"]]
    assert titles[1] == "心肺复苏与AED使用" and "风险隐患识别" in titles
    assert "火灾与自然灾害应对" in titles
    assert sorted(course["skills"]) == SKILLS and course["validity_days"] == 365
    again = client.post("/v1/courses/default", headers=city, json={"region_code": "tj"})
    assert again.status_code == 200 and again.json()["id"] == course["id"]

    # A city's course is usable in its districts; a district's course only in its own.
    district_a = auth(Role.district_admin, region_id=area.district_a.id)
    district_b = auth(Role.district_admin, region_id=area.district_b.id)
    assert client.get(f"/v1/courses/{course['id']}", headers=district_a).status_code == 200
    own = client.post("/v1/courses", headers=district_b, json={
        "name": "AED专项", "region_code": "tj-b", "skills": ["aed"],
        "modules": [{"title": "AED使用"}]})
    assert own.status_code == 201, own.text
    assert client.get(f"/v1/courses/{own.json()['id']}", headers=district_a).status_code == 404
    listed = client.get("/v1/courses", headers=district_a).json()
    assert [c["id"] for c in listed["items"]] == [course["id"]] and listed["total"] == 1
    assert client.get("/v1/courses?region=tj-b", headers=city).json()["total"] == 2
    assert client.get("/v1/courses?region=tj-b", headers=district_a).status_code == 404


def test_course_and_session_input_is_checked(client, session):
    now = datetime.now(UTC)
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    district_a = auth(Role.district_admin, region_id=area.district_a.id)
    body = {"name": "急救员", "region_code": "tj-a", "skills": ["cpr"],
            "modules": [{"title": "CPR"}]}
    unknown = client.post("/v1/courses", headers=district_a,
                          json={**body, "skills": ["juggling"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "skills.0"
    empty = client.post("/v1/courses", headers=district_a, json={**body, "modules": []})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "modules"
    never = client.post("/v1/courses", headers=district_a, json={**body, "validity_days": 0})
    assert never.json()["errors"][0]["field"] == "validity_days"
    assert client.post("/v1/courses", headers=district_a, json=body).status_code == 201
    twice = client.post("/v1/courses", headers=district_a, json=body)
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "name"

    course = _default_course(client, city)
    trainer = _trainer(session, area.community_a, 1, now)
    plain = make_volunteer(session, area.community_a, 2)
    trainer_b = _trainer(session, area.community_b, 3, now)
    good = {"course_id": course["id"], "region_code": "tj-a-1", "trainer_id": trainer.id,
            "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat()}

    def create(headers=district_a, **changes):
        return client.post("/v1/training-sessions", headers=headers, json={**good, **changes})

    not_trainer = create(trainer_id=plain.id)
    assert not_trainer.status_code == 422 and not_trainer.json()["code"] == "not_a_trainer"
    assert not_trainer.json()["errors"][0]["field"] == "trainer_id"
    other_district = create(trainer_id=trainer_b.id)
    assert other_district.status_code == 404
    assert other_district.json()["errors"][0]["field"] == "trainer_id"
    backwards = create(ends_at=(now - timedelta(hours=1)).isoformat())
    assert backwards.status_code == 422
    marathon = create(ends_at=(now + timedelta(hours=25)).isoformat())
    assert marathon.status_code == 422
    assert create(region_code="tj-b-1").status_code == 404
    b_course = client.post("/v1/courses", headers=city, json={**body, "region_code": "tj-b"})
    outside = create(headers=city, course_id=b_course.json()["id"])
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "region_code"
    assert create(course_id=999999).status_code == 404
    created = create()
    assert created.status_code == 201, created.text
    assert client.get(f"/v1/training-sessions/{created.json()['id']}",
                      headers=district_a).json()["trainer_id"] == trainer.id
    assert client.get("/v1/training-sessions", headers=auth(
        Role.district_admin, region_id=area.district_b.id)).json()["total"] == 0


def test_pass_certifies_renewal_is_a_new_certificate_fail_does_not_hours_once(client, session):
    now = datetime.now(UTC)
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    course = _default_course(client, city)
    trainer = _trainer(session, area.community_a, 1, now)
    volunteer = make_volunteer(session, area.community_a, 2)
    failing = make_volunteer(session, area.community_a, 3)
    as_trainer = auth(Role.volunteer, volunteer_id=trainer.id)

    # Last year's session: passed, excellent (every part >= 80, mean 90).
    first_session = _session(client, city, course["id"], "tj-a-1", trainer.id,
                             starts=now - timedelta(days=300, hours=4), hours=3)
    first_at = now - timedelta(days=300)
    first = _assess(client, as_trainer, first_session["id"], {volunteer.id: (85, 90, 95)},
                    assessed_at=first_at)
    assert first.status_code == 201, first.text
    [passed] = first.json()
    assert passed["result"] == "pass" and passed["excellent"] is True
    assert passed["assessed_by"] == f"volunteer:{trainer.id}"
    assert sorted(c["skill"] for c in passed["certificates"]) == SKILLS
    assert {c["number"] for c in passed["certificates"]} == {certificate_number(passed["id"])}
    first_expiry = datetime.fromisoformat(passed["certificates"][0]["expires_at"])
    assert first_expiry == first_at + timedelta(days=365)

    due = client.get("/v1/training/recertification-due?region=tj&within_days=90",
                     headers=city).json()
    assert [d["volunteer_id"] for d in due["items"]] == [volunteer.id]
    assert sorted(c["skill"] for c in due["items"][0]["due"]) == SKILLS
    assert not any(c["expired"] for c in due["items"][0]["due"])
    assert client.get("/v1/training/recertification-due?region=tj&within_days=30",
                      headers=city).json()["total"] == 0

    # This year's session: pass again (renewed from now), and a fail (one part below 80).
    second_session = _session(client, city, course["id"], "tj-a", trainer.id,
                              starts=now - timedelta(hours=2), hours=1)
    second = _assess(client, as_trainer, second_session["id"],
                     {volunteer.id: (80, 80, 80), failing.id: (95, 95, 79)})
    assert second.status_code == 201, second.text
    renewed, failed = second.json()
    assert (renewed["result"], renewed["excellent"]) == ("pass", False)
    renewed_expiry = datetime.fromisoformat(renewed["certificates"][0]["expires_at"])
    assert renewed_expiry - first_expiry > timedelta(days=299)
    assert (failed["result"], failed["excellent"], failed["certificates"]) == ("fail", False, [])
    cpr = client.get(f"/v1/certifications?volunteer_id={volunteer.id}&skill=cpr",
                     headers=city).json()
    assert cpr["total"] == 2
    assert max(datetime.fromisoformat(c["expires_at"]) for c in cpr["items"]) == renewed_expiry
    assert client.get(f"/v1/certifications?volunteer_id={failing.id}",
                      headers=city).json()["total"] == 0
    assert client.get("/v1/training/recertification-due?region=tj&within_days=90",
                      headers=city).json()["total"] == 0
    listed = client.get(f"/v1/training-sessions/{second_session['id']}/assessments",
                        headers=city).json()
    assert [a["volunteer_id"] for a in listed["items"]] == [volunteer.id, failing.id]
    assert len(listed["items"][0]["certificates"]) == len(SKILLS)

    # Attendance earns the session's length, whatever the result, once per session.
    assert _earned(client, city, volunteer.id) == 3 * 60 + 60
    assert _earned(client, city, failing.id) == 60
    again = _assess(client, city, second_session["id"], {volunteer.id: (99, 99, 99)})
    assert again.status_code == 409, again.text
    assert again.json()["errors"][0]["field"] == "assessments.0.volunteer_id"
    assert _earned(client, city, volunteer.id) == 3 * 60 + 60
    ledger = client.get("/v1/volunteers/me/service/entries", headers=auth(
        Role.volunteer, volunteer_id=volunteer.id)).json()["items"]
    assert sorted((e["source"], e["source_id"], e["minutes"]) for e in ledger) == [
        ("training", first_session["id"], 180), ("training", second_session["id"], 60)]


def test_thresholds_are_settings(client, session, settings):
    now = datetime.now(UTC)
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    course = _default_course(client, city)
    trainer = _trainer(session, area.community_a, 1, now)
    sitting = _session(client, city, course["id"], "tj-a", trainer.id,
                       starts=now - timedelta(hours=3))
    volunteers = [make_volunteer(session, area.community_a, n) for n in (2, 3, 4)]

    def outcome(volunteer) -> tuple[str, bool, int]:
        [row] = _assess(client, city, sitting["id"], {volunteer.id: (85, 85, 85)}).json()
        return row["result"], row["excellent"], len(row["certificates"])

    assert outcome(volunteers[0]) == ("pass", False, len(SKILLS))
    settings.assessment_excellent_score = 85
    assert outcome(volunteers[1]) == ("pass", True, len(SKILLS))
    settings.assessment_pass_score = 86
    assert outcome(volunteers[2]) == ("fail", False, 0)


def test_assessment_input_is_checked_and_all_or_nothing(client, session):
    now = datetime.now(UTC)
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    course = _default_course(client, city)
    trainer = _trainer(session, area.community_a, 1, now)
    trainee = make_volunteer(session, area.community_a, 2)
    outsider = make_volunteer(session, area.community_b, 3)
    removed = make_volunteer(session, area.community_a, 4)
    removed.status = "removed"
    session.commit()
    sitting = _session(client, city, course["id"], "tj-a", trainer.id,
                       starts=now - timedelta(hours=3))
    url = f"/v1/training-sessions/{sitting['id']}/assessments"

    def field_of(response, status: int) -> str:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return response.json()["errors"][0]["field"]

    assert field_of(_assess(client, city, sitting["id"], {trainee.id: (101, 90, 90)}),
                    422) == "assessments.0.written"
    assert field_of(_assess(client, city, sitting["id"], {trainee.id: (90, -1, 90)}),
                    422) == "assessments.0.practical"
    assert field_of(client.post(url, headers=city, json={"assessments": [
        {"volunteer_id": trainee.id, "written": 90, "practical": 90, "simulation": 90}] * 2}),
        422) == "assessments.1.volunteer_id"
    # One valid row and one out of the session's area: nothing is written.
    assert field_of(_assess(client, city, sitting["id"], {
        trainee.id: (90, 90, 90), outsider.id: (90, 90, 90)}), 404) == "assessments.1.volunteer_id"
    assert field_of(_assess(client, city, sitting["id"], {removed.id: (90, 90, 90)}),
                    422) == "assessments.0.volunteer_id"
    assert field_of(_assess(client, city, sitting["id"], {trainer.id: (90, 90, 90)}),
                    422) == "assessments.0.volunteer_id"
    assert field_of(_assess(client, city, sitting["id"], {trainee.id: (90, 90, 90)},
                            assessed_at=now - timedelta(hours=4)), 422) == "assessed_at"
    assert field_of(_assess(client, city, sitting["id"], {trainee.id: (90, 90, 90)},
                            assessed_at=now + timedelta(hours=1)), 422) == "assessed_at"
    assert field_of(client.post(url, headers=city, json={"assessments": [], "x": 1}),
                    422) in ("assessments", "x")
    later = _session(client, city, course["id"], "tj-a", trainer.id,
                     starts=now + timedelta(days=1))
    not_yet = _assess(client, city, later["id"], {trainee.id: (90, 90, 90)})
    assert not_yet.status_code == 422 and not_yet.json()["code"] == "session_not_started"
    assert client.get(url, headers=city).json()["total"] == 0
    assert _earned(client, city, trainee.id) == 0

    # Only the session's trainer or an admin of its area.
    other = auth(Role.volunteer, volunteer_id=trainee.id)
    assert field_of(_assess(client, other, sitting["id"], {trainee.id: (90, 90, 90)}),
                    403) == "training_session_id"
    district_b = auth(Role.district_admin, region_id=area.district_b.id)
    assert field_of(_assess(client, district_b, sitting["id"], {trainee.id: (90, 90, 90)}),
                    404) == "training_session_id"
    assert _assess(client, city, 999999, {trainee.id: (90, 90, 90)}).status_code == 404
    dispatcher = auth(Role.dispatcher, region_id=area.city.id)
    assert _assess(client, dispatcher, sitting["id"],
                   {trainee.id: (90, 90, 90)}).status_code == 403
    assert _assess(client, city, sitting["id"], {trainee.id: (90, 90, 90)}).status_code == 201


# Latest assessment per volunteer, (written, practical, simulation): session 1, then 2.
ROSTER_A1 = {
    "v1": [(95, 95, 95)],                   # pass, excellent
    "v2": [(82, 85, 80)],                   # pass
    "v3": [(70, 90, 90), (85, 85, 85)],     # fail, then pass on the retake: counts as pass
    "v4": [(90, 90, 60)],                   # fail
    "v5": [(95, 92, 96), (79, 99, 99)],     # excellent, then fail: counts as fail
}
ROSTER_A2 = {"v6": [(91, 92, 93)], "v7": [(100, 90, 90)]}   # both pass, excellent


def test_rates_per_community_district_and_city_by_hand_count(client, session, settings):
    now = datetime.now(UTC)
    area = make_area(session)
    community_a2 = _second_community(session, area)
    city = auth(Role.city_admin, region_id=area.city.id)
    course = _default_course(client, city)
    trainer = _trainer(session, area.community_a, 1, now)
    sessions = [_session(client, city, course["id"], "tj-a", trainer.id,
                         starts=now - timedelta(days=days, hours=3)) for days in (10, 1)]
    rosters = [(area.community_a, ROSTER_A1), (community_a2, ROSTER_A2)]
    n = 10
    for community, roster in rosters:
        for attempts in roster.values():
            n += 1
            volunteer = make_volunteer(session, community, n)
            for sitting, scores in zip(sessions, attempts, strict=False):
                response = _assess(client, city, sitting["id"], {volunteer.id: scores})
                assert response.status_code == 201, response.text

    # Hand count: tj-a-1 5 assessed, 3 passed (v1 v2 v3), 1 excellent (v1);
    # tj-a-2 2, 2, 2; district A and the city 7, 5, 3; district B nobody.
    # (Counting attempts instead would give tj-a-1 7, 4, 2.)
    body = client.get("/v1/training/rates?region=tj", headers=city).json()
    assert [r["region_code"] for r in body["rows"]] == ["tj", "tj-a", "tj-b"]
    assert (body["target_pass_rate"], body["target_excellent_rate"]) == (0.95, 0.30)
    rows = {r["region_code"]: r for r in body["rows"]}
    for code in ("tj", "tj-a"):
        row = rows[code]
        assert (row["assessed"], row["passed"], row["excellent"]) == (7, 5, 3)
        assert row["pass_rate"] == pytest.approx(5 / 7)
        assert row["excellent_rate"] == pytest.approx(3 / 7)
        assert (row["pass_target_met"], row["excellent_target_met"]) == (False, True)
    assert rows["tj-b"]["assessed"] == 0
    assert (rows["tj-b"]["pass_rate"], rows["tj-b"]["pass_target_met"]) == (None, None)

    district = client.get("/v1/training/rates?region=tj-a", headers=city).json()["rows"]
    assert [r["region_code"] for r in district] == ["tj-a", "tj-a-1", "tj-a-2"]
    a1, a2 = district[1], district[2]
    assert (a1["assessed"], a1["passed"], a1["excellent"]) == (5, 3, 1)
    assert (a1["pass_rate"], a1["excellent_rate"]) == (pytest.approx(0.6), pytest.approx(0.2))
    assert (a1["pass_target_met"], a1["excellent_target_met"]) == (False, False)
    assert (a2["pass_rate"], a2["excellent_rate"]) == (1.0, 1.0)
    assert (a2["pass_target_met"], a2["excellent_target_met"]) == (True, True)
    single = client.get("/v1/training/rates?region=tj-a-2", headers=city).json()["rows"]
    assert [(r["region_code"], r["assessed"]) for r in single] == [("tj-a-2", 2)]

    # The same figures in the compliance report, per community.
    compliance = client.get("/v1/compliance?region=tj", headers=city).json()
    assert (compliance["target_pass_rate"], compliance["target_excellent_rate"]) == (0.95, 0.3)
    per = {r["code"]: r for r in compliance["communities"]}
    assert per["tj-a-1"]["training_assessed"] == 5
    assert per["tj-a-1"]["training_pass_rate"] == pytest.approx(0.6)
    assert per["tj-a-1"]["training_excellent_rate"] == pytest.approx(0.2)
    assert per["tj-a-1"]["pass_rate_target_met"] is False
    assert per["tj-a-2"]["excellent_rate_target_met"] is True
    assert per["tj-b-1"]["training_pass_rate"] is None
    assert per["tj-b-1"]["pass_rate_target_met"] is None

    # Targets are settings.
    settings.target_pass_rate = 0.6
    settings.target_excellent_rate = 0.2
    relaxed = client.get("/v1/training/rates?region=tj-a", headers=city).json()["rows"][1]
    assert (relaxed["pass_target_met"], relaxed["excellent_target_met"]) == (True, True)

    # Scope: another district's rates answer 404.
    district_b = auth(Role.district_admin, region_id=area.district_b.id)
    outside = client.get("/v1/training/rates?region=tj-a", headers=district_b)
    assert outside.status_code == 404 and outside.json()["errors"][0]["field"] == "region"
    assert client.get("/v1/training/rates?region=tj-b", headers=district_b).status_code == 200


def test_recertification_due_list(client, session):
    now = datetime.now(UTC)
    area = make_area(session)
    city = auth(Role.city_admin, region_id=area.city.id)
    _default_course(client, city)    # programme skills: cpr, aed, trauma care, choking ...

    def volunteer(n, community=area.community_a):
        return make_volunteer(session, community, n)

    expired = volunteer(1)
    make_certification(session, expired, "cpr", issued=now - timedelta(days=375))
    expiring = volunteer(2)
    make_certification(session, expiring, "aed", issued=now - timedelta(days=345))
    make_certification(session, expiring, "cpr", issued=now - timedelta(days=165))
    removed = volunteer(3)
    removed.status = "removed"
    session.commit()
    make_certification(session, removed, "cpr", issued=now - timedelta(days=360))
    other_skill = volunteer(4)
    make_certification(session, other_skill, "burns", issued=now - timedelta(days=360))
    renewed = volunteer(5)
    make_certification(session, renewed, "cpr", issued=now - timedelta(days=400))
    make_certification(session, renewed, "cpr", issued=now - timedelta(days=65))
    elsewhere = volunteer(6, area.community_b)
    make_certification(session, elsewhere, "cpr", issued=now - timedelta(days=362))

    district_a = auth(Role.district_admin, region_id=area.district_a.id)
    url = "/v1/training/recertification-due"
    body = client.get(f"{url}?within_days=30", headers=district_a).json()
    assert [d["volunteer_id"] for d in body["items"]] == [expired.id, expiring.id]
    first, second = body["items"]
    assert first["phone_masked"] == "139****0001" and "phone" not in first
    assert [(c["skill"], c["expired"]) for c in first["due"]] == [("cpr", True)]
    assert [(c["skill"], c["expired"]) for c in second["due"]] == [("aed", False)]
    page = client.get(f"{url}?within_days=30&limit=1&offset=1", headers=district_a).json()
    assert (page["total"], [d["volunteer_id"] for d in page["items"]]) == (2, [expiring.id])
    only_expired = client.get(f"{url}?within_days=0", headers=district_a).json()
    assert [d["volunteer_id"] for d in only_expired["items"]] == [expired.id]
    everywhere = client.get(f"{url}?within_days=30", headers=city).json()
    assert {d["volunteer_id"] for d in everywhere["items"]} == {expired.id, expiring.id,
                                                                elsewhere.id}
    burns = client.post("/v1/courses", headers=city, json={
        "name": "烧烫伤处置", "region_code": "tj", "skills": ["burns"],
        "modules": [{"title": "烧烫伤"}]}).json()
    by_course = client.get(f"{url}?within_days=30&course_id={burns['id']}",
                           headers=district_a).json()
    assert [d["volunteer_id"] for d in by_course["items"]] == [other_skill.id]
    assert client.get(f"{url}?region=tj-b", headers=district_a).status_code == 404
    assert client.get(f"{url}?within_days=-1", headers=district_a).status_code == 422
