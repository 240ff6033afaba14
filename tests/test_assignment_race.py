"""One responder is never assigned to two active incidents, whatever the concurrency:
20 threads race to claim the same volunteer for 20 incidents, 200 times, on each database;
exactly one wins every time and the losers get 409."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import make_sessionmaker, transaction
from app.models import Assignment, Incident
from app.models.incident import AssignmentRole, AssignmentStatus
from app.spatial import lonlat_element
from tests.factories import make_area, make_volunteer
from tests.race import race

THREADS = 20
ROUNDS = 200


def test_exactly_one_winner_per_race(engine, session):
    from app.services.assignments import claim_responder

    area = make_area(session)
    incidents = [Incident(kind="cardiac_arrest", location=lonlat_element(117.2, 39.13),
                          region_id=area.city.id, created_by="test", budget_s=240)
                 for _ in range(THREADS)]
    session.add_all(incidents)
    session.commit()
    incident_ids = [i.id for i in incidents]
    volunteers = [make_volunteer(session, area.community_a, n).id for n in range(ROUNDS)]
    factory = make_sessionmaker(engine)
    winners_per_round = []
    for volunteer_id in volunteers:
        outcomes = race(engine, lambda tx, n, volunteer_id=volunteer_id: claim_responder(
            tx, incident_id=incident_ids[n], volunteer_id=volunteer_id,
            role=AssignmentRole.direct, eta_s=60, distance_m=100), threads=THREADS)
        assert outcomes == ["ok"] + ["volunteer_busy"] * (THREADS - 1), outcomes
        winners_per_round.append(outcomes.count("ok"))
        # release the winner so the incidents can take the next round's volunteer
        with transaction(factory) as tx:
            tx.execute(Assignment.__table__.update()
                       .where(Assignment.volunteer_id == volunteer_id)
                       .values(status=AssignmentStatus.released.value))
    assert winners_per_round == [1] * ROUNDS
    with factory() as check:
        assert check.scalar(select(func.count()).select_from(Assignment)) == ROUNDS
