"""Incident and assignment I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.models.incident import AssignmentRole, AssignmentStatus, IncidentStatus
from app.schemas.common import InputModel, OutputModel, PointIn, PointOut
from app.schemas.dispatch import RankResponse


class IncidentCreate(InputModel):
    location: PointIn = Field(description="Where the patient is.")
    kind: str = Field(min_length=1, max_length=32, description="Incident kind, e.g. "
                      "cardiac_arrest.", examples=["cardiac_arrest"])
    address: str = Field("", max_length=500, description="Address, shared with responders "
                         "who accept.", examples=["和平区南京路219号 3单元"])
    access_notes: str = Field("", max_length=2000, description="Gate, floor, door code; "
                              "shared with responders who accept.", examples=["北门进, 5楼"])
    budget_s: float | None = Field(None, gt=0, le=3600, description="Walking-time budget "
                                   "(default: the city's).", examples=[240])
    is_test: bool = Field(False, description="A drill: runs the whole flow, counts in no "
                          "statistics.", examples=[False])


class IncidentClose(InputModel):
    outcome: str = Field(min_length=1, max_length=64, description="Outcome, e.g. "
                         "rosc, transported, deceased, false_alarm.", examples=["transported"])


class AssignmentRead(OutputModel):
    id: int = Field(description="Assignment id.", examples=[31])
    incident_id: int = Field(description="Incident.", examples=[5])
    volunteer_id: int = Field(description="Volunteer.", examples=[12])
    role: AssignmentRole = Field(description="direct or fetch_aed.", examples=["direct"])
    equipment_id: int | None = Field(description="AED to fetch.", examples=[None])
    status: AssignmentStatus = Field(description="alerted, accepted, arrived, released, "
                                     "declined, timed_out or cancelled.", examples=["alerted"])
    eta_s: float = Field(description="Expected arrival at the patient, s.", examples=[95.0])
    distance_m: float = Field(description="Walking distance, metres.", examples=[171.0])
    alerted_at: datetime = Field(description="When alerted, UTC.",
                                 examples=["2026-11-23T06:00:01Z"])


class EventRead(OutputModel):
    at: datetime = Field(description="When, UTC.", examples=["2026-11-23T06:00:01Z"])
    kind: str = Field(description="created, alerted, skipped_busy, under_covered, accepted, "
                      "declined, arrived, released, cancelled, closed.", examples=["alerted"])
    volunteer_id: int | None = Field(description="Volunteer concerned.", examples=[12])
    data: dict[str, Any] = Field(description="Details.", examples=[{"eta_s": 95.0}])


class IncidentRead(OutputModel):
    id: int = Field(description="Incident id.", examples=[5])
    kind: str = Field(description="Kind.", examples=["cardiac_arrest"])
    status: IncidentStatus = Field(description="open, closed or cancelled.", examples=["open"])
    location: PointOut = Field(description="Where.")
    address: str = Field(description="Address.", examples=["和平区南京路219号"])
    is_test: bool = Field(description="A drill.", examples=[False])
    under_covered: bool = Field(description="Too few responders or no AED in reach: the "
                                "console should act.", examples=[False])
    budget_s: float = Field(description="Budget used, s.", examples=[240])
    outcome: str | None = Field(description="Outcome once closed.", examples=[None])
    created_at: datetime = Field(description="Created, UTC.", examples=["2026-11-23T06:00:00Z"])
    closed_at: datetime | None = Field(description="Closed, UTC.", examples=[None])
    assignments: list[AssignmentRead] = Field(description="Responders alerted.")
    timeline: list[EventRead] = Field(description="Every step, in order.")


class IncidentCreated(OutputModel):
    incident: IncidentRead = Field(description="The new incident.")
    ranking: RankResponse = Field(description="The ranking it was dispatched from.")
    possible_duplicates: list[int] = Field(description="Open incidents of the same kind within "
                                           "100 m and 120 s (never merged silently).",
                                           examples=[[4]])


class AlertRead(OutputModel):
    """What an alerted volunteer sees before accepting: kind and walking distance only."""

    assignment_id: int = Field(description="Assignment id.", examples=[31])
    incident_id: int = Field(description="Incident id.", examples=[5])
    kind: str = Field(description="Incident kind.", examples=["cardiac_arrest"])
    role: AssignmentRole = Field(description="direct or fetch_aed.", examples=["fetch_aed"])
    status: AssignmentStatus = Field(description="Status.", examples=["alerted"])
    distance_m: float = Field(description="Walking distance, metres.", examples=[171.0])
    is_test: bool = Field(description="A drill.", examples=[False])


class AcceptedRead(AlertRead):
    """After acceptance: where exactly, how to get in, and the AED's cabinet PIN."""

    address: str = Field(description="Address.", examples=["和平区南京路219号"])
    access_notes: str = Field(description="Gate, floor, door code.", examples=["北门进, 5楼"])
    location: PointOut = Field(description="The patient.")
    aed_location: PointOut | None = Field(description="The AED to fetch first (fetchers).")
    aed_floor_note: str | None = Field(description="Where the AED is inside.", examples=["B1"])
    cabinet_pin: str | None = Field(description="Cabinet PIN, if the owner shared one.",
                                    examples=["4921"])
