"""Risk warnings: published by admins for an area, pushed at their start to the on-duty
volunteers whose live position is inside it and to volunteers who subscribed for a place
inside it, through the timeline that carries alerts; and looked up by anyone at a place."""

from __future__ import annotations

from datetime import datetime, timedelta

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Unprocessable
from app.geo.crs import to_wgs84
from app.live.state import LiveState
from app.models import IncidentEvent, Region, RiskWarning, Volunteer, WarningSubscription
from app.schemas.common import BBox, PointIn
from app.schemas.warning import SubscriptionIn, WarningCreate
from app.security import Principal
from app.services.regions import boundary_element
from app.services.scope import city_of, get_scoped, region_by_code_in_scope, visible
from app.services.timeline import warning_event
from app.settings import Settings
from app.spatial import covers_point, point_element, wgs84_lonlat, within_bbox

MAX_VALIDITY = timedelta(days=30)
PUSHED, WITHDRAWN = "warning", "warning_withdrawn"


def publish(session: Session, live: LiveState, settings: Settings, principal: Principal,
            data: WarningCreate, *, now: datetime) -> RiskWarning:
    if data.kind not in settings.warning_kinds:
        raise Unprocessable(f"unknown warning kind {data.kind!r}", field="kind")
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    valid_from = data.valid_from or now
    if data.valid_until <= valid_from:
        raise Unprocessable("valid_until must be after valid_from", field="valid_until")
    if data.valid_until - valid_from > MAX_VALIDITY:
        raise Unprocessable("a warning lasts at most 30 days", field="valid_until")
    area = boundary_element(data.area, field="area") if data.area is not None else None
    if area is None and region.boundary is None:
        raise Unprocessable("the region has no boundary: give the warning an area",
                            field="area")
    if area is not None and region.boundary is not None and not to_shape(
            region.boundary).buffer(1e-4).contains(to_shape(area)):
        raise Unprocessable("the area must lie within the region", field="area")
    warning = RiskWarning(kind=data.kind, severity=data.severity.value, message=data.message,
                          region_id=region.id, area=area, valid_from=valid_from,
                          valid_until=data.valid_until, created_by=principal.subject)
    session.add(warning)
    session.flush()
    if valid_from <= now:
        push(session, live, warning, now=now)
    return warning


def _polygon(session: Session, warning: RiskWarning) -> shapely.Geometry:
    if warning.area is not None:
        return to_shape(warning.area)
    return to_shape(session.get(Region, warning.region_id).boundary)


def recipients(session: Session, live: LiveState, warning: RiskWarning, *, now: datetime
               ) -> list[int]:
    """On-duty volunteers with a fresh fix inside the area, and subscribers whose place (or
    home) is inside it."""
    polygon = _polygon(session, warning)
    shapely.prepare(polygon)
    city = city_of(session, session.get(Region, warning.region_id))
    on_duty = {f.volunteer_id for f in live.on_duty_fresh(now=now, city_code=city.code,
                                                          bbox=polygon.bounds)
               if polygon.contains(shapely.Point(f.lon, f.lat))}
    # Subscribers from the spatial index (their place, or their home when they gave none),
    # then exactly inside the area.
    box = BBox(min_lon=polygon.bounds[0], min_lat=polygon.bounds[1],
               max_lon=polygon.bounds[2], max_lat=polygon.bounds[3])
    dialect = session.get_bind().dialect.name
    active = (select(WarningSubscription.volunteer_id)
              .join(Volunteer, Volunteer.id == WarningSubscription.volunteer_id)
              .where(WarningSubscription.active.is_(True)))
    places = session.execute(active.add_columns(WarningSubscription.location).where(
        within_bbox(WarningSubscription.location, box, dialect=dialect))).all()
    homes = session.execute(active.add_columns(Volunteer.home_location).where(
        WarningSubscription.location.is_(None),
        within_bbox(Volunteer.home_location, box, dialect=dialect))).all()
    subscribed = {volunteer_id for volunteer_id, where in [*places, *homes]
                  if polygon.contains(shapely.Point(*wgs84_lonlat(where)))}
    return sorted(on_duty | subscribed)


def push(session: Session, live: LiveState, warning: RiskWarning, *, now: datetime) -> int:
    """Put the warning on each recipient's timeline (their stream and WeChat follow it)."""
    people = recipients(session, live, warning, now=now)
    for volunteer_id in people:
        warning_event(session, warning, PUSHED, at=now, volunteer_id=volunteer_id,
                      warning_kind=warning.kind, severity=warning.severity,
                      message=warning.message, valid_until=warning.valid_until.isoformat())
    warning.pushed_at = now
    session.flush()
    return len(people)


def _due(now: datetime) -> Select:
    return select(RiskWarning).where(
        RiskWarning.pushed_at.is_(None), RiskWarning.cancelled_at.is_(None),
        RiskWarning.valid_from <= now, RiskWarning.valid_until > now)


def any_due(session: Session, *, now: datetime) -> bool:
    return session.scalar(_due(now).with_only_columns(RiskWarning.id).limit(1)) is not None


def push_due(session: Session, live: LiveState, *, now: datetime) -> int:
    """Push the warnings whose start has come (for the periodic sweep)."""
    due = session.scalars(_due(now)).all()
    for warning in due:
        push(session, live, warning, now=now)
    return len(due)


def cancel(session: Session, principal: Principal, warning_id: int, *, now: datetime
           ) -> RiskWarning:
    """Withdraw a warning; whoever received it is told."""
    warning = get_warning(session, principal, warning_id)
    if warning.cancelled_at is not None:
        raise Conflict("the warning was already withdrawn", field="warning_id",
                       code="invalid_transition")
    warning.cancelled_at = now
    for volunteer_id in session.scalars(select(IncidentEvent.volunteer_id).where(
            IncidentEvent.warning_id == warning.id, IncidentEvent.kind == PUSHED)):
        warning_event(session, warning, WITHDRAWN, at=now, volunteer_id=volunteer_id)
    session.flush()
    return warning


def get_warning(session: Session, principal: Principal, warning_id: int) -> RiskWarning:
    return get_scoped(session, RiskWarning, warning_id, principal, entity="warning",
                      field="warning_id")


def pushed_counts(session: Session, warning_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(
        select(IncidentEvent.warning_id, func.count()).where(
            IncidentEvent.warning_id.in_(warning_ids), IncidentEvent.kind == PUSHED)
        .group_by(IncidentEvent.warning_id)).all())


def warnings_query(session: Session, principal: Principal, *, region_code: str | None,
                   active_at: datetime | None) -> Select:
    stmt = select(RiskWarning).where(visible(session, RiskWarning.region_id, principal,
                                             within_code=region_code))
    if active_at is not None:
        stmt = stmt.where(*_active(active_at))
    return stmt.order_by(RiskWarning.valid_from.desc(), RiskWarning.id.desc())


def _active(now: datetime) -> tuple:
    return (RiskWarning.cancelled_at.is_(None), RiskWarning.valid_from <= now,
            RiskWarning.valid_until > now)


def active_at_place(session: Session, place: PointIn, *, now: datetime) -> list[RiskWarning]:
    """Warnings in force at a place, most severe first (for the public). The database
    tests each warning's area (or its region's outline) against the place: none of the
    country's other warnings is loaded."""
    lon, lat = to_wgs84(place.lon, place.lat, place.crs)
    found = session.scalars(
        select(RiskWarning).join(Region, Region.id == RiskWarning.region_id)
        .where(*_active(now),
               covers_point(func.coalesce(RiskWarning.area, Region.boundary), lon, lat)))
    order = ["red", "orange", "yellow", "blue"]
    return sorted(found, key=lambda w: (order.index(w.severity), -w.valid_from.timestamp()))


def subscribe(session: Session, volunteer_id: int, data: SubscriptionIn
              ) -> WarningSubscription:
    subscription = session.get(WarningSubscription, volunteer_id)
    if subscription is None:
        subscription = WarningSubscription(volunteer_id=volunteer_id)
        session.add(subscription)
    subscription.active = data.active
    subscription.location = point_element(data.location) if data.location else None
    session.flush()
    return subscription
