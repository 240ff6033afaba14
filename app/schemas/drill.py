"""Group drill I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.models.incident import AssignmentRole, AssignmentStatus, IncidentStatus
from app.schemas.common import InputModel, OutputModel, PointIn


class DrillCreate(InputModel):
    team_id: int = Field(description="The team to drill: all its members on duty within "
                         "reach are alerted.", examples=[3])
    location: PointIn = Field(description="Where the simulated patient is.")
    kind: str = Field("cardiac_arrest", min_length=1, max_length=32,
                      description="Incident kind to simulate.", examples=["cardiac_arrest"])
    address: str = Field("", max_length=480, description="Address shown after acceptance "
                         "(prefixed [DRILL]).", examples=["小白楼社区活动中心"])
    access_notes: str = Field("", max_length=2000, description="Gate, floor, door code.",
                              examples=["南门进, 2楼"])
    budget_s: float | None = Field(None, gt=0, le=3600, description="Walking-time budget "
                                   "(default: the city's).", examples=[480])


class DrillEnd(InputModel):
    outcome: str = Field("drill_done", min_length=1, max_length=64,
                         description="How the drill went.", examples=["drill_done"])


class DrillParticipant(OutputModel):
    volunteer_id: int = Field(description="Team member alerted.", examples=[12])
    role: AssignmentRole = Field(description="direct or fetch_aed.", examples=["fetch_aed"])
    status: AssignmentStatus = Field(description="alerted, accepted, arrived, released, "
                                     "declined, timed_out or cancelled.",
                                     examples=["accepted"])
    credited_minutes: int | None = Field(description="Drill hours credited when it ended, "
                                         "in minutes.", examples=[30])


class DrillRead(OutputModel):
    """A drill as its organiser follows it: who was alerted and how they responded. Walking
    times and distances stay with dispatchers (GET /v1/incidents/{id}): from drills at a
    few chosen points they would give away where each member is."""

    id: int = Field(description="The drill's (test) incident id.", examples=[41])
    kind: str = Field(description="Simulated incident kind.", examples=["cardiac_arrest"])
    status: IncidentStatus = Field(description="open or closed.", examples=["open"])
    address: str = Field(description="Address shown after acceptance.",
                         examples=["[DRILL] 小白楼社区活动中心"])
    outcome: str | None = Field(description="How it went, once ended.", examples=[None])
    created_at: datetime = Field(description="Started, UTC.",
                                 examples=["2026-11-23T06:00:00Z"])
    closed_at: datetime | None = Field(description="Ended, UTC.", examples=[None])
    participants: list[DrillParticipant] = Field(description="Team members alerted.")
