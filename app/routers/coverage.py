"""Coverage audit and the programmes' compliance targets, for auditors and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import DbSession, Reader, SettingsDep
from app.errors import NotFound, problem_responses
from app.models.base import utcnow
from app.schemas.coverage import CommunityComplianceRead, ComplianceReport
from app.services.compliance import community_compliance
from app.services.scope import region_by_code_in_scope

router = APIRouter(prefix="/v1", tags=["coverage"])

RegionCode = Annotated[str, Query(description="Code of the audited region (its subtree).",
                                  examples=["120101"])]


@router.get("/compliance", operation_id="compliance", response_model=ComplianceReport,
            responses=problem_responses(NotFound))
def get_compliance(session: DbSession, principal: Reader, settings: SettingsDep,
                   region: RegionCode) -> ComplianceReport:
    """Per community: qualified responders (target 15), certified trainers (target 3),
    certificates expiring within 30 days, equipment needing service or past expiry."""
    scope = region_by_code_in_scope(session, region, principal, field="region")
    now = utcnow()
    rows = [CommunityComplianceRead.model_validate(r, from_attributes=True)
            for r in community_compliance(session, scope, settings, at=now)]
    return ComplianceReport(
        region=scope.code, evaluated_at=now,
        target_responders_per_community=settings.target_responders_per_community,
        target_trainers_per_community=settings.target_trainers_per_community,
        communities=rows,
        communities_missing_responder_target=sum(not r.responders_target_met for r in rows),
        communities_missing_trainer_target=sum(not r.trainers_target_met for r in rows))
