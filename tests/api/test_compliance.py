"""Compliance with the programmes' targets, per community."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.security import Role
from tests.conftest import auth
from tests.factories import make_aed, make_area, make_certification, make_volunteer


def test_counts_and_targets(client, session):
    area = make_area(session)
    now = datetime.now(UTC)
    for n in range(16):  # 16 CPR-qualified in A, one of them expiring soon
        volunteer = make_volunteer(session, area.community_a, n)
        make_certification(session, volunteer, "cpr",
                           issued=now - timedelta(days=350 if n == 0 else 30))
    lapsed = make_volunteer(session, area.community_b, 100)
    make_certification(session, lapsed, "cpr", issued=now - timedelta(days=400))
    trainer = make_volunteer(session, area.community_b, 101)
    trainer.roles = ["trainer"]
    session.commit()
    make_certification(session, trainer, "aed", issued=now - timedelta(days=10))
    make_aed(session, area.community_b, 1, status="needs_service")
    make_aed(session, area.community_b, 2,
             pads_expire_on=(now - timedelta(days=1)).date().isoformat())
    make_aed(session, area.community_b, 3)
    headers = auth(Role.auditor, region_id=area.city.id)
    body = client.get("/v1/compliance?region=tj", headers=headers).json()
    rows = {r["code"]: r for r in body["communities"]}
    assert rows["tj-a-1"]["qualified_responders"] == 16
    assert rows["tj-a-1"]["responders_target_met"] is True
    assert rows["tj-a-1"]["certificates_expiring"] == 1
    assert rows["tj-b-1"]["qualified_responders"] == 0
    assert rows["tj-b-1"]["certified_trainers"] == 1
    assert rows["tj-b-1"]["trainers_target_met"] is False
    assert rows["tj-b-1"]["equipment_needing_service"] == 2
    assert body["communities_missing_responder_target"] == 1
    assert body["communities_missing_trainer_target"] == 2
    scoped = client.get("/v1/compliance?region=tj-b",
                        headers=auth(Role.district_admin, region_id=area.district_a.id))
    assert scoped.status_code == 404
