"""Hazards (the closed loop: report, fix on the spot or list for a department, rectify,
verify, close) and patrol records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from app.deps import (
    DbSession,
    PageDep,
    Reader,
    ResponseCrs,
    SelfVolunteer,
    SettingsDep,
    allow,
)
from app.errors import Conflict, Forbidden, NotFound, problem_responses
from app.geo.crs import Crs
from app.models import Hazard, Patrol
from app.models.base import utcnow
from app.models.hazard import HazardAction, HazardStatus
from app.schemas.common import Page
from app.schemas.hazard import (
    CommunityHazardCounts,
    HazardCounts,
    HazardCreate,
    HazardDetail,
    HazardEventRead,
    HazardRead,
    HazardStep,
    HazardSummary,
    PatrolCreate,
    PatrolPlaceRead,
    PatrolRead,
)
from app.security import ADMIN_ROLES, READ_ROLES, Principal, Role
from app.services import hazards as service
from app.services.pagination import paginate
from app.spatial import point_out

router = APIRouter(tags=["hazards"])

# Volunteers report hazards, fix them on the spot and see their own reports; the area's
# admins take every step; readers (dispatchers, auditors) see the area's lists and counts.
Reporter = Annotated[Principal, Depends(allow(Role.volunteer, *ADMIN_ROLES))]
HazardViewer = Annotated[Principal, Depends(allow(Role.volunteer, *READ_ROLES))]

RegionQuery = Annotated[str | None, Query(description="Only this region code and its subtree.",
                                          examples=["120101"])]
StatusQuery = Annotated[HazardStatus | None, Query(alias="status",
                                                   description="Only hazards in this state.")]


def hazard_read(hazard: Hazard, crs: Crs, now: datetime) -> HazardRead:
    return HazardRead(
        id=hazard.id, kind=hazard.kind, status=hazard.status,
        location=point_out(hazard.location, crs), region_id=hazard.region_id,
        compound=hazard.compound, building=hazard.building, unit=hazard.unit,
        description=hazard.description, photo_ref=hazard.photo_ref,
        department=hazard.department, reported_by=hazard.reported_by,
        reporter_volunteer_id=hazard.reporter_volunteer_id, reported_at=hazard.reported_at,
        due_at=hazard.due_at, overdue=service.is_overdue(hazard, now),
        verified_at=hazard.verified_at, closed_at=hazard.closed_at,
        created_at=hazard.created_at, updated_at=hazard.updated_at)


def hazard_detail(session: DbSession, hazard: Hazard, crs: Crs) -> HazardDetail:
    read = hazard_read(hazard, crs, utcnow())
    return HazardDetail(**read.model_dump(), events=[
        HazardEventRead.model_validate(e) for e in service.events_of(session, hazard)])


def _page(items: list[Hazard], total: int, page: PageDep, crs: Crs) -> Page[HazardRead]:
    now = utcnow()
    return Page(items=[hazard_read(h, crs, now) for h in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/hazards", operation_id="report_hazard", response_model=HazardDetail,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound))
def report_hazard(data: HazardCreate, session: DbSession, settings: SettingsDep,
                  principal: Reporter, crs: ResponseCrs = Crs.wgs84) -> HazardDetail:
    """Report a hazard in a community (a volunteer: in their own). Its deadline for a
    verified fix follows from its kind (`RESCUE_HAZARD_KINDS`)."""
    hazard = service.report(session, settings, principal, data, now=utcnow())
    return hazard_detail(session, hazard, crs)


@router.get("/v1/hazards", operation_id="list_hazards", response_model=Page[HazardRead],
            responses=problem_responses(NotFound))
def list_hazards(
    session: DbSession, principal: Reader, page: PageDep, crs: ResponseCrs = Crs.wgs84,
    region: RegionQuery = None, status_: StatusQuery = None,
    kind: Annotated[str | None, Query(description="Only this kind.",
                                      examples=["blocked_exit"])] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (true) or not overdue "
                                          "(false) hazards.", examples=[True])] = None,
) -> Page[HazardRead]:
    """The area's hazards, newest report first."""
    stmt = service.hazards_query(session, principal, region_code=region, status=status_,
                                 kind=kind, overdue=overdue, now=utcnow())
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return _page(items, total, page, crs)


@router.get("/v1/hazards/summary", operation_id="hazard_summary",
            response_model=HazardSummary, responses=problem_responses(NotFound))
def hazard_summary(
    session: DbSession, principal: Reader,
    region: Annotated[str, Query(description="Region code: one row per community in it.",
                                 examples=["120101"])],
) -> HazardSummary:
    """Per community: hazards reported, open, overdue, on a problem list, fixed and verified;
    patrols and the places they inspected."""
    now = utcnow()
    scope, rows, total = service.summary(session, principal, region, now=now)
    return HazardSummary(
        region=scope.code, evaluated_at=now,
        communities=[CommunityHazardCounts.model_validate(r) for r in rows],
        totals=HazardCounts.model_validate(total))


@router.get("/v1/volunteers/me/hazards", operation_id="list_my_hazards",
            response_model=Page[HazardRead], responses=problem_responses())
def my_hazards(session: DbSession, principal: SelfVolunteer, page: PageDep,
               crs: ResponseCrs = Crs.wgs84, status_: StatusQuery = None) -> Page[HazardRead]:
    """The hazards I reported and where each stands, newest first."""
    stmt = service.my_hazards_query(principal.volunteer_id, status=status_, now=utcnow())
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return _page(items, total, page, crs)


@router.get("/v1/hazards/{hazard_id}", operation_id="get_hazard", response_model=HazardDetail,
            responses=problem_responses(NotFound))
def get_hazard(hazard_id: int, session: DbSession, principal: HazardViewer,
               crs: ResponseCrs = Crs.wgs84) -> HazardDetail:
    """A hazard with every step of its loop (a volunteer: only one they reported)."""
    return hazard_detail(session, service.get_hazard(session, principal, hazard_id), crs)


@router.post("/v1/hazards/{hazard_id}/{action}", operation_id="step_hazard",
             response_model=HazardDetail,
             responses=problem_responses(NotFound, Forbidden, Conflict))
def step_hazard(
    hazard_id: int,
    action: Annotated[HazardAction, Path(description="fix (on the spot), list (for a "
                                         "department), rectify, verify, reject (the fix, "
                                         "back to a problem list) or close.")],
    data: HazardStep, session: DbSession, principal: Reporter, crs: ResponseCrs = Crs.wgs84,
) -> HazardDetail:
    """One step of the closed loop: reported → fix → verify → close, or reported → list
    (naming the department) → rectify → verify → close; a failed verification rejects the
    fix (with a note) back to a problem list. Any other step is 409 `invalid_transition`;
    nothing closes unverified, and a fix is verified by someone other than who made it.
    Volunteers may only fix their own reports on the spot."""
    hazard = service.step(session, principal, hazard_id, action, data, now=utcnow())
    return hazard_detail(session, hazard, crs)


def patrol_reads(session: DbSession, patrols: list[Patrol]) -> list[PatrolRead]:
    places, hazards = service.patrol_contents(session, [p.id for p in patrols])
    return [PatrolRead(
        id=p.id, region_id=p.region_id, volunteer_id=p.volunteer_id,
        recorded_by=p.recorded_by, started_at=p.started_at, ended_at=p.ended_at,
        places=[PatrolPlaceRead.model_validate(x) for x in places.get(p.id, [])],
        note=p.note, hazard_ids=hazards.get(p.id, []), credited_minutes=p.credited_minutes,
        created_at=p.created_at) for p in patrols]


@router.post("/v1/patrols", operation_id="record_patrol", response_model=PatrolRead,
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Forbidden, Conflict))
def record_patrol(data: PatrolCreate, session: DbSession, settings: SettingsDep,
                  principal: Reporter) -> PatrolRead:
    """Record a patrol of a community: when, which compounds, buildings and units were
    inspected, and the hazards found. The volunteer who patrolled is credited with service
    hours once (rounded up to the quarter hour, capped); overlapping patrols of one
    volunteer are 409 `overlapping_patrol`."""
    patrol = service.record_patrol(session, settings, principal, data, now=utcnow())
    return patrol_reads(session, [patrol])[0]


@router.get("/v1/patrols", operation_id="list_patrols", response_model=Page[PatrolRead],
            responses=problem_responses(NotFound))
def list_patrols(
    session: DbSession, principal: Reader, page: PageDep, region: RegionQuery = None,
    volunteer_id: Annotated[int | None, Query(description="Only this volunteer's patrols.",
                                              examples=[12])] = None,
) -> Page[PatrolRead]:
    """The area's patrols, latest first."""
    stmt = service.patrols_query(session, principal, region_code=region,
                                 volunteer_id=volunteer_id)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=patrol_reads(session, items), total=total, limit=page.limit,
                offset=page.offset)

