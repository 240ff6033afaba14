"""One error hierarchy, rendered as RFC 9457 ``application/problem+json``.

Domain code raises these; ``install_error_handlers`` maps them (and FastAPI's own request
validation errors, unknown routes, integrity violations) to problem responses. Every 4xx
carries ``errors: [{field, message}]`` so a client can point at what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.live.state import LiveStateUnavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://rescue-circle.example/problems/"


class FieldError(dict[str, str]):
    """``{"field": "location.lat", "message": "..."}``"""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


class ProblemError(Exception):
    """Base of every error a client can cause; subclasses fix status and problem type."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: Sequence[FieldError] = (),
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) or ([FieldError(field, detail)] if field else [])
        self.problem_code = code or self.code
        self.headers = dict(headers or {})

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.problem_code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.problem_code,
            "errors": self.errors,
        }
        if instance:
            body["instance"] = instance
        return body


class BadRequest(ProblemError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class Unauthorized(ProblemError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str = "A valid bearer token is required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(ProblemError):
    status = 422
    code = "validation_error"
    title = "Invalid input"


class TooManyRequests(ProblemError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


class ServiceUnavailable(ProblemError):
    status = 503
    code = "service_unavailable"
    title = "A backing service is unavailable"


class UpstreamUnavailable(ProblemError):
    status = 502
    code = "upstream_unavailable"
    title = "An upstream service did not answer"


def not_found(entity: str, identifier: object, *, field: str = "id") -> NotFound:
    return NotFound(f"{entity} {identifier} does not exist", field=field)


# Named constraints -> the input field a client must change. Constraint names come from the
# naming convention in app.models.base, so they are the same on SQLite and PostgreSQL.
CONSTRAINT_FIELDS: dict[str, str] = {
    "uq_region_code": "code",
    "uq_team_region_id_name": "name",
    "uq_volunteer_phone": "phone",
    "uq_volunteer_wechat_openid": "wechat_openid",
    "uq_certification_skill_number": "number",
    "uq_equipment_osm_id": "osm_id",
    "uq_equipment_device_id": "device_id",
    "uq_console_user_username": "username",
    "uq_assignment_active_volunteer": "volunteer_id",
    "uq_assignment_incident_id_volunteer_id": "volunteer_id",
    "uq_patrol_volunteer_id_started_at": "started_at",
    "uq_inventory_line_equipment_id_item_batch": "batch",
    "uq_course_region_id_name": "name",
    "uq_assessment_session_id_volunteer_id": "volunteer_id",
}
# SQLite names the columns, not the constraint: "UNIQUE constraint failed: t.a, t.b".
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")


def integrity_error_to_problem(exc: IntegrityError) -> Conflict:
    """Name the violated constraint's field; works on both SQLite and PostgreSQL messages."""
    message = str(exc.orig)
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint in CONSTRAINT_FIELDS:
        field = CONSTRAINT_FIELDS[constraint]
        return Conflict(f"{field} is already taken", field=field, code="duplicate")
    for name, field in CONSTRAINT_FIELDS.items():
        if name in message:
            return Conflict(f"{field} is already taken", field=field, code="duplicate")
    if match := _SQLITE_UNIQUE.search(message):
        field = match.group(1).split(", ")[-1].split(".")[-1]
        return Conflict(f"{field} is already taken", field=field, code="duplicate")
    if "FOREIGN KEY" in message.upper():
        return Conflict("A referenced object does not exist or is still in use",
                        code="reference_conflict")
    return Conflict("The change conflicts with existing data", code="conflict")


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError | ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        message = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        errors.append(FieldError(_field_path(err.get("loc", ())), message))
    return errors


def _problem_response(problem: dict[str, Any], headers: Mapping[str, str] | None = None
                      ) -> JSONResponse:
    return JSONResponse(problem, status_code=problem["status"],
                        media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def problem_response(problem: ProblemError, request: Request) -> JSONResponse:
    """The answer to a problem a route returns instead of raising (a raised one rolls back
    the request's session)."""
    return _problem_response(problem.to_problem(request.url.path), problem.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(LiveStateUnavailable)
    async def _live_unavailable(request: Request, exc: LiveStateUnavailable) -> JSONResponse:
        # Redis, where the live responder state is shared, is down or did not answer in time.
        return problem_response(
            ServiceUnavailable("live state is unavailable; try again shortly"), request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        problem = Unprocessable(f"Invalid input ({summary})", errors=errors)
        return _problem_response(problem.to_problem(request.url.path))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        return _problem_response(integrity_error_to_problem(exc).to_problem(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "code": "http_error",
            "errors": [],
            "instance": request.url.path,
        }
        return _problem_response(body, getattr(exc, "headers", None))


def problem_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: each listed error with the problem schema."""
    from app.schemas.common import Problem

    responses: dict[int | str, dict[str, Any]] = {}
    for error in (*errors, Unprocessable):
        responses[error.status] = {
            "model": Problem,
            "description": error.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses
