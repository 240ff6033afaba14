"""Hazards, their closed-loop steps, and patrol records."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from app.models.hazard import HazardAction, HazardStatus
from app.schemas.common import InputModel, OutputModel, PointIn, PointOut, Timestamps


class HazardCreate(InputModel):
    kind: str = Field(min_length=1, max_length=32, description="One of the configured hazard "
                      "kinds (e.g. blocked_exit, ebike_charging_indoors, corridor_clutter, "
                      "fire_equipment_missing, other).", examples=["ebike_charging_indoors"])
    location: PointIn = Field(description="Where the hazard is.")
    region_code: str = Field(min_length=1, max_length=64, description="The community it is "
                             "in (a volunteer: their own community).", examples=["120101001"])
    compound: str = Field("", max_length=200, description="Residential compound (小区).",
                          examples=["金华里"])
    building: str = Field("", max_length=100, description="Building (楼栋).", examples=["3号楼"])
    unit: str = Field("", max_length=100, description="Unit or stairwell (单元).",
                      examples=["2单元"])
    description: str = Field("", max_length=2000, description="What is wrong.",
                             examples=["一楼楼道内电动车充电"])
    photo_ref: str = Field("", max_length=500, description="Reference to a photo already "
                           "uploaded (URL or storage key).",
                           examples=["hazards/2026/11/23/8f3c.jpg"])


class HazardStep(InputModel):
    note: str = Field("", max_length=2000, description="What was done or found; required to "
                      "reject a fix.", examples=["已当场劝离并断电"])
    department: str | None = Field(None, min_length=1, max_length=200, description="The "
                                   "responsible department, required to list a hazard (and "
                                   "to reject an on-the-spot fix); only for list and reject.",
                                   examples=["区消防救援支队"])


class HazardEventRead(OutputModel):
    id: int = Field(description="Step id.", examples=[31])
    action: HazardAction = Field(description="report, fix, list, rectify, verify, reject or "
                                 "close.", examples=["list"])
    from_status: HazardStatus | None = Field(description="State before (none for the report).",
                                             examples=["reported"])
    to_status: HazardStatus = Field(description="State after.", examples=["listed"])
    by: str = Field(description="Who: a console user's subject, or `volunteer:<id>`.",
                    examples=["hexi-community-admin"])
    volunteer_id: int | None = Field(description="The volunteer who took the step, if one "
                                     "did.", examples=[None])
    at: datetime = Field(description="When, UTC.", examples=["2026-11-23T08:10:00Z"])
    note: str = Field(description="Note given with the step.", examples=["物业无法处理, 转街道"])
    department: str | None = Field(description="Department it was listed for (list, reject).",
                                   examples=["区消防救援支队"])


class HazardRead(Timestamps):
    id: int = Field(description="Hazard id.", examples=[8])
    kind: str = Field(description="Hazard kind.", examples=["ebike_charging_indoors"])
    status: HazardStatus = Field(description="reported, fixed_on_spot, listed, rectified, "
                                 "verified or closed.", examples=["listed"])
    location: PointOut = Field(description="Where, in the `crs` asked for.")
    region_id: int = Field(description="Community it is in.", examples=[17])
    compound: str = Field(description="Residential compound.", examples=["金华里"])
    building: str = Field(description="Building.", examples=["3号楼"])
    unit: str = Field(description="Unit or stairwell.", examples=["2单元"])
    description: str = Field(description="What is wrong.", examples=["一楼楼道内电动车充电"])
    photo_ref: str = Field(description="Photo reference.",
                           examples=["hazards/2026/11/23/8f3c.jpg"])
    department: str | None = Field(description="Responsible department it is listed for.",
                                   examples=["区消防救援支队"])
    reported_by: str = Field(description="Who reported it.", examples=["volunteer:12"])
    reporter_volunteer_id: int | None = Field(description="Reporting volunteer, if one did.",
                                              examples=[12])
    reported_at: datetime = Field(description="When reported, UTC.",
                                  examples=["2026-11-23T08:00:00Z"])
    due_at: datetime = Field(description="Deadline for a verified fix (reported_at plus the "
                             "kind's days), UTC.", examples=["2026-11-26T08:00:00Z"])
    overdue: bool = Field(description="Not verified yet and past `due_at`.", examples=[False])
    verified_at: datetime | None = Field(description="When the fix was verified, UTC.",
                                         examples=[None])
    closed_at: datetime | None = Field(description="When closed, UTC.", examples=[None])


class HazardDetail(HazardRead):
    events: list[HazardEventRead] = Field(description="Every step, oldest first.")


class HazardCounts(OutputModel):
    reported: int = Field(description="Hazards reported in all.", examples=[12])
    open: int = Field(description="Not verified yet (reported, fixed_on_spot, listed, "
                      "rectified).", examples=[5])
    overdue: int = Field(description="Open and past their deadline.", examples=[1])
    listed: int = Field(description="On a department's problem list now, not yet "
                        "rectified.", examples=[2])
    fixed: int = Field(description="Fixed, verified or not (fixed_on_spot, rectified, "
                       "verified, closed).", examples=[9])
    verified: int = Field(description="Fix verified (verified, closed).", examples=[7])
    patrols: int = Field(description="Patrols recorded.", examples=[20])
    places_inspected: int = Field(description="Compounds, buildings and units inspected on "
                                  "those patrols (each time counted).", examples=[64])


class CommunityHazardCounts(HazardCounts):
    region_id: int = Field(description="Community id.", examples=[17])
    region_code: str = Field(description="Community code.", examples=["120101001"])
    name: str = Field(description="Community name.", examples=["小白楼街道"])


class HazardSummary(OutputModel):
    region: str = Field(description="Code of the region summarised.", examples=["120101"])
    evaluated_at: datetime = Field(description="Moment `overdue` was evaluated, UTC.",
                                   examples=["2026-11-23T08:00:00Z"])
    communities: list[CommunityHazardCounts] = Field(description="One row per community in "
                                                     "the region, by code.")
    totals: HazardCounts = Field(description="All communities together.")


class PatrolPlaceIn(InputModel):
    compound: str = Field(min_length=1, max_length=200, description="Residential compound.",
                          examples=["金华里"])
    building: str = Field("", max_length=100, description="Building (empty: the compound "
                          "as a whole).", examples=["3号楼"])
    unit: str = Field("", max_length=100, description="Unit or stairwell (empty: the "
                      "building as a whole).", examples=["2单元"])


class PatrolPlaceRead(OutputModel):
    compound: str = Field(description="Residential compound.", examples=["金华里"])
    building: str = Field(description="Building.", examples=["3号楼"])
    unit: str = Field(description="Unit or stairwell.", examples=["2单元"])


class PatrolCreate(InputModel):
    region_code: str = Field(min_length=1, max_length=64, description="The community "
                             "patrolled.", examples=["120101001"])
    started_at: AwareDatetime = Field(description="Start, with its UTC offset.",
                                      examples=["2026-11-23T09:00:00+08:00"])
    ended_at: AwareDatetime = Field(description="End, after the start and not in the "
                                    "future.", examples=["2026-11-23T10:10:00+08:00"])
    places: list[PatrolPlaceIn] = Field(min_length=1, max_length=500, description="Places "
                                        "inspected.")
    note: str = Field("", max_length=2000, description="Anything worth noting.",
                      examples=["3号楼消防通道已清理"])
    hazard_ids: list[int] = Field(default_factory=list, max_length=100, description="Hazards "
                                  "found (reported first), in the same community.")
    volunteer_id: int | None = Field(None, description="Admins: the volunteer who patrolled, "
                                     "credited with the hours. Volunteers record their own "
                                     "patrols and leave it out.", examples=[12])


class PatrolRead(OutputModel):
    id: int = Field(description="Patrol id.", examples=[4])
    region_id: int = Field(description="Community patrolled.", examples=[17])
    volunteer_id: int | None = Field(description="Volunteer who patrolled.", examples=[12])
    recorded_by: str = Field(description="Who recorded it.", examples=["volunteer:12"])
    started_at: datetime = Field(description="Start, UTC.", examples=["2026-11-23T01:00:00Z"])
    ended_at: datetime = Field(description="End, UTC.", examples=["2026-11-23T02:10:00Z"])
    places: list[PatrolPlaceRead] = Field(description="Places inspected.")
    note: str = Field(description="Note.", examples=["3号楼消防通道已清理"])
    hazard_ids: list[int] = Field(description="Hazards found.")
    credited_minutes: int = Field(description="Service minutes credited to the volunteer.",
                                  examples=[75])
    created_at: datetime = Field(description="Recorded, UTC.",
                                 examples=["2026-11-23T02:15:00Z"])
