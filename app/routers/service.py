"""Service hours, rewards, and the follow-ups after an incident (check-ins, AED checks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Admin, DbSession, PageDep, Reader, SelfVolunteer
from app.errors import Conflict, NotFound, problem_responses
from app.models import Volunteer
from app.models.base import utcnow
from app.models.service import FollowUpKind, FollowUpStatus
from app.schemas.common import Page
from app.schemas.service import (
    AedCheckAnswer,
    CheckInAnswer,
    FollowUpRead,
    RedemptionCreate,
    RedemptionRead,
    RewardCreate,
    RewardRead,
    RewardUpdate,
    ServiceEntryRead,
    ServiceSummary,
)
from app.services import follow_ups, service_hours
from app.services.pagination import paginate
from app.services.scope import get_scoped

router = APIRouter(tags=["service"])

RegionQuery = Annotated[str | None, Query(description="Only this region code and its subtree.",
                                          examples=["120101"])]
StatusQuery = Annotated[FollowUpStatus | None, Query(alias="status",
                                                     description="Only pending or answered.")]


def _summary(session: DbSession, volunteer_id: int) -> ServiceSummary:
    return ServiceSummary.model_validate(service_hours.account(session, volunteer_id))


@router.get("/v1/volunteers/me/service", operation_id="get_my_service",
            response_model=ServiceSummary, responses=problem_responses())
def my_service(session: DbSession, principal: SelfVolunteer) -> ServiceSummary:
    """My service minutes: earned in all, and the balance left for rewards."""
    return _summary(session, principal.volunteer_id)


@router.get("/v1/volunteers/me/service/entries", operation_id="list_my_service_entries",
            response_model=Page[ServiceEntryRead], responses=problem_responses())
def my_service_entries(session: DbSession, principal: SelfVolunteer, page: PageDep
                       ) -> Page[ServiceEntryRead]:
    """My ledger, newest first: what was credited for what, and what I redeemed."""
    items, total = paginate(session, service_hours.entries_query(principal.volunteer_id),
                            limit=page.limit, offset=page.offset)
    return Page(items=[ServiceEntryRead.model_validate(e) for e in items], total=total,
                limit=page.limit, offset=page.offset)


@router.get("/v1/volunteers/{volunteer_id}/service", operation_id="get_volunteer_service",
            response_model=ServiceSummary, responses=problem_responses(NotFound))
def volunteer_service(volunteer_id: int, session: DbSession, principal: Reader
                      ) -> ServiceSummary:
    get_scoped(session, Volunteer, volunteer_id, principal, entity="volunteer",
               field="volunteer_id")
    return _summary(session, volunteer_id)


@router.get("/v1/volunteers/me/rewards", operation_id="list_my_rewards",
            response_model=Page[RewardRead], responses=problem_responses())
def my_rewards(session: DbSession, principal: SelfVolunteer, page: PageDep
               ) -> Page[RewardRead]:
    """Rewards offered in my area, cheapest first."""
    stmt = service_hours.rewards_for_volunteer_query(session, principal.volunteer_id)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[RewardRead.model_validate(r) for r in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/volunteers/me/redemptions", operation_id="redeem_reward",
             response_model=RedemptionRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Conflict))
def redeem(data: RedemptionCreate, session: DbSession, principal: SelfVolunteer
           ) -> RedemptionRead:
    """Spend service hours on a reward. Never overspends, whatever the concurrency: 409
    `insufficient_hours` or `out_of_stock`."""
    redemption = service_hours.redeem(session, principal.volunteer_id, data.reward_id,
                                      now=utcnow())
    balance = service_hours.account(session, principal.volunteer_id).balance_minutes
    return RedemptionRead(id=redemption.id, reward_id=redemption.reward_id,
                          cost_minutes=redemption.cost_minutes, at=redemption.at,
                          balance_minutes=balance)


@router.get("/v1/rewards", operation_id="list_rewards", response_model=Page[RewardRead],
            responses=problem_responses(NotFound))
def list_rewards(session: DbSession, principal: Reader, page: PageDep,
                 region: RegionQuery = None) -> Page[RewardRead]:
    stmt = service_hours.rewards_query(session, principal, region_code=region)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[RewardRead.model_validate(r) for r in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/rewards", operation_id="create_reward", response_model=RewardRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound))
def create_reward(data: RewardCreate, session: DbSession, principal: Admin) -> RewardRead:
    return RewardRead.model_validate(service_hours.create_reward(session, data,
                                                                 principal=principal))


@router.patch("/v1/rewards/{reward_id}", operation_id="update_reward",
              response_model=RewardRead, responses=problem_responses(NotFound))
def update_reward(reward_id: int, data: RewardUpdate, session: DbSession, principal: Admin
                  ) -> RewardRead:
    return RewardRead.model_validate(service_hours.update_reward(session, reward_id, data,
                                                                 principal=principal))


@router.get("/v1/volunteers/me/check-ins", operation_id="list_my_check_ins",
            response_model=Page[FollowUpRead], responses=problem_responses())
def my_check_ins(session: DbSession, principal: SelfVolunteer, page: PageDep,
                 status_: StatusQuery = None) -> Page[FollowUpRead]:
    """After each incident I responded to: how am I, do I want a debrief talk?"""
    stmt = follow_ups.my_check_ins_query(principal.volunteer_id, status_)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[FollowUpRead.model_validate(f) for f in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/volunteers/me/check-ins/{check_in_id}", operation_id="answer_my_check_in",
             response_model=FollowUpRead, responses=problem_responses(NotFound, Conflict))
def answer_check_in(check_in_id: int, data: CheckInAnswer, session: DbSession,
                    principal: SelfVolunteer) -> FollowUpRead:
    """Answer once (409 after). Asking for a debrief, or being distressed or injured, puts a
    `support_requested` event on the incident's timeline for the programme to reach out;
    the answer itself stays with the follow-up, for the area's admins."""
    follow_up = follow_ups.answer_check_in(session, check_in_id, principal.volunteer_id, data,
                                           now=utcnow())
    return FollowUpRead.model_validate(follow_up)


@router.get("/v1/follow-ups", operation_id="list_follow_ups",
            response_model=Page[FollowUpRead], responses=problem_responses(NotFound))
def list_follow_ups(
    session: DbSession, principal: Reader, page: PageDep, region: RegionQuery = None,
    kind: Annotated[FollowUpKind | None, Query(description="Only this kind.")] = None,
    status_: StatusQuery = None,
) -> Page[FollowUpRead]:
    """Check-ins and AED checks of the caller's area, newest first."""
    stmt = follow_ups.follow_ups_query(session, principal, region_code=region, kind=kind,
                                       status=status_)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[FollowUpRead.model_validate(f) for f in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/follow-ups/{follow_up_id}/aed-check", operation_id="answer_aed_check",
             response_model=FollowUpRead, responses=problem_responses(NotFound, Conflict))
def answer_aed_check(follow_up_id: int, data: AedCheckAnswer, session: DbSession,
                     principal: Admin) -> FollowUpRead:
    """The owner's check of a fetched AED: back in its cabinet, working and pads unused →
    available again; otherwise it goes on the maintenance list (needs_service)."""
    follow_up, _ = follow_ups.answer_aed_check(session, follow_up_id, principal, data,
                                               now=utcnow())
    return FollowUpRead.model_validate(follow_up)

