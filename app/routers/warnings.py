"""Risk warnings: admins publish them for an area; on-duty and subscribed volunteers inside
it get them pushed like alerts; anyone can ask what is in force at a place."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.deps import (
    PUBLIC,
    Admin,
    CrsQuery,
    DbSession,
    Lat,
    Live,
    Lon,
    PageDep,
    Reader,
    SelfVolunteer,
    SettingsDep,
)
from app.errors import Conflict, NotFound, problem_responses
from app.geo.crs import Crs
from app.models import RiskWarning
from app.models.base import utcnow
from app.schemas.common import Page, PointIn
from app.schemas.warning import (
    ActiveWarning,
    SubscriptionIn,
    SubscriptionRead,
    WarningCreate,
    WarningRead,
)
from app.services import warnings as service
from app.services.pagination import paginate

router = APIRouter(tags=["warnings"])


def _reads(session: DbSession, items: list[RiskWarning]) -> list[WarningRead]:
    counts = service.pushed_counts(session, [w.id for w in items])
    return [WarningRead.model_validate({
        **{name: getattr(w, name) for name in WarningRead.model_fields if name != "pushed_to"},
        "pushed_to": counts.get(w.id, 0)}) for w in items]


@router.post("/v1/warnings", operation_id="publish_warning", response_model=WarningRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound))
def publish_warning(data: WarningCreate, session: DbSession, live: Live, settings: SettingsDep,
                    principal: Admin) -> WarningRead:
    """Publish a warning for a region (or an area within it). At its start it is pushed to
    the on-duty volunteers whose live position is inside the area and to those who
    subscribed for a place inside it, through the alert stream and WeChat."""
    warning = service.publish(session, live, settings, principal, data, now=utcnow())
    return _reads(session, [warning])[0]


@router.get("/v1/warnings", operation_id="list_warnings", response_model=Page[WarningRead],
            responses=problem_responses(NotFound))
def list_warnings(
    session: DbSession, principal: Reader, page: PageDep,
    region: Annotated[str | None, Query(description="Only this region code and its subtree.",
                                        examples=["120101"])] = None,
    active: Annotated[bool, Query(description="Only warnings in force now.")] = False,
) -> Page[WarningRead]:
    stmt = service.warnings_query(session, principal, region_code=region,
                                  active_at=utcnow() if active else None)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=_reads(session, items), total=total, limit=page.limit,
                offset=page.offset)


@router.get("/v1/warnings/active", operation_id="active_warnings",
            response_model=list[ActiveWarning], dependencies=[Depends(PUBLIC)],
            responses=problem_responses())
def active_warnings(session: DbSession, lon: Lon, lat: Lat, crs: CrsQuery = Crs.wgs84
                    ) -> list[ActiveWarning]:
    """Public: the warnings in force at a place, most severe first."""
    place = PointIn(lon=lon, lat=lat, crs=crs)
    return [ActiveWarning.model_validate(w)
            for w in service.active_at_place(session, place, now=utcnow())]


@router.get("/v1/warnings/{warning_id}", operation_id="get_warning",
            response_model=WarningRead, responses=problem_responses(NotFound))
def get_warning(warning_id: int, session: DbSession, principal: Reader) -> WarningRead:
    return _reads(session, [service.get_warning(session, principal, warning_id)])[0]


@router.post("/v1/warnings/{warning_id}/cancel", operation_id="cancel_warning",
             response_model=WarningRead, responses=problem_responses(NotFound, Conflict))
def cancel_warning(warning_id: int, session: DbSession, principal: Admin) -> WarningRead:
    """Withdraw a warning; the volunteers who received it are told."""
    return _reads(session, [service.cancel(session, principal, warning_id, now=utcnow())])[0]


@router.put("/v1/volunteers/me/warning-subscription", operation_id="subscribe_to_warnings",
            response_model=SubscriptionRead, responses=problem_responses())
def subscribe(data: SubscriptionIn, session: DbSession, principal: SelfVolunteer
              ) -> SubscriptionRead:
    """Receive warnings for a place (default: my home anchor) also when off duty."""
    subscription = service.subscribe(session, principal.volunteer_id, data)
    return SubscriptionRead(volunteer_id=principal.volunteer_id, active=subscription.active,
                            uses_home=data.location is None)
