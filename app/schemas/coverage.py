"""Coverage audit and compliance I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.common import OutputModel


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


class ComplianceReport(OutputModel):
    region: str = Field(description="Code of the audited region.", examples=["120101"])
    evaluated_at: datetime = Field(description="Moment of evaluation, UTC.",
                                   examples=["2026-11-23T08:00:00Z"])
    target_responders_per_community: int = Field(description="Responder target.",
                                                 examples=[15])
    target_trainers_per_community: int = Field(description="Trainer target.", examples=[3])
    communities: list[CommunityComplianceRead] = Field(description="One row per community.")
    communities_missing_responder_target: int = Field(
        description="Communities below the responder target.", examples=[4])
    communities_missing_trainer_target: int = Field(
        description="Communities below the trainer target.", examples=[2])
