"""Volunteer and certification I/O. Read schemas are the privacy boundary: phones masked."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, Field, field_validator, model_validator

from app.models.volunteer import RoleTag, Skill, VolunteerStatus
from app.schemas.common import InputModel, OutputModel, PointIn, PointOut, Timestamps

_PHONE = re.compile(r"^\+?[0-9]{5,20}$")


def normalise_phone(value: str) -> str:
    compact = re.sub(r"[\s()-]", "", value)
    if not _PHONE.match(compact):
        raise ValueError("phone must be 5-20 digits, optionally starting with +")
    return compact


PHONE = Field(description="Mobile number; stored whole, always shown masked.",
              examples=["13812341234"])
NAME = Field(min_length=1, max_length=100, description="Full name.", examples=["张伟"])
ROLES_DOC = "Role tags: community_worker, property_staff, veteran, resident, student, trainer."
HOME = Field(None, description="Home anchor point, for planning coverage.")
DUTY = Field(None, description="Usual duty anchor point (e.g. workplace), for planning.")


class VolunteerCreate(InputModel):
    name: str = NAME
    phone: str = PHONE
    region_code: str = Field(description="Code of the volunteer's community.",
                             examples=["120101001"])
    team_id: int | None = Field(None, description="Team the volunteer belongs to.",
                                examples=[3])
    roles: list[RoleTag] = Field(default_factory=list, description=ROLES_DOC,
                                 examples=[["resident", "veteran"]])
    status: VolunteerStatus = Field(VolunteerStatus.active, description="active, suspended "
                                    "or removed.", examples=["active"])
    home_location: PointIn | None = HOME
    duty_location: PointIn | None = DUTY

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


class VolunteerUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=100, description="Full name.",
                             examples=["张伟"])
    phone: str | None = Field(None, description="Mobile number.", examples=["13812341234"])
    region_code: str | None = Field(None, description="Move to this community.",
                                    examples=["120101002"])
    team_id: int | None = Field(None, description="Team, or null for none.", examples=[3])
    roles: list[RoleTag] | None = Field(None, description=ROLES_DOC, examples=[["veteran"]])
    status: VolunteerStatus | None = Field(None, description="active, suspended or removed.",
                                           examples=["suspended"])
    home_location: PointIn | None = HOME
    duty_location: PointIn | None = DUTY

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)


class VolunteerSelfUpdate(InputModel):
    """What a volunteer may change about itself from the mini-program."""

    home_location: PointIn | None = HOME
    duty_location: PointIn | None = DUTY


class VolunteerRead(Timestamps):
    id: int = Field(description="Volunteer id.", examples=[12])
    name: str = Field(description="Full name.", examples=["张伟"])
    phone_masked: str = Field(description="Masked mobile number.", examples=["138****1234"])
    region_id: int = Field(description="Community region id.", examples=[17])
    team_id: int | None = Field(description="Team id.", examples=[3])
    roles: list[RoleTag] = Field(description="Role tags.", examples=[["resident"]])
    status: VolunteerStatus = Field(description="Status.", examples=["active"])
    qualified_skills: list[Skill] = Field(
        description="Skills with a certificate valid now.", examples=[["cpr", "aed"]])
    home_location: PointOut | None = Field(description="Home anchor point.")
    duty_location: PointOut | None = Field(description="Duty anchor point.")
    wechat_bound: bool = Field(description="Whether a WeChat account is bound.",
                               examples=[True])


class CertificationCreate(InputModel):
    volunteer_id: int = Field(description="Certified volunteer.", examples=[12])
    skill: Skill = Field(description="Certified skill.", examples=["cpr"])
    issued_at: AwareDatetime = Field(description="Issue time (with time zone).",
                                     examples=["2026-03-01T00:00:00+08:00"])
    expires_at: AwareDatetime = Field(description="Expiry (annual re-certification).",
                                      examples=["2027-03-01T00:00:00+08:00"])
    issuer: str = Field(min_length=1, max_length=200, description="Issuing body.",
                        examples=["天津市急救中心"])
    number: str = Field(min_length=1, max_length=64, description="Certificate number, unique "
                        "per skill.", examples=["TJ-CPR-2026-000123"])

    @model_validator(mode="after")
    def _expiry_after_issue(self) -> CertificationCreate:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        return self


class CertificationUpdate(InputModel):
    expires_at: AwareDatetime | None = Field(None, description="New expiry (renewal).",
                                             examples=["2028-03-01T00:00:00+08:00"])
    issuer: str | None = Field(None, min_length=1, max_length=200, description="Issuer.",
                               examples=["天津市急救中心"])


class CertificationRead(OutputModel):
    id: int = Field(description="Certificate id.", examples=[40])
    volunteer_id: int = Field(description="Volunteer id.", examples=[12])
    skill: Skill = Field(description="Skill.", examples=["cpr"])
    issued_at: datetime = Field(description="Issue time, UTC.",
                                examples=["2026-02-28T16:00:00Z"])
    expires_at: datetime = Field(description="Expiry, UTC.", examples=["2027-02-28T16:00:00Z"])
    issuer: str = Field(description="Issuer.", examples=["天津市急救中心"])
    number: str = Field(description="Certificate number.", examples=["TJ-CPR-2026-000123"])
    valid_now: bool = Field(description="Whether the certificate is valid at this moment.",
                            examples=[True])
