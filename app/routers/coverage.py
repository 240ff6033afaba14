"""Coverage audit and the programmes' compliance targets, for auditors and admins."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from app.deps import DbSession, Live, Networks, Reader, ResponseCrs, SettingsDep, read_only
from app.errors import NotFound, problem_responses
from app.geo.crs import Crs
from app.models.base import utcnow
from app.schemas.coverage import (
    CommunityComplianceRead,
    ComplianceReport,
    CoverageReport,
    CoverageRow,
    MovableAedRead,
    PlacementReport,
    PlacementRequest,
    ProposedSiteRead,
)
from app.services import coverage as service
from app.services.compliance import community_compliance
from app.services.coverage import CoverageOf, CoverageResult, ResponderPlacement
from app.services.coverage_export import coverage_geojson, rows_csv
from app.services.scope import region_by_code_in_scope
from app.spatial import point_out_lonlat

router = APIRouter(prefix="/v1", tags=["coverage"])


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    geojson = "geojson"

RegionCode = Annotated[str, Query(description="Code of the audited region (its subtree).",
                                  examples=["120101"])]


def _report_rows(results: list[CoverageResult]) -> list[CoverageRow]:
    return [CoverageRow.model_validate(row, from_attributes=True)
            for result in results for row in result.rows]


@router.get("/coverage", operation_id="coverage", response_model=CoverageReport,
            responses={**problem_responses(NotFound), 200: {
                "description": "JSON by default; `format=csv` gives text/csv rows and "
                               "`format=geojson` the uncovered stretches and per-street "
                               "times as application/geo+json.",
                "content": {"text/csv": {"schema": {"type": "string"}},
                            "application/geo+json": {"schema": {"type": "object"}}}}})
def get_coverage(
    session: DbSession, principal: Reader, networks: Networks, live: Live, region: RegionCode,
    minutes: Annotated[float, Query(gt=0, le=30, description="Budget, minutes.",
                                    examples=[4])] = 4,
    of: Annotated[CoverageOf, Query(description="aed, responders or both.",
                                    examples=["both"])] = CoverageOf.aed,
    at: Annotated[AwareDatetime | None, Query(
        description="Moment for opening hours, expiry and certificates (default now).",
        examples=["2026-11-23T03:00:00+08:00"])] = None,
    include_unverified: Annotated[bool, Query(
        description="Also report AEDs that are unverified (e.g. imported from "
        "OpenStreetMap) as a separate source set.")] = False,
    speed_mps: Annotated[float | None, Query(gt=0, le=10, description="Walking speed "
                                             "(default: the region's responder speed).",
                                             examples=[1.8])] = None,
    format_: Annotated[ReportFormat, Query(alias="format", description="json, csv or "
                                           "geojson.")] = ReportFormat.json,
    responders: Annotated[ResponderPlacement, Query(
        description="Where responders stand: their home/duty anchors (planning) or their "
        "live on-duty positions (now).")] = ResponderPlacement.anchors,
) -> Any:
    """The 4-minute circle of a region and each child region: shares of street length,
    building floor area and population within the budget, and p50/p90 of the walking time
    to the nearest source, from one multi-source search over the city's network."""
    scope = region_by_code_in_scope(session, region, principal, field="region")
    moment = at or utcnow()
    area, _, results = service.audit(session, networks, scope, minutes=minutes, of=of,
                                     at=moment, include_unverified=include_unverified,
                                     speed_mps=speed_mps, responders=responders, live=live)
    if format_ is ReportFormat.csv:
        rows = [row for result in results for row in result.rows]
        return Response(rows_csv(rows), media_type="text/csv")
    if format_ is ReportFormat.geojson:
        return JSONResponse(coverage_geojson(results, area), media_type="application/geo+json")
    return CoverageReport(region=scope.code, minutes=minutes,
                          speed_mps=results[0].coverage.speed_mps if results else
                          speed_mps or scope.responder_speed_mps,
                          at=moment, rows=_report_rows(results))


@router.post("/coverage/placements", operation_id="coverage_placements",
             response_model=PlacementReport, responses=problem_responses(NotFound))
@read_only
def post_placements(data: PlacementRequest, session: DbSession, principal: Reader,
                    networks: Networks, crs: ResponseCrs = Crs.wgs84) -> PlacementReport:
    """Where `count` new AEDs would cover most of the region's uncovered street length
    (greedy maximal covering), each with its marginal gain; and which existing AEDs add
    least (the street length only they cover)."""
    scope = region_by_code_in_scope(session, data.region, principal, field="region")
    result = service.propose_placements(
        session, networks, scope, count=data.count, minutes=data.minutes,
        candidates=data.candidates, at=data.at or utcnow(), speed_mps=data.speed_mps)
    return PlacementReport(
        region=result.region_code, budget_s=result.budget_s,
        total_length_m=result.total_length_m, uncovered_before_m=result.uncovered_before_m,
        sites=[ProposedSiteRead(location=point_out_lonlat(s.lon, s.lat, crs), gain_m=s.gain_m,
                                cumulative_share=round(s.cumulative_share, 4))
               for s in result.sites],
        least_valuable=[MovableAedRead(equipment_id=m.equipment_id,
                                       location=point_out_lonlat(m.lon, m.lat, crs),
                                       unique_m=m.unique_m, covered_m=m.covered_m)
                        for m in result.least_valuable])


@router.get("/compliance", operation_id="compliance", response_model=ComplianceReport,
            responses=problem_responses(NotFound))
def get_compliance(session: DbSession, principal: Reader, settings: SettingsDep,
                   region: RegionCode) -> ComplianceReport:
    """Per community: qualified responders (target 15), certified trainers (target 3),
    certificates expiring within 30 days, equipment needing service or past expiry, and the
    training pass and excellent rates (targets 95 % and 30 %; null before any assessment)."""
    scope = region_by_code_in_scope(session, region, principal, field="region")
    now = utcnow()
    rows = [CommunityComplianceRead.model_validate(r, from_attributes=True)
            for r in community_compliance(session, scope, settings, at=now)]
    return ComplianceReport(
        region=scope.code, evaluated_at=now,
        target_responders_per_community=settings.target_responders_per_community,
        target_trainers_per_community=settings.target_trainers_per_community,
        target_pass_rate=settings.target_pass_rate,
        target_excellent_rate=settings.target_excellent_rate,
        communities=rows,
        communities_missing_responder_target=sum(not r.responders_target_met for r in rows),
        communities_missing_trainer_target=sum(not r.trainers_target_met for r in rows))
