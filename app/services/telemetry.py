"""Smart cabinets and kits: device credentials, signed telemetry (no tampering, no replays,
no re-dating, rate-limited) and the device faults that take equipment out of dispatch."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import (
    Conflict,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    not_found,
    validation_errors,
)
from app.geo.crs import distance_m, to_wgs84
from app.models import EquipmentPoint, Telemetry
from app.models.equipment import EquipmentStatus
from app.schemas.telemetry import TelemetryIn
from app.security import Principal, Role, issue_token, signature
from app.services.scope import get_scoped
from app.settings import Settings
from app.spatial import wgs84_lonlat

MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = ("X-Device-Message-Id", "X-Device-Timestamp",
                                                 "X-Device-Signature")


def device_subject(equipment_id: int) -> str:
    return f"device:{equipment_id}"


@dataclass(frozen=True)
class IssuedCredentials:
    equipment: EquipmentPoint
    key: str
    token: str
    expires_at: datetime


def issue_credentials(session: Session, settings: Settings, equipment_id: int,
                      principal: Principal, *, now: datetime) -> IssuedCredentials:
    """A new key and token for the equipment's device; the old key stops working. The
    device is expected to report within the telemetry window from now on."""
    equipment = get_scoped(session, EquipmentPoint, equipment_id, principal,
                           entity="equipment", field="equipment_id")
    equipment.device_key = secrets.token_urlsafe(32)
    equipment.device_state = {}
    equipment.telemetry_due_by = now + timedelta(hours=settings.telemetry_stale_h)
    ttl = timedelta(days=settings.device_token_ttl_days)
    token = issue_token(secret_key=settings.secret_key, role=Role.device,
                        subject=device_subject(equipment.id), region_id=equipment.region_id,
                        ttl_s=int(ttl.total_seconds()), now=now)
    session.flush()
    return IssuedCredentials(equipment, equipment.device_key, token, now + ttl)


@dataclass(frozen=True)
class SignedMessage:
    message_id: str | None
    timestamp: str | None
    signature: str | None
    body: bytes


def _verify(message: SignedMessage, key: str, settings: Settings, now: datetime) -> str:
    """The message id, once the signature, id and timestamp are all good (401 otherwise)."""
    if message.message_id is None or not MESSAGE_ID.fullmatch(message.message_id):
        raise Unauthorized("a message id of 1-64 letters, digits or ._:- is required",
                           field=ID_HEADER, code="bad_message_id")
    try:
        timestamp = int(message.timestamp or "")
    except ValueError:
        raise Unauthorized("a Unix timestamp in seconds is required", field=TIMESTAMP_HEADER,
                           code="bad_timestamp") from None
    if abs(now.timestamp() - timestamp) > settings.telemetry_max_clock_skew_s:
        raise Unauthorized("the timestamp is too far from server time", field=TIMESTAMP_HEADER,
                           code="stale_timestamp")
    expected = signature(key, message.message_id, timestamp, message.body)
    if not hmac.compare_digest(expected, message.signature or ""):
        raise Unauthorized("the signature does not match the message", field=SIGNATURE_HEADER,
                           code="bad_signature")
    return message.message_id


def ingest(session: Session, settings: Settings, equipment_id: int, principal: Principal,
           message: SignedMessage, *, now: datetime) -> tuple[EquipmentPoint, Telemetry]:
    equipment = session.get(EquipmentPoint, equipment_id)
    if equipment is None or principal.subject != device_subject(equipment_id):
        raise not_found("equipment", equipment_id, field="equipment_id")
    if equipment.device_key is None:
        raise Forbidden("no device credentials were issued for this equipment",
                        field="equipment_id", code="no_device_key")
    message_id = _verify(message, equipment.device_key, settings, now)
    recent = session.scalar(select(func.count()).select_from(Telemetry).where(
        Telemetry.equipment_id == equipment_id,
        Telemetry.received_at > now - timedelta(minutes=1)))
    if recent >= settings.telemetry_max_per_minute:
        raise TooManyRequests(f"at most {settings.telemetry_max_per_minute} messages a minute",
                              field="equipment_id", headers={"Retry-After": "60"})
    try:
        data = TelemetryIn.model_validate_json(message.body)
    except ValidationError as exc:
        raise Unprocessable("invalid telemetry", errors=validation_errors(exc)) from exc
    if (data.lon is None) != (data.lat is None):
        raise Unprocessable("lon and lat come together", field="lon" if data.lon is None
                            else "lat")
    record = Telemetry(equipment_id=equipment_id, message_id=message_id, received_at=now,
                       body=data.model_dump(mode="json", exclude_none=True))
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError as exc:
        raise Conflict("this message was already received", field=ID_HEADER,
                       code="replayed") from exc
    _apply(equipment, data, settings, now)
    session.flush()
    return equipment, record


def _apply(equipment: EquipmentPoint, data: TelemetryIn, settings: Settings,
           now: datetime) -> None:
    """Merge the message into the last known state and derive the faults from it."""
    state: dict[str, Any] = dict(equipment.device_state or {})
    for key in ("battery_pct", "door_open", "temperature_c", "self_test"):
        value = getattr(data, key)
        if value is not None:
            state[key] = value
    if data.lon is not None and data.lat is not None:
        lon, lat = to_wgs84(data.lon, data.lat, data.crs)
        state["moved_m"] = round(distance_m(*wgs84_lonlat(equipment.location), lon, lat), 1)
    if data.pads_expire_on is not None:
        equipment.pads_expire_on = data.pads_expire_on   # the device knows its pads best
    state["faults"] = device_faults(state, status=equipment.status, settings=settings)
    equipment.device_state = state
    equipment.last_telemetry_at = now
    equipment.telemetry_due_by = now + timedelta(hours=settings.telemetry_stale_h)


def device_faults(state: dict[str, Any], *, status: str, settings: Settings) -> list[str]:
    """Faults as "<code>: <detail>" (the code picks the maintenance action)."""
    faults = []
    if state.get("self_test") == "failed":
        faults.append("self-test failed: the device reported a failed self-test")
    battery = state.get("battery_pct")
    if battery is not None and battery < settings.device_min_battery_pct:
        faults.append(f"battery low: {battery} %")
    # A fetcher's acceptance marks the AED in use; an open door at any other time is misuse,
    # theft or a door left ajar, and the AED may not be there.
    if state.get("door_open") and status != EquipmentStatus.in_use.value:
        faults.append("door open: without an incident")
    moved = state.get("moved_m")
    if moved is not None and moved > settings.device_max_displacement_m:
        faults.append(f"moved: {moved:.0f} m from its registered place")
    temperature = state.get("temperature_c")
    low, high = settings.device_temperature_range_c
    if temperature is not None and not low <= temperature <= high:
        faults.append(f"temperature: {temperature:g} °C outside {low:g}-{high:g} °C")
    return faults
