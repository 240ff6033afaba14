"""Coverage audit and compliance I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from app.schemas.common import OSM_ATTRIBUTION, InputModel, OutputModel, PointOut
from app.services.coverage import CandidateKind


class CommunityComplianceRead(OutputModel):
    region_id: int = Field(description="Community id.", examples=[17])
    code: str = Field(description="Community code.", examples=["120101001"])
    name: str = Field(description="Community name.", examples=["小白楼街道"])
    qualified_responders: int = Field(description="Active volunteers with a valid CPR "
                                      "certificate.", examples=[16])
    certified_trainers: int = Field(description="Active volunteers tagged trainer with a "
                                    "valid certificate.", examples=[3])
    certificates_expiring: int = Field(description="Valid certificates of active volunteers "
                                       "that expire within 30 days.", examples=[2])
    equipment_needing_service: int = Field(description="Equipment needing service, out of "
                                           "service, or past a pads/battery expiry.",
                                           examples=[1])
    responders_target_met: bool = Field(description="At least the responder target.",
                                        examples=[True])
    trainers_target_met: bool = Field(description="At least the trainer target.",
                                      examples=[True])
    training_assessed: int = Field(description="Volunteers with an assessment (each counted "
                                   "once, by their latest).", examples=[20])
    training_pass_rate: float | None = Field(description="Share of them whose latest "
                                             "assessment passed (null: nobody assessed).",
                                             examples=[0.95])
    training_excellent_rate: float | None = Field(description="Share of them whose latest "
                                                  "assessment was excellent (null: nobody "
                                                  "assessed).", examples=[0.35])
    pass_rate_target_met: bool | None = Field(description="At least the pass-rate target "
                                              "(null: nobody assessed).", examples=[True])
    excellent_rate_target_met: bool | None = Field(description="At least the excellent-rate "
                                                   "target (null: nobody assessed).",
                                                   examples=[True])


class ComplianceReport(OutputModel):
    region: str = Field(description="Code of the audited region.", examples=["120101"])
    evaluated_at: datetime = Field(description="Moment of evaluation, UTC.",
                                   examples=["2026-11-23T08:00:00Z"])
    target_responders_per_community: int = Field(description="Responder target.",
                                                 examples=[15])
    target_trainers_per_community: int = Field(description="Trainer target.", examples=[3])
    target_pass_rate: float = Field(description="Training pass-rate target.", examples=[0.95])
    target_excellent_rate: float = Field(description="Training excellent-rate target.",
                                         examples=[0.3])
    communities: list[CommunityComplianceRead] = Field(description="One row per community.")
    communities_missing_responder_target: int = Field(
        description="Communities below the responder target.", examples=[4])
    communities_missing_trainer_target: int = Field(
        description="Communities below the trainer target.", examples=[2])


class CoverageRow(OutputModel):
    """Coverage of one region (the audited one first, then its children) by one source set."""

    region_code: str = Field(description="Region code.", examples=["120101001"])
    name: str = Field(description="Region name.", examples=["小白楼街道"])
    level: str = Field(description="city, district or community.", examples=["community"])
    of: str = Field(description="Source set: aed (usable AEDs), aed_including_unverified, or "
                    "responders (qualified, at their anchors).", examples=["aed"])
    sources: int = Field(description="Sources placed on the network.", examples=[37])
    length_share: float | None = Field(description="Share of street length within the "
                                       "budget (0-1; null: no streets).", examples=[0.83])
    building_share: float | None = Field(description="Share of building floor area within "
                                         "the budget (null: no buildings).", examples=[0.77])
    population_share: float | None = Field(description="Share of residents within the budget "
                                           "(population spread over buildings; null: unknown).",
                                           examples=[0.8])
    p50_s: float | None = Field(description="Median walking time to the nearest source over "
                                "the street length, seconds (null: beyond reach).",
                                examples=[146.0])
    p90_s: float | None = Field(description="90th percentile of that time, seconds.",
                                examples=[279.0])
    total_length_m: float = Field(description="Street length of the region.",
                                  examples=[35971.1])
    covered_length_m: float = Field(description="Street length within the budget.",
                                    examples=[33184.9])
    buildings: int = Field(description="Buildings in the region.", examples=[167])
    population: int | None = Field(description="Residents, when known.", examples=[12000])


class CoverageReport(OutputModel):
    region: str = Field(description="Audited region.", examples=["120101"])
    minutes: float = Field(description="Budget, minutes.", examples=[4])
    speed_mps: float = Field(description="Walking speed used, m/s.", examples=[1.8])
    at: datetime = Field(description="Moment the sources were evaluated (opening hours, "
                         "expiry, certificates).", examples=["2026-11-23T06:00:00Z"])
    rows: list[CoverageRow] = Field(description="Per source set, the region then its children.")
    attribution: str = Field(OSM_ATTRIBUTION, description="Data attribution (ODbL).",
                             examples=[OSM_ATTRIBUTION])


class PlacementRequest(InputModel):
    region: str = Field(description="Region whose gaps to close.", examples=["120101"])
    count: int = Field(5, ge=1, le=100, description="New AEDs to place.", examples=[5])
    minutes: float = Field(4, gt=0, le=30, description="Budget, minutes.", examples=[4])
    candidates: CandidateKind = Field(CandidateKind.nodes, description="Where new AEDs may go: "
                                      "street junctions (nodes) or buildings.",
                                      examples=["buildings"])
    at: AwareDatetime | None = Field(None, description="Moment for AED usability (default "
                                     "now).", examples=["2026-11-23T14:00:00+08:00"])
    speed_mps: float | None = Field(None, gt=0, le=10, description="Walking speed (default: "
                                    "the region's responder speed).", examples=[1.8])


class ProposedSiteRead(OutputModel):
    location: PointOut = Field(description="Where to put the AED.")
    gain_m: float = Field(description="Uncovered street length this site adds, metres.",
                          examples=[4131.4])
    cumulative_share: float = Field(description="Share of the region's street length covered "
                                    "once this and the earlier sites are placed.",
                                    examples=[0.87])


class MovableAedRead(OutputModel):
    equipment_id: int = Field(description="Existing AED.", examples=[10])
    location: PointOut = Field(description="Where it stands.")
    unique_m: float = Field(description="Street length only this AED covers, metres.",
                            examples=[0.0])
    covered_m: float = Field(description="Street length it covers in all, metres.",
                             examples=[13169.3])


class PlacementReport(OutputModel):
    region: str = Field(description="Region.", examples=["120101"])
    budget_s: float = Field(description="Budget, seconds.", examples=[240])
    total_length_m: float = Field(description="Street length of the region.", examples=[97725.5])
    uncovered_before_m: float = Field(description="Uncovered length before the new sites.",
                                      examples=[16943.4])
    sites: list[ProposedSiteRead] = Field(description="New sites in picking order (greedy "
                                          "maximal covering); gains do not increase.")
    least_valuable: list[MovableAedRead] = Field(description="Existing AEDs covering least "
                                                 "that no other AED covers: candidates to "
                                                 "move.")
    attribution: str = Field(OSM_ATTRIBUTION, description="Data attribution (ODbL).",
                             examples=[OSM_ATTRIBUTION])
