"""Group drill I/O."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import InputModel, PointIn


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
