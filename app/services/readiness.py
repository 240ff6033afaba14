"""Whether a piece of equipment can be used now, and why not. Pure: no ORM, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, ParserError


class Readiness(StrEnum):
    usable = "usable"
    unverified = "unverified"
    not_usable = "not_usable"


@dataclass(frozen=True)
class ReadinessResult:
    state: Readiness
    reasons: list[str] = field(default_factory=list)
    # What the owner should do about it (the maintenance list); empty when nothing can.
    actions: list[str] = field(default_factory=list)


def opening_hours_error(expression: str) -> str | None:
    """None when ``expression`` is valid OpenStreetMap ``opening_hours`` syntax."""
    try:
        OpeningHours(expression)
    except ParserError as exc:
        lines = [line.strip(" =") for line in str(exc).splitlines() if line.strip()]
        return "invalid opening_hours: " + (lines[-1] if lines else "cannot be parsed")
    return None


# A ranking judges every AED within reach; a city has few distinct expressions.
_parsed = lru_cache(maxsize=4096)(OpeningHours)


def is_open(expression: str, moment: datetime, timezone: str) -> bool | None:
    """Open at ``moment`` (aware) in local time of ``timezone``; None when it cannot be told."""
    local = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return _open_in_minute(expression, local.replace(second=0, microsecond=0))


@lru_cache(maxsize=16384)
def _open_in_minute(expression: str, minute: datetime) -> bool | None:
    """Opening hours change on whole minutes (the syntax has no seconds), so one verdict
    holds for the minute: every ranking in it judges the same AEDs again."""
    try:
        hours = _parsed(expression)
    except ParserError:
        return None
    if hours.is_unknown(minute):
        return None
    return bool(hours.is_open(minute))


def local_date(at: datetime, timezone: str) -> date:
    """The date at ``at`` (aware) where the equipment is: expiry dates are local."""
    return at.astimezone(ZoneInfo(timezone)).date()


def assess(
    *,
    status: str,
    opening_hours: str,
    pads_expire_on: date | None,
    battery_expires_on: date | None,
    last_verified_on: date | None,
    timezone: str,
    at: datetime,
    device_faults: Sequence[str] = (),
    telemetry_due_by: datetime | None = None,
) -> ReadinessResult:
    """Derive readiness. Anything known to be wrong makes it not usable; missing facts make it
    unverified (e.g. AEDs imported from OpenStreetMap); otherwise it is usable. Equipment
    with a device is also judged by its last telemetry: the faults derived from it, and
    silence past ``telemetry_due_by``."""
    today = local_date(at, timezone)
    blocking: list[str] = []
    unknown: list[str] = []
    actions: list[str] = []
    if status != "available":
        blocking.append(f"status is {status}")
        actions.append(STATUS_ACTIONS.get(status, "check it on site"))
    for label, expiry in (("pads", pads_expire_on), ("battery", battery_expires_on)):
        if expiry is None:
            unknown.append(f"{label} expiry unknown")
        elif expiry <= today:
            blocking.append(f"{label} expired on {expiry.isoformat()}")
            actions.append(f"replace the {label}")
    open_now = is_open(opening_hours, at, timezone)
    if open_now is False:
        blocking.append(f"closed now (opening hours: {opening_hours})")
    elif open_now is None:
        unknown.append(f"opening hours cannot be evaluated: {opening_hours}")
    for fault in device_faults:
        blocking.append(fault)
        actions.append(DEVICE_FAULT_ACTIONS.get(fault.split(":")[0], "check it on site"))
    if telemetry_due_by is not None and at > telemetry_due_by:
        blocking.append(f"no telemetry since {telemetry_due_by.isoformat()} was due")
        actions.append("check the device's power and network connection")
    if last_verified_on is None:
        unknown.append("never verified on site")
        actions.append("verify it on site and record the date")
    if blocking:
        return ReadinessResult(Readiness.not_usable, blocking, actions)
    if unknown:
        return ReadinessResult(Readiness.unverified, unknown, actions)
    return ReadinessResult(Readiness.usable, ["verified, in date and open now"])


STATUS_ACTIONS = {
    "needs_service": "service it, then set its status to available",
    "out_of_service": "repair or replace it",
    "in_use": "check it after the incident (pads used? returned?)",
}
# Device faults are "<code>: <detail>"; the code says what to do.
DEVICE_FAULT_ACTIONS = {
    "self-test failed": "call the maintenance company: the self-test failed",
    "battery low": "replace the battery",
    "door open": "check the cabinet on site and close it",
    "moved": "bring it back to its registered place or update the registered location",
    "temperature": "move it out of the heat or cold, then run a self-test",
}


class EquipmentFacts(Protocol):
    status: str
    opening_hours: str
    pads_expire_on: date | None
    battery_expires_on: date | None
    last_verified_on: date | None
    device_state: Mapping[str, Any] | None
    telemetry_due_by: datetime | None


def assess_equipment(equipment: EquipmentFacts, *, timezone: str, at: datetime
                     ) -> ReadinessResult:
    """``assess`` for a row or object with the equipment's columns."""
    return assess(status=equipment.status, opening_hours=equipment.opening_hours,
                  pads_expire_on=equipment.pads_expire_on,
                  battery_expires_on=equipment.battery_expires_on,
                  last_verified_on=equipment.last_verified_on, timezone=timezone, at=at,
                  device_faults=(equipment.device_state or {}).get("faults", ()),
                  telemetry_due_by=equipment.telemetry_due_by)


def expiry_reminders(*, pads_expire_on: date | None, battery_expires_on: date | None,
                     today: date, within_days: int) -> list[str]:
    """Reminders owed to the owner: an expiry within ``within_days`` (two months by default)."""
    horizon = today + timedelta(days=within_days)
    return [
        f"{label} expire on {expiry.isoformat()}"
        for label, expiry in (("pads", pads_expire_on), ("battery", battery_expires_on))
        if expiry is not None and today < expiry <= horizon
    ]
