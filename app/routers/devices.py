"""Smart cabinets and kits: device credentials, signed telemetry, and the maintenance list
of equipment that is not ready, with what to do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from app.deps import Admin, DbSession, PageDep, Reader, ResponseCrs, SettingsDep, allow
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    problem_responses,
)
from app.geo.crs import Crs
from app.models.base import utcnow
from app.schemas.common import Page
from app.schemas.equipment import EquipmentRead
from app.schemas.telemetry import DeviceCredentials, TelemetryAccepted, TelemetryIn
from app.security import Principal, Role
from app.services import equipment as equipment_service
from app.services import telemetry as service

router = APIRouter(tags=["devices"])

Device = Annotated[Principal, Depends(allow(Role.device))]


async def raw_body(request: Request) -> bytes:
    """The exact bytes the device signed (parsing first would lose them)."""
    return await request.body()


@router.post("/v1/equipment/{equipment_id}/device-credentials",
             operation_id="issue_device_credentials", response_model=DeviceCredentials,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(NotFound))
def issue_device_credentials(equipment_id: int, session: DbSession, settings: SettingsDep,
                             principal: Admin) -> DeviceCredentials:
    """A key and a `device` token for the equipment's smart cabinet or kit, shown once.
    Issuing again revokes the old key. From now on the device must report within
    `RESCUE_TELEMETRY_STALE_H` hours or the equipment counts as not ready."""
    issued = service.issue_credentials(session, settings, equipment_id, principal,
                                       now=utcnow())
    return DeviceCredentials(equipment_id=issued.equipment.id, device_key=issued.key,
                             token=issued.token, token_expires_at=issued.expires_at)


@router.post(
    "/v1/equipment/{equipment_id}/telemetry", operation_id="post_telemetry",
    response_model=TelemetryAccepted,
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": TelemetryIn.model_json_schema()}}}})
def post_telemetry(
    equipment_id: int, session: DbSession, settings: SettingsDep, principal: Device,
    body: Annotated[bytes, Depends(raw_body)],
    message_id: Annotated[str | None, Header(
        alias=service.ID_HEADER, description="Unique per message (1-64 of A-Z a-z 0-9 . _ : -); "
        "a repeat is refused as a replay.", examples=["m-000123"])] = None,
    timestamp: Annotated[str | None, Header(
        alias=service.TIMESTAMP_HEADER, description="Unix time in seconds when signed; more "
        "than 5 minutes off is refused.", examples=["1795420800"])] = None,
    signature: Annotated[str | None, Header(
        alias=service.SIGNATURE_HEADER, description="`v1=` + hex HMAC-SHA256 with the device "
        "key over `<message id>.<timestamp>.<body>`.", examples=["v1=5d41402abc4b2a76..."])
    ] = None,
) -> TelemetryAccepted:
    """A signed report from the equipment's device (role `device`). Tampered bodies, replays
    and re-dated messages are refused; more than the per-device rate gets 429. Faults
    (failed self-test, low battery, door open without an incident, moved, too hot or cold)
    take the equipment out of dispatch and coverage at once."""
    equipment, record = service.ingest(
        session, settings, equipment_id, principal,
        service.SignedMessage(message_id, timestamp, signature, body), now=utcnow())
    return TelemetryAccepted(equipment_id=equipment.id, message_id=record.message_id,
                             received_at=record.received_at,
                             faults=equipment.device_state.get("faults", []),
                             telemetry_due_by=equipment.telemetry_due_by)


@router.get("/v1/maintenance", operation_id="list_maintenance",
            response_model=Page[EquipmentRead], responses=problem_responses(NotFound))
def list_maintenance(
    session: DbSession, principal: Reader, page: PageDep, settings: SettingsDep,
    crs: ResponseCrs = Crs.wgs84,
    region: Annotated[str | None, Query(description="Only this region code and its subtree.",
                                        examples=["120101"])] = None,
) -> Page[EquipmentRead]:
    """Equipment of the caller's area that is not ready now and has something to be done,
    each with its reasons and `readiness.actions`; oldest first."""
    now = utcnow()
    due = equipment_service.maintenance_list(session, principal, region_code=region, at=now)
    items = due[page.offset:page.offset + page.limit]
    return Page(items=equipment_service.equipment_reads(
        session, items, crs, reminder_days=settings.expiry_reminder_days, at=now),
        total=len(due), limit=page.limit, offset=page.offset)
