"""Training: courses, sessions and assessments that grant certificates; pass and excellent
rates against the programme's targets; who is due for annual re-certification.

Decisions, stated once:

* **Pass / excellent.** An assessment passes when *each* of its written, practical and
  simulation scores reaches ``Settings.assessment_pass_score`` (a good written test does not
  make up for failing CPR on the manikin); a pass is excellent when the mean of the three
  reaches ``Settings.assessment_excellent_score``. Both are decided when the scores are
  recorded and stored, since they granted certificates then.
* **Certificates.** A pass issues one new certificate per skill of the course, valid from the
  assessment for the course's ``validity_days``. A renewal is a new certificate, not an
  extended one: each certificate is a document with its own number and issue date, and the
  volunteer stays qualified while any is valid.
* **Rates** count volunteers, not attempts: each volunteer once, by their latest assessment
  (latest ``assessed_at``, then highest id), in the community they belong to now. A volunteer
  who failed and then passed a retake counts as passed. Both rates divide by the volunteers
  assessed; with nobody assessed they are ``None``.
* **Re-certification** looks at each volunteer's latest certificate (latest expiry) per skill
  of the programme's courses: due when it expires within the horizon or has expired.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.errors import Conflict, Forbidden, Unprocessable, not_found
from app.models import (
    Assessment,
    Certification,
    Course,
    CourseModule,
    Region,
    TrainingSession,
    Volunteer,
)
from app.models.service import HoursSource
from app.models.training import AssessmentResult
from app.models.volunteer import Skill, VolunteerStatus
from app.schemas.training import (
    AssessmentBatch,
    AssessmentRead,
    CourseCreate,
    DueCertificate,
    GrantedCertificate,
    RateRow,
    RecertificationDue,
    ScoresIn,
    TrainingRates,
    TrainingSessionCreate,
)
from app.security import Principal, Role, mask_phone
from app.services import service_hours
from app.services.scope import get_scoped, region_by_code_in_scope, visible
from app.services.volunteers import is_qualified_trainer
from app.settings import Settings

# Baoding's "first emergency responder" programme: eight modules examined by a written test,
# a practical test and a simulation.
DEFAULT_COURSE_NAME = "应急响应第一人培训"
DEFAULT_COURSE_DESCRIPTION = ("应急响应第一人(社区/村应急骨干)培训: 8个模块, 笔试、实操和情景模拟"
                              "考核; 合格率不低于95%, 优秀率不低于30%; 证书每年复训复审。")
DEFAULT_MODULES: tuple[tuple[str, str], ...] = (
    ("急救基础知识", "急救原则、现场安全评估、呼叫120与信息报告要点、法律保护"),
    ("心肺复苏与AED使用", "识别心脏骤停、成人/儿童心肺复苏、AED操作、团队配合"),
    ("创伤救护(止血、包扎、固定、搬运)", "出血控制、各部位包扎、骨折固定、伤员安全搬运"),
    ("常见急症处置", "气道异物梗阻(海姆立克法)、脑卒中识别、中暑、烧烫伤、中毒"),
    ("风险隐患识别", "巡查楼道堵塞、安全出口占用、电动车室内充电等隐患, 闭环上报与跟踪"),
    ("火灾与自然灾害应对", "初起火灾扑救、灭火器使用、地震、洪涝、极端天气的避险与互救"),
    ("疏散引导与信息报告", "人员疏散组织、集合点管理、向专业力量准确报告现场信息"),
    ("心理支持与自我保护", "心理急救(PFA)、施救者自我防护、事后心理疏导"),
)
# What the practical test and the simulation examine; the incident kinds' skills (CPR,
# trauma bandaging, choking relief) are among them.
DEFAULT_SKILLS: tuple[Skill, ...] = (
    Skill.cpr, Skill.aed, Skill.haemostasis, Skill.trauma_bandaging, Skill.fracture_fixation,
    Skill.patient_transport, Skill.choking_relief,
)
DEFAULT_VALIDITY_DAYS = 365


# -- courses ----------------------------------------------------------------------------------

def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _in_subtree(region_id_column: Any, path: str | None) -> ColumnElement[bool]:
    if path is None:
        return false()
    return region_id_column.in_(select(Region.id).where(
        Region.path.startswith(path, autoescape=True)))


def usable_in(path: str | None) -> ColumnElement[bool]:
    """Courses a region may use: its own and its subtree's, and those of its ancestors (a
    city's course is taught in every district)."""
    if path is None:
        return false()
    return or_(Course.region_id.in_(_ancestor_ids(path)), _in_subtree(Course.region_id, path))


def _with_modules(stmt: Select) -> Select:
    return stmt.options(selectinload(Course.modules))


def courses_query(session: Session, principal: Principal, *, region_code: str | None
                  ) -> Select:
    path = principal.region_path
    if region_code is not None:
        path = region_by_code_in_scope(session, region_code, principal, field="region").path
    return _with_modules(select(Course).where(usable_in(path)).order_by(Course.id))


def get_course(session: Session, course_id: int, principal: Principal, *,
               field: str = "course_id") -> Course:
    course = session.scalar(_with_modules(select(Course).where(
        Course.id == course_id, usable_in(principal.region_path))))
    if course is None:
        raise not_found("course", course_id, field=field)
    return course


def _name_free(session: Session, region_id: int, name: str) -> None:
    if session.scalar(select(Course.id).where(Course.region_id == region_id,
                                              Course.name == name)) is not None:
        raise Conflict("a course of this name already exists in the region", field="name",
                       code="duplicate")


def _new_course(session: Session, region: Region, *, name: str, description: str,
                skills: Iterable[Skill], validity_days: int,
                modules: Sequence[tuple[str, str]]) -> Course:
    course = Course(name=name, description=description, region_id=region.id,
                    skills=[s.value for s in skills], validity_days=validity_days,
                    modules=[CourseModule(position=i, title=title, description=text)
                             for i, (title, text) in enumerate(modules, start=1)])
    session.add(course)
    session.flush()
    return course


def create_course(session: Session, data: CourseCreate, *, principal: Principal) -> Course:
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    _name_free(session, region.id, data.name)
    return _new_course(session, region, name=data.name, description=data.description,
                       skills=data.skills, validity_days=data.validity_days,
                       modules=[(m.title, m.description) for m in data.modules])


def ensure_default_course(session: Session, region: Region) -> tuple[Course, bool]:
    """The Baoding eight-module course offered in ``region``; created if missing (True)."""
    existing = session.scalar(_with_modules(select(Course).where(
        Course.region_id == region.id, Course.name == DEFAULT_COURSE_NAME)))
    if existing is not None:
        return existing, False
    return _new_course(session, region, name=DEFAULT_COURSE_NAME,
                       description=DEFAULT_COURSE_DESCRIPTION, skills=DEFAULT_SKILLS,
                       validity_days=DEFAULT_VALIDITY_DAYS, modules=DEFAULT_MODULES), True


def ensure_default_course_for(session: Session, region_code: str, *, principal: Principal
                              ) -> tuple[Course, bool]:
    region = region_by_code_in_scope(session, region_code, principal, field="region_code")
    return ensure_default_course(session, region)


# -- sessions ---------------------------------------------------------------------------------

def _check_trainer(session: Session, trainer_id: int, principal: Principal, *,
                   at: datetime) -> Volunteer:
    """A trainer as the compliance figures count one: active, tagged trainer, certified."""
    trainer = get_scoped(session, Volunteer, trainer_id, principal, entity="volunteer",
                         field="trainer_id")
    if not is_qualified_trainer(session, trainer, at):
        raise Unprocessable("the trainer must be an active volunteer tagged trainer with a "
                            "valid certificate", field="trainer_id", code="not_a_trainer")
    return trainer


def create_session(session: Session, data: TrainingSessionCreate, *, principal: Principal,
                   now: datetime) -> TrainingSession:
    course = get_course(session, data.course_id, principal)
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    if not region.path.startswith(session.get(Region, course.region_id).path):
        raise Unprocessable("the session must be held inside the course's region",
                            field="region_code")
    _check_trainer(session, data.trainer_id, principal, at=now)
    sitting = TrainingSession(course_id=course.id, region_id=region.id,
                              trainer_id=data.trainer_id, starts_at=data.starts_at,
                              ends_at=data.ends_at, place=data.place)
    session.add(sitting)
    session.flush()
    return sitting


def get_session(session: Session, sitting_id: int, principal: Principal) -> TrainingSession:
    return get_scoped(session, TrainingSession, sitting_id, principal,
                      entity="training session", field="training_session_id")


def sessions_query(session: Session, principal: Principal, *, region_code: str | None,
                   course_id: int | None) -> Select:
    stmt = select(TrainingSession).where(visible(session, TrainingSession.region_id, principal,
                                                 within_code=region_code))
    if course_id is not None:
        stmt = stmt.where(TrainingSession.course_id == course_id)
    return stmt.order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())


# -- assessments ------------------------------------------------------------------------------

def decide(scores: ScoresIn, settings: Settings) -> tuple[AssessmentResult, bool]:
    parts = (scores.written, scores.practical, scores.simulation)
    passed = all(part >= settings.assessment_pass_score for part in parts)
    excellent = passed and sum(parts) / len(parts) >= settings.assessment_excellent_score
    return (AssessmentResult.passed if passed else AssessmentResult.failed), excellent


def certificate_number(assessment_id: int) -> str:
    """One number per assessment; unique per skill because a pass grants each skill once."""
    return f"TRN-{assessment_id:07d}"


def _sitting_for_assessor(session: Session, principal: Principal, sitting_id: int
                          ) -> TrainingSession:
    if principal.role is not Role.volunteer:
        return get_session(session, sitting_id, principal)
    sitting = session.get(TrainingSession, sitting_id)
    if sitting is None:
        raise not_found("training session", sitting_id, field="training_session_id")
    if sitting.trainer_id != principal.volunteer_id:
        raise Forbidden("only the session's trainer or an admin of its area records its "
                        "assessments", field="training_session_id", code="not_your_session")
    return sitting


def _check_trainees(session: Session, sitting: TrainingSession, batch: AssessmentBatch
                    ) -> None:
    region_path = session.get(Region, sitting.region_id).path
    ids = [s.volunteer_id for s in batch.assessments]
    found = {vid: (path, status) for vid, path, status in session.execute(
        select(Volunteer.id, Region.path, Volunteer.status)
        .join(Region, Region.id == Volunteer.region_id).where(Volunteer.id.in_(ids)))}
    already = set(session.scalars(select(Assessment.volunteer_id).where(
        Assessment.session_id == sitting.id, Assessment.volunteer_id.in_(ids))))
    seen: set[int] = set()
    for i, scores in enumerate(batch.assessments):
        field, vid = f"assessments.{i}.volunteer_id", scores.volunteer_id
        # Trainees come from the session's area; anyone else answers like a missing id.
        if vid not in found or not found[vid][0].startswith(region_path):
            raise not_found("volunteer", vid, field=field)
        if vid in seen:
            raise Unprocessable("this volunteer is listed twice", field=field)
        seen.add(vid)
        if vid == sitting.trainer_id:
            raise Unprocessable("the trainer cannot assess themselves", field=field)
        if found[vid][1] == VolunteerStatus.removed.value:
            raise Unprocessable("a removed volunteer cannot be certified", field=field)
        if vid in already:
            raise Conflict("this volunteer is already assessed in this session", field=field,
                           code="duplicate")


def _grant(session: Session, assessment: Assessment, course: Course, issuer: str) -> None:
    number = certificate_number(assessment.id)
    taken = session.scalar(select(Certification.id).where(
        Certification.number == number, Certification.skill.in_(course.skills)).limit(1))
    if taken is not None:
        raise Conflict(f"certificate number {number} is already used", field="number",
                       code="duplicate")
    expires = assessment.assessed_at + timedelta(days=course.validity_days)
    for skill in course.skills:
        session.add(Certification(volunteer_id=assessment.volunteer_id, skill=skill,
                                  issued_at=assessment.assessed_at, expires_at=expires,
                                  issuer=issuer, number=number))


def record_assessments(session: Session, settings: Settings, principal: Principal,
                       sitting_id: int, batch: AssessmentBatch, *, now: datetime
                       ) -> list[Assessment]:
    """Record a session's scores (all or none): decide each result, certify those who
    passed, and credit every assessed volunteer the session's length as training hours."""
    sitting = _sitting_for_assessor(session, principal, sitting_id)
    assessed_at = batch.assessed_at or now
    if assessed_at > now:
        raise Unprocessable("assessed_at is in the future", field="assessed_at")
    if assessed_at < sitting.starts_at:
        raise Unprocessable("assessments are recorded once the session has started",
                            field="assessed_at", code="session_not_started")
    _check_trainees(session, sitting, batch)
    course = session.get(Course, sitting.course_id)
    issuer = f"{session.get(Region, course.region_id).name} {course.name}"[:200]
    minutes = service_hours.minutes_served(sitting.starts_at, sitting.ends_at, round_to=1,
                                           minimum=1)
    recorded = []
    for scores in batch.assessments:
        result, excellent = decide(scores, settings)
        assessment = Assessment(session_id=sitting.id, volunteer_id=scores.volunteer_id,
                                written=scores.written, practical=scores.practical,
                                simulation=scores.simulation, result=result.value,
                                excellent=excellent, assessed_at=assessed_at,
                                assessed_by=principal.actor)
        session.add(assessment)
        session.flush()
        if result is AssessmentResult.passed:
            _grant(session, assessment, course, issuer)
        # Attending earns the hours whatever the result; once per session (idempotent).
        service_hours.credit(session, scores.volunteer_id, source=HoursSource.training,
                             source_id=sitting.id, minutes=minutes, at=now, note=course.name)
        recorded.append(assessment)
    session.flush()
    return recorded


def assessments_query(sitting_id: int) -> Select:
    return (select(Assessment).where(Assessment.session_id == sitting_id)
            .order_by(Assessment.id))


def assessment_reads(session: Session, assessments: Sequence[Assessment]
                     ) -> list[AssessmentRead]:
    numbers = {certificate_number(a.id): a for a in assessments}
    granted: dict[int, list[GrantedCertificate]] = defaultdict(list)
    if numbers:
        for cert in session.scalars(select(Certification).where(
                Certification.number.in_(list(numbers))).order_by(Certification.skill)):
            owner = numbers[cert.number]
            # A hand-made certificate could share the number; only the volunteer's count.
            if cert.volunteer_id == owner.volunteer_id:
                granted[owner.id].append(GrantedCertificate.model_validate(cert))
    return [AssessmentRead(
        id=a.id, training_session_id=a.session_id, volunteer_id=a.volunteer_id,
        written=a.written, practical=a.practical, simulation=a.simulation,
        result=AssessmentResult(a.result), excellent=a.excellent, assessed_at=a.assessed_at,
        assessed_by=a.assessed_by, certificates=granted[a.id]) for a in assessments]


# -- rates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    assessed: int = 0
    passed: int = 0
    excellent: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.assessed + other.assessed, self.passed + other.passed,
                      self.excellent + other.excellent)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.assessed if self.assessed else None

    @property
    def excellent_rate(self) -> float | None:
        return self.excellent / self.assessed if self.assessed else None


def latest_counts(session: Session, region_ids: Sequence[int]) -> dict[int, Counts]:
    """Per community id: volunteers assessed, passed and excellent by their latest
    assessment (see the module's docstring)."""
    if not region_ids:
        return {}
    latest = (select(Volunteer.region_id, Assessment.result, Assessment.excellent,
                     func.row_number().over(
                         partition_by=Assessment.volunteer_id,
                         order_by=(Assessment.assessed_at.desc(), Assessment.id.desc()))
                     .label("n"))
              .join(Volunteer, Volunteer.id == Assessment.volunteer_id)
              .where(Volunteer.region_id.in_(region_ids))
              .subquery())
    rows = session.execute(
        select(latest.c.region_id, func.count(),
               func.sum(case((latest.c.result == AssessmentResult.passed.value, 1), else_=0)),
               func.sum(case((latest.c.excellent.is_(True), 1), else_=0)))
        .where(latest.c.n == 1).group_by(latest.c.region_id)).all()
    return {region_id: Counts(int(n), int(p or 0), int(e or 0)) for region_id, n, p, e in rows}


def meets(rate: float | None, target: float) -> bool | None:
    """Whether a rate reaches its target; None while there is no rate."""
    return None if rate is None else rate >= target


def rate_row(region: Region, counts: Counts, settings: Settings) -> RateRow:
    return RateRow(region_code=region.code, name=region.name, level=region.level,
                   assessed=counts.assessed, passed=counts.passed, excellent=counts.excellent,
                   pass_rate=counts.pass_rate, excellent_rate=counts.excellent_rate,
                   pass_target_met=meets(counts.pass_rate, settings.target_pass_rate),
                   excellent_target_met=meets(counts.excellent_rate,
                                               settings.target_excellent_rate))


def training_rates(session: Session, region: Region, settings: Settings, *, now: datetime
                   ) -> TrainingRates:
    """The region's rates, then each child's (districts of a city, communities of a
    district), each the sum over the communities below it."""
    subtree = session.execute(select(Region.id, Region.path).where(
        Region.path.startswith(region.path, autoescape=True))).all()
    counts = latest_counts(session, [region_id for region_id, _ in subtree])
    children = list(session.scalars(select(Region).where(Region.parent_id == region.id)
                                    .order_by(Region.code)))
    rows = []
    for row_region in (region, *children):
        total = sum((counts.get(region_id, Counts()) for region_id, path in subtree
                     if path.startswith(row_region.path)), Counts())
        rows.append(rate_row(row_region, total, settings))
    return TrainingRates(region=region.code, evaluated_at=now,
                         target_pass_rate=settings.target_pass_rate,
                         target_excellent_rate=settings.target_excellent_rate, rows=rows)


# -- re-certification -------------------------------------------------------------------------

@dataclass(frozen=True)
class DueQuery:
    stmt: Select
    skills: list[str]
    horizon: datetime


def programme_skills(session: Session, path: str | None, course_id: int | None,
                     principal: Principal) -> list[str]:
    if course_id is not None:
        return list(get_course(session, course_id, principal).skills)
    skills: set[str] = set()
    for course_skills in session.scalars(select(Course.skills).where(usable_in(path))):
        skills.update(course_skills or [])
    return sorted(skills)


def recertification_due_query(session: Session, principal: Principal, *,
                              region_code: str | None, within_days: int,
                              course_id: int | None, now: datetime) -> DueQuery:
    """Volunteers (not removed) of the area whose latest certificate for a skill of the
    programme (the courses usable in the area, or ``course_id``'s) expires within
    ``within_days`` or has expired; soonest first."""
    path = principal.region_path
    if region_code is not None:
        path = region_by_code_in_scope(session, region_code, principal, field="region").path
    skills = programme_skills(session, path, course_id, principal)
    horizon = now + timedelta(days=within_days)
    latest = (select(Certification.volunteer_id, Certification.skill,
                     func.max(Certification.expires_at).label("expires_at"))
              .where(Certification.skill.in_(skills))
              .group_by(Certification.volunteer_id, Certification.skill).subquery())
    due = (select(latest.c.volunteer_id, func.min(latest.c.expires_at).label("first_expiry"))
           .where(latest.c.expires_at <= horizon).group_by(latest.c.volunteer_id).subquery())
    stmt = (select(Volunteer).join(due, due.c.volunteer_id == Volunteer.id)
            .where(Volunteer.status != VolunteerStatus.removed.value,
                   _in_subtree(Volunteer.region_id, path))
            .order_by(due.c.first_expiry, Volunteer.id))
    return DueQuery(stmt=stmt, skills=skills, horizon=horizon)


def due_reads(session: Session, volunteers: Sequence[Volunteer], query: DueQuery, *,
              now: datetime) -> list[RecertificationDue]:
    latest: dict[tuple[int, str], Certification] = {}
    if volunteers:
        for cert in session.scalars(select(Certification).where(
                Certification.volunteer_id.in_([v.id for v in volunteers]),
                Certification.skill.in_(query.skills))
                .order_by(Certification.expires_at, Certification.id)):
            latest[(cert.volunteer_id, cert.skill)] = cert   # the last one wins: latest
    due: dict[int, list[DueCertificate]] = defaultdict(list)
    for (volunteer_id, skill), cert in sorted(latest.items(),
                                              key=lambda item: item[1].expires_at):
        if cert.expires_at <= query.horizon:
            due[volunteer_id].append(DueCertificate(
                certification_id=cert.id, skill=Skill(skill), expires_at=cert.expires_at,
                expired=cert.expires_at <= now))
    return [RecertificationDue(volunteer_id=v.id, name=v.name, phone_masked=mask_phone(v.phone),
                               region_id=v.region_id, first_expiry=due[v.id][0].expires_at,
                               due=due[v.id])
            for v in volunteers]
