"""Dispatch: ranked responders and AEDs by walking time, for 120 consoles."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import DbSession, DispatcherDep, Live, Networks, ResponseCrs, SettingsDep
from app.errors import ServiceUnavailable, problem_responses
from app.geo.crs import Crs
from app.models.base import utcnow
from app.schemas.dispatch import RankedAed, RankedResponder, RankRequest, RankResponse
from app.security import mask_phone
from app.services import dispatch as service
from app.services.scope import region_path_in_scope
from app.spatial import point_out_lonlat

router = APIRouter(prefix="/v1/dispatch", tags=["dispatch"])


@router.post("/rank", operation_id="rank_responders", response_model=RankResponse,
             responses=problem_responses(ServiceUnavailable))
def post_rank(data: RankRequest, session: DbSession, networks: Networks, live: Live,
              settings: SettingsDep, principal: DispatcherDep,
              crs: ResponseCrs = Crs.wgs84) -> RankResponse:
    """Rank eligible responders (active, on duty with a fresh plausible fix, certified for
    the kind, not busy) and usable AEDs by walking time from one bounded search; for a
    cardiac arrest, choose who fetches which AED so that the first AED arrives earliest
    without delaying the first person at the patient."""
    now = utcnow()
    ranked = service.rank(session, networks, live, settings, location=data.location,
                          kind=data.kind, budget_s=data.budget_s, limit=data.limit, now=now)
    plan = ranked.plan
    responders = []
    for row, volunteer in zip(plan.responders, ranked.volunteers, strict=True):
        fix = ranked.fixes[row.responder]
        # positions only for dispatchers whose area covers the volunteer
        visible = region_path_in_scope(ranked.region_paths[volunteer.region_id], principal)
        responders.append(RankedResponder(
            volunteer_id=volunteer.id, name=volunteer.name,
            phone_masked=mask_phone(volunteer.phone), role=row.role,
            eta_s=round(row.eta_seconds, 1), distance_m=round(row.distance_m, 1),
            direct_eta_s=round(row.direct_seconds, 1),
            aed_id=ranked.aeds[row.aed] if row.aed is not None else None,
            aed_eta_s=round(row.to_aed_seconds, 1) if row.to_aed_seconds is not None else None,
            position=point_out_lonlat(fix.lon, fix.lat, crs) if visible else None))
    return RankResponse(
        city=ranked.located.city.city_code, speed_mps=ranked.speed_mps,
        budget_s=ranked.budget_s, eligible_responders=plan.reachable_responders,
        responders=responders,
        aeds=[RankedAed(equipment_id=ranked.aeds[a.aed], eta_s=round(a.eta_seconds, 1),
                        distance_m=round(a.distance_m, 1)) for a in plan.aeds],
        first_responder_eta_s=plan.first_responder_seconds,
        first_aed_eta_s=plan.first_aed_seconds)
