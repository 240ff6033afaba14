"""Team I/O."""

from __future__ import annotations

from pydantic import Field

from app.models.volunteer import TeamKind
from app.schemas.common import InputModel, Timestamps

TEAM_NAME = Field(min_length=1, max_length=200, description="Team name, unique in its region.",
                  examples=["小白楼街道社区急救志愿队"])


class TeamCreate(InputModel):
    name: str = TEAM_NAME
    kind: TeamKind = Field(description="community, university, enterprise, reserve or other.",
                           examples=["community"])
    region_code: str = Field(description="Code of the region the team belongs to.",
                             examples=["120101001"])
    leader_id: int | None = Field(None, description="Volunteer who leads the team.",
                                  examples=[12])


class TeamUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200, description="Team name.",
                             examples=["五大道急救队"])
    kind: TeamKind | None = Field(None, description="Team kind.", examples=["university"])
    leader_id: int | None = Field(None, description="Volunteer who leads the team.",
                                  examples=[12])


class TeamRead(Timestamps):
    id: int = Field(description="Team id.", examples=[3])
    name: str = Field(description="Team name.", examples=["小白楼街道社区急救志愿队"])
    kind: TeamKind = Field(description="Team kind.", examples=["community"])
    region_id: int = Field(description="Region id.", examples=[17])
    leader_id: int | None = Field(description="Leading volunteer's id.", examples=[12])
