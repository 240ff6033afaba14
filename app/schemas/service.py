"""Service hours, rewards, and the follow-ups asked after an incident."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from app.models.service import FollowUpKind, FollowUpStatus, HoursSource
from app.schemas.common import InputModel, OutputModel, Timestamps


class ServiceEntryRead(OutputModel):
    id: int = Field(description="Ledger line id.", examples=[41])
    source: HoursSource = Field(description="incident, drill, patrol, training, redemption or "
                                "adjustment.", examples=["incident"])
    source_id: int | None = Field(description="The incident, patrol, session or redemption.",
                                  examples=[5])
    minutes: int = Field(description="Minutes earned (positive) or spent (negative).",
                         examples=[45])
    note: str = Field(description="What it was for.", examples=["cardiac_arrest"])
    at: datetime = Field(description="When, UTC.", examples=["2026-11-23T06:40:00Z"])


class ServiceSummary(OutputModel):
    volunteer_id: int = Field(description="Volunteer.", examples=[12])
    earned_minutes: int = Field(description="All minutes ever credited.", examples=[630])
    balance_minutes: int = Field(description="Minutes left to spend on rewards.",
                                 examples=[390])


class RewardCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, description="What the volunteer gets.",
                      examples=["家庭急救包"])
    description: str = Field("", max_length=2000, description="Details and how to collect.",
                             examples=["到社区服务站领取"])
    cost_minutes: int = Field(gt=0, le=60000, multiple_of=15, description="Price in service "
                              "minutes (whole quarter hours).", examples=[240])
    stock: int | None = Field(None, ge=0, description="How many are left; null: unlimited.",
                              examples=[50])
    active: bool = Field(True, description="Offered now.", examples=[True])
    region_code: str = Field(description="Region whose volunteers it is offered to (and its "
                             "subtree).", examples=["120101"])


class RewardUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200, description="Name.",
                             examples=["免费体检"])
    description: str | None = Field(None, max_length=2000, description="Details.",
                                    examples=["每年一次"])
    cost_minutes: int | None = Field(None, gt=0, le=60000, multiple_of=15,
                                     description="Price in service minutes.", examples=[600])
    stock: int | None = Field(None, ge=0, description="How many are left; null: unlimited.",
                              examples=[20])
    active: bool | None = Field(None, description="Offered now.", examples=[False])


class RewardRead(Timestamps):
    id: int = Field(description="Reward id.", examples=[2])
    name: str = Field(description="Name.", examples=["家庭急救包"])
    description: str = Field(description="Details.", examples=["到社区服务站领取"])
    cost_minutes: int = Field(description="Price in service minutes.", examples=[240])
    stock: int | None = Field(description="How many are left; null: unlimited.", examples=[50])
    active: bool = Field(description="Offered now.", examples=[True])
    region_id: int = Field(description="Region offering it.", examples=[2])


class RedemptionCreate(InputModel):
    reward_id: int = Field(description="The reward to redeem.", examples=[2])


class RedemptionRead(OutputModel):
    id: int = Field(description="Redemption id.", examples=[7])
    reward_id: int = Field(description="Reward.", examples=[2])
    cost_minutes: int = Field(description="Minutes spent.", examples=[240])
    at: datetime = Field(description="When, UTC.", examples=["2026-11-23T08:00:00Z"])
    balance_minutes: int = Field(description="Balance left after it.", examples=[150])


class Wellbeing(StrEnum):
    ok = "ok"
    tired = "tired"
    distressed = "distressed"
    injured = "injured"


class CheckInAnswer(InputModel):
    wellbeing: Wellbeing = Field(description="How are you after the incident: ok, tired, "
                                 "distressed or injured.", examples=["ok"])
    wants_debrief: bool = Field(description="Would you like a debrief talk with the "
                                "programme's counsellor?", examples=[False])
    note: str = Field("", max_length=2000, description="Anything to tell the programme.",
                      examples=["病人已被120接走"])


class AedCheckAnswer(InputModel):
    pads_used: bool = Field(description="Pads were used and must be replaced.",
                            examples=[True])
    returned: bool = Field(description="The AED is back in its cabinet.", examples=[True])
    working: bool = Field(description="Self-test passed, battery fine.", examples=[True])
    note: str = Field("", max_length=2000, description="Anything else.",
                      examples=["电极片已更换"])


class FollowUpRead(OutputModel):
    id: int = Field(description="Follow-up id.", examples=[9])
    kind: FollowUpKind = Field(description="responder_checkin (asked of a responder) or "
                               "aed_check (asked of an AED's owner).",
                               examples=["responder_checkin"])
    status: FollowUpStatus = Field(description="pending or answered.", examples=["pending"])
    incident_id: int = Field(description="The closed incident it follows.", examples=[5])
    volunteer_id: int | None = Field(description="Responder asked (check-ins).",
                                     examples=[12])
    equipment_id: int | None = Field(description="AED to check (AED checks).",
                                     examples=[None])
    region_id: int = Field(description="Region of the volunteer or the AED.", examples=[17])
    asked_at: datetime = Field(description="When asked, UTC.",
                               examples=["2026-11-23T06:40:00Z"])
    answered_at: datetime | None = Field(description="When answered, UTC.", examples=[None])
    answered_by: str | None = Field(description="Who answered.", examples=[None])
    answer: dict[str, Any] | None = Field(description="The answer as given.", examples=[None])
