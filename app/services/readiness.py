"""Whether a piece of equipment can be used now, and why not. Pure: no ORM, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
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


def opening_hours_error(expression: str) -> str | None:
    """None when ``expression`` is valid OpenStreetMap ``opening_hours`` syntax."""
    try:
        OpeningHours(expression)
    except ParserError as exc:
        lines = [line.strip(" =") for line in str(exc).splitlines() if line.strip()]
        return "invalid opening_hours: " + (lines[-1] if lines else "cannot be parsed")
    return None


def is_open(expression: str, moment: datetime, timezone: str) -> bool | None:
    """Open at ``moment`` (aware) in local time of ``timezone``; None when it cannot be told."""
    local = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    try:
        hours = OpeningHours(expression)
    except ParserError:
        return None
    if hours.is_unknown(local):
        return None
    return bool(hours.is_open(local))


def assess(
    *,
    status: str,
    opening_hours: str,
    pads_expire_on: date | None,
    battery_expires_on: date | None,
    last_verified_on: date | None,
    timezone: str,
    at: datetime,
) -> ReadinessResult:
    """Derive readiness. Anything known to be wrong makes it not usable; missing facts make it
    unverified (e.g. AEDs imported from OpenStreetMap); otherwise it is usable."""
    today = at.astimezone(ZoneInfo(timezone)).date()
    blocking: list[str] = []
    unknown: list[str] = []
    if status != "available":
        blocking.append(f"status is {status}")
    for label, expiry in (("pads", pads_expire_on), ("battery", battery_expires_on)):
        if expiry is None:
            unknown.append(f"{label} expiry unknown")
        elif expiry <= today:
            blocking.append(f"{label} expired on {expiry.isoformat()}")
    open_now = is_open(opening_hours, at, timezone)
    if open_now is False:
        blocking.append(f"closed now (opening hours: {opening_hours})")
    elif open_now is None:
        unknown.append(f"opening hours cannot be evaluated: {opening_hours}")
    if last_verified_on is None:
        unknown.append("never verified on site")
    if blocking:
        return ReadinessResult(Readiness.not_usable, blocking)
    if unknown:
        return ReadinessResult(Readiness.unverified, unknown)
    return ReadinessResult(Readiness.usable, ["verified, in date and open now"])


def expiry_reminders(*, pads_expire_on: date | None, battery_expires_on: date | None,
                     today: date, within_days: int) -> list[str]:
    """Reminders owed to the owner: an expiry within ``within_days`` (two months by default)."""
    horizon = today + timedelta(days=within_days)
    return [
        f"{label} expire on {expiry.isoformat()}"
        for label, expiry in (("pads", pads_expire_on), ("battery", battery_expires_on))
        if expiry is not None and today < expiry <= horizon
    ]
