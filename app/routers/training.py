"""Training: courses with modules, sessions, assessments; rates and re-certification due."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.deps import Admin, DbSession, PageDep, Reader, SettingsDep, allow
from app.errors import Conflict, Forbidden, NotFound, problem_responses
from app.models.base import utcnow
from app.schemas.common import Page
from app.schemas.training import (
    AssessmentBatch,
    AssessmentRead,
    CourseCreate,
    CourseRead,
    DefaultCourseCreate,
    RecertificationDue,
    TrainingRates,
    TrainingSessionCreate,
    TrainingSessionRead,
)
from app.security import ADMIN_ROLES, Principal, Role
from app.services import training as service
from app.services.pagination import paginate
from app.services.scope import region_by_code_in_scope

router = APIRouter(tags=["training"])

# The session's trainer records scores from the mini-program; admins from the console.
Assessor = Annotated[Principal, Depends(allow(Role.volunteer, *ADMIN_ROLES))]
RegionQuery = Annotated[str | None, Query(description="Only this region code and its subtree.",
                                          examples=["130602"])]


@router.get("/v1/courses", operation_id="list_courses", response_model=Page[CourseRead],
            responses=problem_responses(NotFound))
def list_courses(
    session: DbSession, principal: Reader, page: PageDep,
    region: Annotated[str | None, Query(description="Only courses usable in this region: "
                                        "its own, its subtree's and its ancestors'.",
                                        examples=["130602"])] = None,
) -> Page[CourseRead]:
    stmt = service.courses_query(session, principal, region_code=region)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[CourseRead.model_validate(c) for c in items], total=total,
                limit=page.limit, offset=page.offset)


@router.post("/v1/courses", operation_id="create_course", response_model=CourseRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound, Conflict))
def create_course(data: CourseCreate, session: DbSession, principal: Admin) -> CourseRead:
    """A course of a region; its subtree may run sessions of it. Passing its assessment
    certifies `skills` for `validity_days`."""
    return CourseRead.model_validate(service.create_course(session, data, principal=principal))


@router.post("/v1/courses/default", operation_id="ensure_default_course",
             response_model=CourseRead, responses={
                 status.HTTP_201_CREATED: {"model": CourseRead, "description": "Created"},
                 **problem_responses(NotFound)})
def ensure_default_course(data: DefaultCourseCreate, session: DbSession, principal: Admin,
                          response: Response) -> CourseRead:
    """The Baoding "first emergency responder" course (8 modules: first aid, CPR + AED,
    trauma care, common emergencies, hazard identification, fire and natural disasters,
    evacuation and reporting, psychological support; certifies CPR, AED, haemostasis,
    bandaging, fracture fixation, transport, choking relief for 365 days) in the region:
    201 when created, 200 with the existing one."""
    course, created = service.ensure_default_course_for(session, data.region_code,
                                                        principal=principal)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return CourseRead.model_validate(course)


@router.get("/v1/courses/{course_id}", operation_id="get_course", response_model=CourseRead,
            responses=problem_responses(NotFound))
def get_course(course_id: int, session: DbSession, principal: Reader) -> CourseRead:
    return CourseRead.model_validate(service.get_course(session, course_id, principal))


@router.post("/v1/training-sessions", operation_id="create_training_session",
             response_model=TrainingSessionRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound))
def create_training_session(data: TrainingSessionCreate, session: DbSession,
                            principal: Admin) -> TrainingSessionRead:
    """One sitting (at most 24 h) of a course in a region inside the course's, led by a
    certified trainer."""
    return TrainingSessionRead.model_validate(
        service.create_session(session, data, principal=principal, now=utcnow()))


@router.get("/v1/training-sessions", operation_id="list_training_sessions",
            response_model=Page[TrainingSessionRead], responses=problem_responses(NotFound))
def list_training_sessions(
    session: DbSession, principal: Reader, page: PageDep, region: RegionQuery = None,
    course_id: Annotated[int | None, Query(description="Only sessions of this course.",
                                           examples=[1])] = None,
) -> Page[TrainingSessionRead]:
    """Sessions of the caller's area, latest start first."""
    stmt = service.sessions_query(session, principal, region_code=region, course_id=course_id)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=[TrainingSessionRead.model_validate(s) for s in items], total=total,
                limit=page.limit, offset=page.offset)


@router.get("/v1/training-sessions/{training_session_id}", operation_id="get_training_session",
            response_model=TrainingSessionRead, responses=problem_responses(NotFound))
def get_training_session(training_session_id: int, session: DbSession, principal: Reader
                         ) -> TrainingSessionRead:
    return TrainingSessionRead.model_validate(
        service.get_session(session, training_session_id, principal))


@router.post("/v1/training-sessions/{training_session_id}/assessments",
             operation_id="record_assessments", response_model=list[AssessmentRead],
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Forbidden, Conflict))
def record_assessments(training_session_id: int, data: AssessmentBatch, session: DbSession,
                       settings: SettingsDep, principal: Assessor) -> list[AssessmentRead]:
    """Record written, practical and simulation scores (all or none). Pass: every part at
    least the pass score (default 80); excellent: a pass whose mean reaches the excellent
    score (default 90). A pass issues a new certificate per course skill; everyone assessed
    is credited the session's length as training hours. Only the session's trainer (403
    otherwise) or an admin of its area; a volunteer already assessed in the session: 409."""
    assessments = service.record_assessments(session, settings, principal,
                                             training_session_id, data, now=utcnow())
    return service.assessment_reads(session, assessments)


@router.get("/v1/training-sessions/{training_session_id}/assessments",
            operation_id="list_assessments", response_model=Page[AssessmentRead],
            responses=problem_responses(NotFound))
def list_assessments(training_session_id: int, session: DbSession, principal: Reader,
                     page: PageDep) -> Page[AssessmentRead]:
    service.get_session(session, training_session_id, principal)
    items, total = paginate(session, service.assessments_query(training_session_id),
                            limit=page.limit, offset=page.offset)
    return Page(items=service.assessment_reads(session, items), total=total,
                limit=page.limit, offset=page.offset)


@router.get("/v1/training/rates", operation_id="training_rates", response_model=TrainingRates,
            responses=problem_responses(NotFound))
def training_rates(
    session: DbSession, principal: Reader, settings: SettingsDep,
    region: Annotated[str, Query(description="Code of the audited region.",
                                 examples=["130602"])],
) -> TrainingRates:
    """Pass and excellent rates of the region and of each child against the targets (95 %
    and 30 % by default). Each volunteer counts once, by their latest assessment, in the
    community they belong to; both rates divide by the volunteers assessed."""
    scope = region_by_code_in_scope(session, region, principal, field="region")
    return service.training_rates(session, scope, settings, now=utcnow())


@router.get("/v1/training/recertification-due", operation_id="recertification_due",
            response_model=Page[RecertificationDue], responses=problem_responses(NotFound))
def recertification_due(
    session: DbSession, principal: Reader, page: PageDep, region: RegionQuery = None,
    within_days: Annotated[int, Query(ge=0, le=3650, description="Horizon: certificates "
                                      "expiring within this many days (or expired).",
                                      examples=[30])] = 30,
    course_id: Annotated[int | None, Query(description="Only this course's skills (default: "
                                           "the skills of every course usable in the area).",
                                           examples=[1])] = None,
) -> Page[RecertificationDue]:
    """Volunteers (not removed) whose latest certificate for a programme skill expires
    within `within_days` or has expired, soonest first; phones masked."""
    now = utcnow()
    query = service.recertification_due_query(session, principal, region_code=region,
                                              within_days=within_days, course_id=course_id,
                                              now=now)
    items, total = paginate(session, query.stmt, limit=page.limit, offset=page.offset)
    return Page(items=service.due_reads(session, items, query, now=now), total=total,
                limit=page.limit, offset=page.offset)
