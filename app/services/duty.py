"""Going on and off duty, and reporting positions, for the volunteer's own mini-program."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.errors import Conflict
from app.geo.crs import to_wgs84
from app.live.state import Fix, FixVerdict, LiveState, VolunteerLive
from app.models import Region
from app.models.volunteer import VolunteerStatus
from app.schemas.live import LocationIn
from app.services.scope import city_of
from app.services.volunteers import get_self


def set_duty(session: Session, live: LiveState, volunteer_id: int, *, on_duty: bool,
             now: datetime) -> VolunteerLive:
    volunteer = get_self(session, volunteer_id)
    if on_duty:
        if volunteer.status != VolunteerStatus.active.value:
            raise Conflict(f"a {volunteer.status} volunteer cannot go on duty",
                           field="on_duty", code="not_active")
        city = city_of(session, session.get(Region, volunteer.region_id))
        live.set_on_duty(volunteer_id, city.code, now=now)
    else:
        live.set_off_duty(volunteer_id, now=now)
    return live.get(volunteer_id, now=now)


def _fix(location: LocationIn) -> Fix:
    lon, lat = to_wgs84(location.lon, location.lat, location.crs)
    return Fix(lon=lon, lat=lat, accuracy_m=location.accuracy_m,
               recorded_at=location.recorded_at)


def report_locations(live: LiveState, volunteer_id: int, locations: list[LocationIn], *,
                     received_at: datetime) -> list[FixVerdict]:
    fixes = [_fix(location) for location in locations]
    return live.record_fixes(volunteer_id, fixes, received_at=received_at)


def own_state(live: LiveState, volunteer_id: int, *, now: datetime) -> VolunteerLive:
    return live.get(volunteer_id, now=now)
