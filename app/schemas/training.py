"""Training I/O: courses and modules, sessions, assessments, rates and re-certification."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field, field_validator, model_validator

from app.models.training import AssessmentResult
from app.models.volunteer import Skill
from app.schemas.common import InputModel, OutputModel, Timestamps

# One sitting; a course spread over several days is several sessions, so that the hours
# credited for attending one are the hours of that sitting.
MAX_SESSION_HOURS = 24


class ModuleIn(InputModel):
    title: str = Field(min_length=1, max_length=200, description="Module title.",
                       examples=["心肺复苏与AED使用"])
    description: str = Field("", max_length=2000, description="What it covers.",
                             examples=["成人心肺复苏、AED操作"])


class CourseCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, description="Course name, unique in its "
                      "region.", examples=["应急响应第一人培训"])
    description: str = Field("", max_length=2000, description="What the course is for.",
                             examples=["社区应急骨干培训"])
    region_code: str = Field(description="Region offering it; its whole subtree may run "
                             "sessions of it.", examples=["130600"])
    skills: list[Skill] = Field(min_length=1, description="Skills certified on passing its "
                                "assessment.", examples=[["cpr", "aed"]])
    validity_days: int = Field(365, ge=1, le=3650, description="How long the certificates "
                               "it grants are valid (annual re-certification: 365).",
                               examples=[365])
    modules: list[ModuleIn] = Field(min_length=1, max_length=50, description="Modules, in "
                                    "teaching order.")

    @field_validator("skills")
    @classmethod
    def _distinct(cls, value: list[Skill]) -> list[Skill]:
        return list(dict.fromkeys(value))


class DefaultCourseCreate(InputModel):
    region_code: str = Field(description="Region to offer the default course in (usually the "
                             "city).", examples=["130600"])


class ModuleRead(OutputModel):
    position: int = Field(description="Order in the course, from 1.", examples=[2])
    title: str = Field(description="Module title.", examples=["心肺复苏与AED使用"])
    description: str = Field(description="What it covers.", examples=["成人心肺复苏、AED操作"])


class CourseRead(Timestamps):
    id: int = Field(description="Course id.", examples=[1])
    name: str = Field(description="Course name.", examples=["应急响应第一人培训"])
    description: str = Field(description="What the course is for.",
                             examples=["社区应急骨干培训"])
    region_id: int = Field(description="Region offering it.", examples=[1])
    skills: list[Skill] = Field(description="Skills certified on passing.",
                                examples=[["cpr", "aed"]])
    validity_days: int = Field(description="Validity of the certificates it grants, days.",
                               examples=[365])
    modules: list[ModuleRead] = Field(description="Modules, in teaching order.")


class TrainingSessionCreate(InputModel):
    course_id: int = Field(description="Course taught.", examples=[1])
    region_code: str = Field(description="Region holding the session (inside the course's "
                             "region).", examples=["130602001"])
    trainer_id: int = Field(description="Trainer: an active volunteer tagged trainer with a "
                            "valid certificate.", examples=[7])
    starts_at: AwareDatetime = Field(description="Start (with time zone).",
                                     examples=["2026-11-28T09:00:00+08:00"])
    ends_at: AwareDatetime = Field(description="End (with time zone); at most 24 hours after "
                                   "the start.", examples=["2026-11-28T17:00:00+08:00"])
    place: str = Field("", max_length=300, description="Where.",
                       examples=["社区党群服务中心二楼"])

    @model_validator(mode="after")
    def _one_sitting(self) -> TrainingSessionCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > MAX_SESSION_HOURS * 3600:
            raise ValueError(f"a session lasts at most {MAX_SESSION_HOURS} hours; "
                             "split longer courses into sessions")
        return self


class TrainingSessionRead(Timestamps):
    id: int = Field(description="Session id.", examples=[3])
    course_id: int = Field(description="Course taught.", examples=[1])
    region_id: int = Field(description="Region holding it.", examples=[17])
    trainer_id: int | None = Field(description="Trainer (null if since removed).",
                                   examples=[7])
    starts_at: datetime = Field(description="Start, UTC.", examples=["2026-11-28T01:00:00Z"])
    ends_at: datetime = Field(description="End, UTC.", examples=["2026-11-28T09:00:00Z"])
    place: str = Field(description="Where.", examples=["社区党群服务中心二楼"])


class ScoresIn(InputModel):
    volunteer_id: int = Field(description="Volunteer assessed (of the session's region).",
                              examples=[12])
    written: float = Field(ge=0, le=100, allow_inf_nan=False,
                           description="Written test score, 0-100.", examples=[92])
    practical: float = Field(ge=0, le=100, allow_inf_nan=False,
                             description="Practical test score, 0-100.", examples=[88])
    simulation: float = Field(ge=0, le=100, allow_inf_nan=False,
                              description="Simulation (scenario drill) score, 0-100.",
                              examples=[95])


class AssessmentBatch(InputModel):
    assessments: list[ScoresIn] = Field(min_length=1, max_length=500, description="Scores, "
                                        "one entry per volunteer; all recorded or none.")
    assessed_at: AwareDatetime | None = Field(None, description="When they were examined "
                                              "(default now); not before the session starts "
                                              "nor in the future. Certificates are issued at "
                                              "this moment.",
                                              examples=["2026-11-28T16:30:00+08:00"])


class GrantedCertificate(OutputModel):
    id: int = Field(description="Certificate id.", examples=[40])
    skill: Skill = Field(description="Skill.", examples=["cpr"])
    number: str = Field(description="Certificate number.", examples=["TRN-0000031"])
    issued_at: datetime = Field(description="Issue time (the assessment), UTC.",
                                examples=["2026-11-28T08:30:00Z"])
    expires_at: datetime = Field(description="Expiry, UTC.", examples=["2027-11-28T08:30:00Z"])


class AssessmentRead(OutputModel):
    id: int = Field(description="Assessment id.", examples=[31])
    training_session_id: int = Field(description="Session.", examples=[3])
    volunteer_id: int = Field(description="Volunteer assessed.", examples=[12])
    written: float = Field(description="Written test score.", examples=[92])
    practical: float = Field(description="Practical test score.", examples=[88])
    simulation: float = Field(description="Simulation score.", examples=[95])
    result: AssessmentResult = Field(description="pass (every part reached the pass score) "
                                     "or fail.", examples=["pass"])
    excellent: bool = Field(description="Passed with a mean at or above the excellent "
                            "score.", examples=[True])
    assessed_at: datetime = Field(description="When examined, UTC.",
                                  examples=["2026-11-28T08:30:00Z"])
    assessed_by: str = Field(description="Who recorded it.", examples=["volunteer:7"])
    certificates: list[GrantedCertificate] = Field(description="Certificates this assessment "
                                                   "granted (one per course skill on a pass).")


class RateRow(OutputModel):
    region_code: str = Field(description="Region code.", examples=["130602"])
    name: str = Field(description="Region name.", examples=["竞秀区"])
    level: str = Field(description="city, district or community.", examples=["district"])
    assessed: int = Field(description="Volunteers of the region with an assessment (each "
                          "counted once, by their latest).", examples=[40])
    passed: int = Field(description="Of them, whose latest assessment passed.", examples=[38])
    excellent: int = Field(description="Of them, whose latest assessment was excellent.",
                           examples=[13])
    pass_rate: float | None = Field(description="passed / assessed (null: nobody assessed).",
                                    examples=[0.95])
    excellent_rate: float | None = Field(description="excellent / assessed (null: nobody "
                                         "assessed).", examples=[0.325])
    pass_target_met: bool | None = Field(description="pass_rate reaches the target (null: "
                                         "nobody assessed).", examples=[True])
    excellent_target_met: bool | None = Field(description="excellent_rate reaches the target "
                                              "(null: nobody assessed).", examples=[True])


class TrainingRates(OutputModel):
    region: str = Field(description="Audited region.", examples=["130602"])
    evaluated_at: datetime = Field(description="Moment of evaluation, UTC.",
                                   examples=["2026-11-23T08:00:00Z"])
    target_pass_rate: float = Field(description="Pass-rate target.", examples=[0.95])
    target_excellent_rate: float = Field(description="Excellent-rate target.",
                                         examples=[0.3])
    rows: list[RateRow] = Field(description="The region first, then each of its children.")


class DueCertificate(OutputModel):
    certification_id: int = Field(description="The volunteer's latest certificate for the "
                                  "skill.", examples=[40])
    skill: Skill = Field(description="Skill.", examples=["cpr"])
    expires_at: datetime = Field(description="Its expiry, UTC.",
                                 examples=["2026-12-10T00:00:00Z"])
    expired: bool = Field(description="Already expired.", examples=[False])


class RecertificationDue(OutputModel):
    volunteer_id: int = Field(description="Volunteer.", examples=[12])
    name: str = Field(description="Full name.", examples=["张伟"])
    phone_masked: str = Field(description="Masked mobile number.", examples=["138****1234"])
    region_id: int = Field(description="Community.", examples=[17])
    first_expiry: datetime = Field(description="Earliest expiry among the due skills, UTC.",
                                   examples=["2026-12-10T00:00:00Z"])
    due: list[DueCertificate] = Field(description="Skills due, earliest first.")
