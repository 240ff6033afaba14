"""Dispatch ranking I/O for consoles (CAD)."""

from __future__ import annotations

from pydantic import Field

from app.models.incident import AssignmentRole
from app.schemas.common import InputModel, OutputModel, PointIn, PointOut


class RankRequest(InputModel):
    location: PointIn = Field(description="Where the patient is.")
    kind: str = Field(min_length=1, max_length=32, description="Incident kind (configured "
                      "with the skills it needs), e.g. cardiac_arrest, trauma.",
                      examples=["cardiac_arrest"])
    budget_s: float | None = Field(None, gt=0, le=3600, description="Walking-time budget "
                                   "(default: the city's, 240 s).", examples=[240])
    limit: int = Field(7, ge=1, le=50, description="Most responders to alert.", examples=[7])


class RankedResponder(OutputModel):
    volunteer_id: int = Field(description="Volunteer.", examples=[12])
    name: str = Field(description="Name.", examples=["张伟"])
    phone_masked: str = Field(description="Masked phone.", examples=["138****1234"])
    role: AssignmentRole = Field(description="direct: straight to the patient; fetch_aed: "
                                 "responder → AED → patient.", examples=["fetch_aed"])
    eta_s: float = Field(description="Arrival at the patient (with the AED for fetchers), s.",
                         examples=[168.0])
    distance_m: float = Field(description="Walking distance of that trip, metres.",
                              examples=[302.4])
    direct_eta_s: float = Field(description="Arrival if the responder went straight, s.",
                                examples=[95.0])
    aed_id: int | None = Field(description="AED to fetch (fetchers).", examples=[7])
    aed_eta_s: float | None = Field(description="When a fetcher reaches the AED, s.",
                                    examples=[61.0])
    position: PointOut | None = Field(description="Live position; only for volunteers in the "
                                      "caller's area.")


class RankedAed(OutputModel):
    equipment_id: int = Field(description="AED.", examples=[7])
    eta_s: float = Field(description="Walking time from the AED to the patient, s.",
                         examples=[107.0])
    distance_m: float = Field(description="Walking distance, metres.", examples=[192.6])


class RankResponse(OutputModel):
    city: str = Field(description="City whose network answered.", examples=["120000"])
    speed_mps: float = Field(description="Responder walking speed used.", examples=[1.8])
    budget_s: float = Field(description="Budget used, seconds.", examples=[240])
    eligible_responders: int = Field(description="Eligible responders within the budget.",
                                     examples=[9])
    responders: list[RankedResponder] = Field(description="Who to alert, by arrival.")
    aeds: list[RankedAed] = Field(description="Usable AEDs within the budget, nearest first.")
    first_responder_eta_s: float | None = Field(description="Expected first arrival of "
                                                "anyone at the patient, s.", examples=[95.0])
    first_aed_eta_s: float | None = Field(description="Expected first AED at the patient, s.",
                                          examples=[168.0])
