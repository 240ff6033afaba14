"""The volunteer's own duty status and live location (mini-program)."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import DbSession, Live, Networks, ResponseCrs, SelfVolunteer, SettingsDep
from app.errors import Conflict, NotFound, ServiceUnavailable, problem_responses
from app.geo.crs import Crs
from app.live.state import FixVerdict, VolunteerLive
from app.models.base import utcnow
from app.schemas.live import (
    DutyIn,
    FixVerdictRead,
    LiveRead,
    LocationBatchIn,
    LocationIn,
)
from app.services import duty as service
from app.services import incidents
from app.spatial import point_out_lonlat

router = APIRouter(prefix="/v1/volunteers/me", tags=["live"])
ERRORS = problem_responses(NotFound, ServiceUnavailable)


def live_read(state: VolunteerLive, crs: Crs) -> LiveRead:
    fix = state.fix
    return LiveRead(on_duty=state.on_duty, on_duty_since=state.on_duty_since,
                    location=point_out_lonlat(fix.lon, fix.lat, crs) if fix else None,
                    accuracy_m=fix.accuracy_m if fix else None,
                    received_at=fix.received_at if fix else None)


def verdict_read(verdict: FixVerdict) -> FixVerdictRead:
    return FixVerdictRead(status=verdict.status, reasons=list(verdict.reasons),
                          live=verdict.live)


@router.get("/live", operation_id="get_my_live_state", response_model=LiveRead,
            responses=ERRORS)
def get_live(principal: SelfVolunteer, live: Live, crs: ResponseCrs = Crs.wgs84) -> LiveRead:
    return live_read(service.own_state(live, principal.volunteer_id, now=utcnow()), crs)


@router.put("/duty", operation_id="set_my_duty", response_model=LiveRead,
            responses=problem_responses(NotFound, Conflict, ServiceUnavailable))
def put_duty(data: DutyIn, session: DbSession, principal: SelfVolunteer, live: Live,
             networks: Networks, settings: SettingsDep, crs: ResponseCrs = Crs.wgs84
             ) -> LiveRead:
    """On duty: location is shared and alerts arrive. Off duty deletes the live location at
    once and stands the volunteer down from any incident (replaced by the next best)."""
    now = utcnow()
    state = service.set_duty(session, live, principal.volunteer_id, on_duty=data.on_duty,
                             now=now)
    if not data.on_duty:
        for incident in incidents.stand_down(session, principal.volunteer_id,
                                             reason="off_duty", now=now):
            incidents.escalate(session, networks, live, settings, incident, now=now)
    return live_read(state, crs)


@router.put("/location", operation_id="report_my_location", response_model=FixVerdictRead,
            responses=ERRORS)
def put_location(data: LocationIn, session: DbSession, principal: SelfVolunteer, live: Live,
                 networks: Networks, settings: SettingsDep) -> FixVerdictRead:
    """A fresh fix while on duty. Implausible fixes (impossible speed, zero or huge accuracy,
    a clock far off) are flagged and not used; the previous fix stays. A responder who has
    moved out of reach of its incident is stood down (and replaced)."""
    verdicts = service.report_locations(live, principal.volunteer_id, [data],
                                        received_at=utcnow())
    _follow_moves(session, live, networks, settings, principal.volunteer_id)
    return verdict_read(verdicts[0])


@router.post("/locations", operation_id="report_my_locations",
             response_model=list[FixVerdictRead], responses=ERRORS)
def post_locations(data: LocationBatchIn, session: DbSession, principal: SelfVolunteer,
                   live: Live, networks: Networks, settings: SettingsDep
                   ) -> list[FixVerdictRead]:
    """Fixes a device queued while offline; the latest plausible one becomes live."""
    verdicts = service.report_locations(live, principal.volunteer_id, data.fixes,
                                        received_at=utcnow())
    _follow_moves(session, live, networks, settings, principal.volunteer_id)
    return [verdict_read(v) for v in verdicts]


def _follow_moves(session: DbSession, live: Live, networks: Networks, settings: SettingsDep,
                  volunteer_id: int) -> None:
    now = utcnow()
    fix = service.own_state(live, volunteer_id, now=now).fix
    if fix is None:
        return
    for incident in incidents.out_of_reach(session, networks, volunteer_id, lon=fix.lon,
                                           lat=fix.lat, now=now,
                                           max_snap_m=settings.max_snap_m):
        incidents.escalate(session, networks, live, settings, incident, now=now)
