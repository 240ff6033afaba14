"""Dispatch: ranked responders and AEDs by walking time, for 120 consoles."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.deps import (
    DispatcherDep,
    Live,
    Networks,
    ResponseCrs,
    SettingsDep,
    UnitsDep,
)
from app.errors import ServiceUnavailable, problem_responses
from app.geo.crs import Crs
from app.models.base import utcnow
from app.responses import json_response
from app.schemas.dispatch import RankRequest, RankResponse
from app.services import dispatch as service

router = APIRouter(prefix="/v1/dispatch", tags=["dispatch"])


@router.post("/rank", operation_id="rank_responders", response_model=RankResponse,
             responses=problem_responses(ServiceUnavailable))
async def post_rank(data: RankRequest, units: UnitsDep, networks: Networks, live: Live,
                    settings: SettingsDep, principal: DispatcherDep,
                    crs: ResponseCrs = Crs.wgs84) -> Response:
    """Rank eligible responders (active, on duty with a fresh plausible fix, certified for
    the kind, not busy) and usable AEDs by walking time from one bounded search; for a
    cardiac arrest, choose who fetches which AED so that the first AED arrives earliest
    without delaying the first person at the patient."""
    ranked = await units.read(
        lambda session: service.rank(session, networks, live, settings, location=data.location,
                                     kind=data.kind, budget_s=data.budget_s, limit=data.limit,
                                     now=utcnow()))
    return json_response(service.rank_response(ranked, principal, crs))
