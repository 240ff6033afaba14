"""Going on and off duty, and reporting positions, for the volunteer's own mini-program."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from app.errors import Conflict, ServiceUnavailable
from app.geo.crs import to_wgs84
from app.live.state import Fix, FixVerdict, LiveState, LiveStateUnavailable, VolunteerLive
from app.models import Region
from app.models.volunteer import VolunteerStatus
from app.schemas.live import LocationIn
from app.services.scope import city_of
from app.services.volunteers import get_self

T = TypeVar("T")


def _live(call: Callable[[], T]) -> T:
    """Run a live-state call; an unreachable store is a 503, not a 500."""
    try:
        return call()
    except LiveStateUnavailable as exc:
        raise ServiceUnavailable("live state is unavailable; try again shortly") from exc


def set_duty(session: Session, live: LiveState, volunteer_id: int, *, on_duty: bool,
             now: datetime) -> VolunteerLive:
    volunteer = get_self(session, volunteer_id)
    if on_duty:
        if volunteer.status != VolunteerStatus.active.value:
            raise Conflict(f"a {volunteer.status} volunteer cannot go on duty",
                           field="on_duty", code="not_active")
        city = city_of(session, session.get(Region, volunteer.region_id))
        _live(lambda: live.set_on_duty(volunteer_id, city.code, now=now))
    else:
        _live(lambda: live.set_off_duty(volunteer_id, now=now))
    return _live(lambda: live.get(volunteer_id, now=now))


def _fix(location: LocationIn) -> Fix:
    lon, lat = to_wgs84(location.lon, location.lat, location.crs)
    return Fix(lon=lon, lat=lat, accuracy_m=location.accuracy_m,
               recorded_at=location.recorded_at)


def report_locations(live: LiveState, volunteer_id: int, locations: list[LocationIn], *,
                     received_at: datetime) -> list[FixVerdict]:
    fixes = [_fix(location) for location in locations]
    return _live(lambda: live.record_fixes(volunteer_id, fixes, received_at=received_at))


def own_state(live: LiveState, volunteer_id: int, *, now: datetime) -> VolunteerLive:
    return _live(lambda: live.get(volunteer_id, now=now))
