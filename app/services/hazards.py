"""Hazards and their closed loop (Baoding): reported, then fixed on the spot or listed for a
responsible department and rectified, then verified by someone else, then closed. Every step
is a ``HazardEvent``; a step from the wrong state is 409 ``invalid_transition``. Patrols
record which places were inspected and credit the patrolling volunteer's service hours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound, Unprocessable, not_found
from app.models import (
    Hazard,
    HazardEvent,
    Patrol,
    PatrolHazard,
    PatrolPlace,
    Region,
    Volunteer,
)
from app.models.hazard import OPEN_HAZARD_STATUSES, HazardAction, HazardStatus
from app.models.region import RegionLevel
from app.models.service import HoursSource
from app.schemas.hazard import HazardCreate, HazardStep, PatrolCreate
from app.security import Principal, Role
from app.services import service_hours
from app.services.scope import get_scoped, region_by_code_in_scope, visible
from app.services.volunteers import get_self
from app.settings import Settings
from app.spatial import point_element

S, A = HazardStatus, HazardAction
# action -> {from: to}. Rejecting a fix at verification sends the hazard (back) to a
# department's problem list; nothing reaches `closed` except through `verified`.
TRANSITIONS: dict[HazardAction, dict[HazardStatus, HazardStatus]] = {
    A.fix: {S.reported: S.fixed_on_spot},
    A.list: {S.reported: S.listed},
    A.rectify: {S.listed: S.rectified},
    A.verify: {S.fixed_on_spot: S.verified, S.rectified: S.verified},
    A.reject: {S.fixed_on_spot: S.listed, S.rectified: S.listed},
    A.close: {S.verified: S.closed},
}
VOLUNTEER_ACTIONS = frozenset({A.fix})
# Client clocks run a little ahead; a patrol "ending" further in the future is refused.
CLOCK_SKEW = timedelta(minutes=5)


def _community(session: Session, principal: Principal, code: str, *, field: str) -> Region:
    """A community in the caller's area: an admin's scope, or a volunteer's own region."""
    if principal.role is Role.volunteer:
        home = session.get(Region, get_self(session, principal.volunteer_id).region_id)
        region = session.scalar(select(Region).where(Region.code == code))
        if region is None or not region.path.startswith(home.path):
            raise NotFound(f"region {code} does not exist", field=field)
    else:
        region = region_by_code_in_scope(session, code, principal, field=field)
    if region.level != RegionLevel.community.value:
        raise Unprocessable(f"{code} is a {region.level}; name the community", field=field,
                            code="not_a_community")
    return region


def is_overdue(hazard: Hazard, now: datetime) -> bool:
    return hazard.status in OPEN_HAZARD_STATUSES and hazard.due_at < now


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Hazard.status.in_(OPEN_HAZARD_STATUSES), Hazard.due_at < now)


def report(session: Session, settings: Settings, principal: Principal, data: HazardCreate, *,
           now: datetime) -> Hazard:
    days = settings.hazard_kinds.get(data.kind)
    if days is None:
        raise Unprocessable(f"unknown hazard kind; one of {', '.join(settings.hazard_kinds)}",
                            field="kind", code="unknown_kind")
    region = _community(session, principal, data.region_code, field="region_code")
    hazard = Hazard(kind=data.kind, status=S.reported.value, location=point_element(data.location),
                    region_id=region.id, compound=data.compound, building=data.building,
                    unit=data.unit, description=data.description, photo_ref=data.photo_ref,
                    reported_by=principal.actor, reporter_volunteer_id=principal.volunteer_id,
                    reported_at=now, due_at=now + timedelta(days=days))
    session.add(hazard)
    session.flush()
    session.add(HazardEvent(hazard_id=hazard.id, action=A.report.value, from_status=None,
                            to_status=S.reported.value, by=hazard.reported_by,
                            volunteer_id=principal.volunteer_id, at=now, note=data.description))
    session.flush()
    return hazard


def get_hazard(session: Session, principal: Principal, hazard_id: int, *,
               field: str = "hazard_id") -> Hazard:
    """A hazard the caller may see: in an admin's area, or a volunteer's own report."""
    if principal.role is not Role.volunteer:
        return get_scoped(session, Hazard, hazard_id, principal, entity="hazard", field=field)
    hazard = session.get(Hazard, hazard_id)
    if hazard is None or hazard.reporter_volunteer_id != principal.volunteer_id:
        raise not_found("hazard", hazard_id, field=field)
    return hazard


def events_of(session: Session, hazard: Hazard) -> list[HazardEvent]:
    return list(session.scalars(select(HazardEvent).where(HazardEvent.hazard_id == hazard.id)
                                .order_by(HazardEvent.id)))


def _department(hazard: Hazard, action: HazardAction, data: HazardStep) -> str | None:
    """The department a step lists the hazard for (None: the step names none)."""
    if action not in (A.list, A.reject):
        if data.department is not None:
            raise Unprocessable("a department is named only when listing or rejecting",
                                field="department")
        return None
    if action is A.reject and not data.note:
        raise Unprocessable("say why the fix is rejected", field="note")
    if data.department is None and (action is A.list or hazard.department is None):
        raise Unprocessable("name the responsible department", field="department")
    return data.department or hazard.department


def step(session: Session, principal: Principal, hazard_id: int, action: HazardAction,
         data: HazardStep, *, now: datetime) -> Hazard:
    """Take one step of the loop. The state is changed by a conditional UPDATE, so of two
    concurrent steps from the same state exactly one wins and the other gets 409."""
    if principal.role is Role.volunteer and action not in VOLUNTEER_ACTIONS:
        raise Forbidden(f"a volunteer may not {action} a hazard", field="action")
    hazard = get_hazard(session, principal, hazard_id)
    before = HazardStatus(hazard.status)
    after = TRANSITIONS[action].get(before)
    if after is None:
        raise _invalid(action, before)
    department = _department(hazard, action, data)
    by = principal.actor
    if action is A.verify:
        fixer = session.scalar(select(HazardEvent.by).where(
            HazardEvent.hazard_id == hazard.id, HazardEvent.to_status == before.value)
            .order_by(HazardEvent.id.desc()).limit(1))
        if fixer == by:
            raise Forbidden("a fix is verified by someone other than who made it",
                            field="action", code="self_verification")
    values: dict[str, object] = {"status": after.value, "updated_at": now}
    if department is not None:
        values["department"] = department
    if after is S.verified:
        values["verified_at"] = now
    if after is S.closed:
        values["closed_at"] = now
    moved = session.execute(update(Hazard).where(Hazard.id == hazard.id,
                                                 Hazard.status == before.value)
                            .values(**values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise _invalid(action, before)
    session.add(HazardEvent(hazard_id=hazard.id, action=action.value, from_status=before.value,
                            to_status=after.value, by=by, volunteer_id=principal.volunteer_id,
                            at=now, note=data.note, department=department))
    session.flush()
    session.refresh(hazard)
    return hazard


def _invalid(action: HazardAction, status: HazardStatus) -> Conflict:
    allowed = ", ".join(a.value for a, moves in TRANSITIONS.items() if status in moves)
    return Conflict(f"cannot {action} a hazard that is {status} (allowed: {allowed or 'none'})",
                    field="action", code="invalid_transition")


def hazards_query(session: Session, principal: Principal, *, region_code: str | None,
                  status: HazardStatus | None, kind: str | None, overdue: bool | None,
                  now: datetime) -> Select:
    stmt = select(Hazard).where(visible(session, Hazard.region_id, principal,
                                        within_code=region_code))
    return _filtered(stmt, status=status, kind=kind, overdue=overdue, now=now)


def my_hazards_query(volunteer_id: int, *, status: HazardStatus | None, now: datetime
                     ) -> Select:
    stmt = select(Hazard).where(Hazard.reporter_volunteer_id == volunteer_id)
    return _filtered(stmt, status=status, kind=None, overdue=None, now=now)


def _filtered(stmt: Select, *, status: HazardStatus | None, kind: str | None,
              overdue: bool | None, now: datetime) -> Select:
    if status is not None:
        stmt = stmt.where(Hazard.status == status.value)
    if kind is not None:
        stmt = stmt.where(Hazard.kind == kind)
    if overdue is not None:
        stmt = stmt.where(_overdue(now) if overdue else ~_overdue(now))
    return stmt.order_by(Hazard.reported_at.desc(), Hazard.id.desc())


@dataclass
class Counts:
    reported: int = 0
    open: int = 0
    overdue: int = 0
    listed: int = 0
    fixed: int = 0
    verified: int = 0
    patrols: int = 0
    places_inspected: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class CommunityCounts(Counts):
    region_id: int = 0
    region_code: str = ""
    name: str = ""


FIXED_STATUSES = (S.fixed_on_spot.value, S.rectified.value, S.verified.value, S.closed.value)
VERIFIED_STATUSES = (S.verified.value, S.closed.value)


def community_counts(session: Session, region: Region, *, now: datetime
                     ) -> list[CommunityCounts]:
    """One row per community in ``region``'s subtree (the region itself if it is one), by
    code: hazards by where they stand (``overdue`` as of ``now``), patrols and the places
    they inspected."""
    communities = list(session.scalars(
        select(Region).where(Region.path.startswith(region.path, autoescape=True),
                             Region.level == RegionLevel.community.value)
        .order_by(Region.code)))
    ids = [c.id for c in communities]
    rows = {c.id: CommunityCounts(region_id=c.id, region_code=c.code, name=c.name)
            for c in communities}
    if not ids:
        return []

    def share(condition: ColumnElement[bool]):
        return func.sum(case((condition, 1), else_=0))

    hazards = session.execute(
        select(Hazard.region_id, func.count(), share(Hazard.status.in_(OPEN_HAZARD_STATUSES)),
               share(_overdue(now)), share(Hazard.status == S.listed.value),
               share(Hazard.status.in_(FIXED_STATUSES)),
               share(Hazard.status.in_(VERIFIED_STATUSES)))
        .where(Hazard.region_id.in_(ids)).group_by(Hazard.region_id))
    for region_id, *values in hazards:
        row = rows[region_id]
        (row.reported, row.open, row.overdue, row.listed, row.fixed,
         row.verified) = (int(v or 0) for v in values)
    patrols = session.execute(select(Patrol.region_id, func.count()).where(
        Patrol.region_id.in_(ids)).group_by(Patrol.region_id))
    for region_id, count in patrols:
        rows[region_id].patrols = int(count)
    places = session.execute(select(Patrol.region_id, func.count(PatrolPlace.id))
                             .join(PatrolPlace, PatrolPlace.patrol_id == Patrol.id)
                             .where(Patrol.region_id.in_(ids)).group_by(Patrol.region_id))
    for region_id, count in places:
        rows[region_id].places_inspected = int(count)
    return [rows[i] for i in ids]


def totals(rows: list[CommunityCounts]) -> Counts:
    total = Counts()
    for row in rows:
        total.add(row)
    return total


def summary(session: Session, principal: Principal, region_code: str, *, now: datetime
            ) -> tuple[Region, list[CommunityCounts], Counts]:
    region = region_by_code_in_scope(session, region_code, principal, field="region")
    rows = community_counts(session, region, now=now)
    return region, rows, totals(rows)


def record_patrol(session: Session, settings: Settings, principal: Principal,
                  data: PatrolCreate, *, now: datetime) -> Patrol:
    """Record a patrol and credit its volunteer's service hours once (rounded up, capped).
    One volunteer cannot be on two overlapping patrols, so a resubmitted patrol earns
    nothing twice."""
    region = _community(session, principal, data.region_code, field="region_code")
    if data.ended_at <= data.started_at:
        raise Unprocessable("the patrol must end after it starts", field="ended_at")
    if data.ended_at > now + CLOCK_SKEW:
        raise Unprocessable("the patrol cannot end in the future", field="ended_at")
    volunteer_id = _patroller(session, principal, data.volunteer_id)
    if volunteer_id is not None:
        # Serialise this volunteer's patrols so that the overlap check below holds on
        # PostgreSQL too (SQLite serialises every writer already).
        session.execute(select(Volunteer.id).where(Volunteer.id == volunteer_id)
                        .with_for_update())
    if volunteer_id is not None and session.scalar(select(Patrol.id).where(
            Patrol.volunteer_id == volunteer_id, Patrol.started_at < data.ended_at,
            Patrol.ended_at > data.started_at).limit(1)) is not None:
        raise _overlapping()
    hazard_ids = sorted(set(data.hazard_ids))
    for hazard_id in hazard_ids:
        hazard = get_hazard(session, principal, hazard_id, field="hazard_ids")
        if hazard.region_id != region.id:
            raise Unprocessable(f"hazard {hazard_id} is not in the patrolled community",
                                field="hazard_ids")
    patrol = Patrol(region_id=region.id, volunteer_id=volunteer_id,
                    recorded_by=principal.actor, started_at=data.started_at,
                    ended_at=data.ended_at, note=data.note, credited_minutes=0)
    try:
        with session.begin_nested():
            session.add(patrol)
            session.flush()
    except IntegrityError as exc:
        raise _overlapping() from exc
    session.add_all([PatrolPlace(patrol_id=patrol.id, compound=p.compound,
                                 building=p.building, unit=p.unit) for p in data.places])
    session.add_all([PatrolHazard(patrol_id=patrol.id, hazard_id=h) for h in hazard_ids])
    if volunteer_id is not None:
        minutes = min(service_hours.minutes_served(
            data.started_at, data.ended_at, round_to=settings.service_credit_round_minutes,
            minimum=0), settings.patrol_max_credit_minutes)
        if minutes > 0 and service_hours.credit(
                session, volunteer_id, source=HoursSource.patrol, source_id=patrol.id,
                minutes=minutes, at=now, note=f"patrol {region.name}"):
            patrol.credited_minutes = minutes
    session.flush()
    return patrol


def _patroller(session: Session, principal: Principal, volunteer_id: int | None
               ) -> int | None:
    """Who earns the hours: a volunteer themself; for an admin, the volunteer named."""
    if principal.role is Role.volunteer:
        if volunteer_id not in (None, principal.volunteer_id):
            raise Forbidden("volunteers record their own patrols", field="volunteer_id")
        return principal.volunteer_id
    if volunteer_id is None:
        return None
    return get_scoped(session, Volunteer, volunteer_id, principal, entity="volunteer",
                      field="volunteer_id").id


def _overlapping() -> Conflict:
    return Conflict("this volunteer already has a patrol recorded at that time",
                    field="started_at", code="overlapping_patrol")


def patrols_query(session: Session, principal: Principal, *, region_code: str | None,
                  volunteer_id: int | None) -> Select:
    stmt = select(Patrol).where(visible(session, Patrol.region_id, principal,
                                        within_code=region_code))
    if volunteer_id is not None:
        stmt = stmt.where(Patrol.volunteer_id == volunteer_id)
    return stmt.order_by(Patrol.started_at.desc(), Patrol.id.desc())


def patrol_contents(session: Session, patrol_ids: list[int]
                    ) -> tuple[dict[int, list[PatrolPlace]], dict[int, list[int]]]:
    """Places and hazards of a page of patrols, in two queries."""
    places: dict[int, list[PatrolPlace]] = defaultdict(list)
    for place in session.scalars(select(PatrolPlace).where(PatrolPlace.patrol_id.in_(
            patrol_ids)).order_by(PatrolPlace.id)):
        places[place.patrol_id].append(place)
    hazards: dict[int, list[int]] = defaultdict(list)
    for patrol_id, hazard_id in session.execute(
            select(PatrolHazard.patrol_id, PatrolHazard.hazard_id)
            .where(PatrolHazard.patrol_id.in_(patrol_ids)).order_by(PatrolHazard.hazard_id)):
        hazards[patrol_id].append(hazard_id)
    return places, hazards
