"""Live responder state: the values and the one interface both stores implement.

A volunteer's live location is personal data that the product promises to hold only while
the volunteer is on duty and only while it is fresh.  Everything here is shaped by that:

* one fix per volunteer, overwritten in place; no history is kept (incident timelines, which
  live elsewhere, are the only record of where a responder was);
* going off duty deletes the fix in the same atomic step;
* a fix is live for ``LivePolicy.fresh_s`` seconds of *server* time after it was received;
* fixes that look implausible are flagged and never stored, so the previous good fix stays.

Time is always passed in (``now``, ``received_at``) as timezone-aware datetimes: tests control
the clock and the service decides what "now" is (its own receive time, never the client's).

Implementations: :class:`app.live.memory.MemoryLiveState` (in-process, the embedded default)
and :class:`app.live.redis_store.RedisLiveState` (shared by several API workers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "BBox",
    "Fix",
    "FixReason",
    "FixStatus",
    "FixVerdict",
    "LiveFix",
    "LivePolicy",
    "LiveState",
    "LiveStateUnavailable",
    "VolunteerLive",
    "require_aware",
]

BBox = tuple[float, float, float, float]
"""``(west, south, east, north)`` in WGS-84 degrees; used only to prune candidates."""


class LiveStateUnavailable(RuntimeError):
    """The shared store cannot be reached or did not answer in time (a 503, not a 500)."""


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged, or raise ``ValueError`` if it has no time zone.

    A naive datetime could be local time or UTC; comparing it with server time would silently
    shift freshness by hours, so it is refused outright.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """Thresholds of the live state; built from settings by the caller, never global.

    Parameters
    ----------
    fresh_s
        How long a fix stays live after the server received it (seconds).
    max_speed_mps
        Fastest believable movement between two fixes (metres per second).
    max_accuracy_m
        Largest believable reported accuracy radius; larger fixes are too vague to rank on.
    max_clock_skew_s
        Largest allowed gap between the client's ``recorded_at`` and server receive time.
    min_interval_s
        Floor on the time between two fixes in the speed check, so two fixes received in the
        same instant are compared over one second instead of dividing by zero.
    """

    fresh_s: float = 120.0
    max_speed_mps: float = 50.0
    max_accuracy_m: float = 200.0
    max_clock_skew_s: float = 300.0
    min_interval_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fresh_s", "max_speed_mps", "max_accuracy_m", "max_clock_skew_s",
                     "min_interval_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"LivePolicy.{name} must be a positive number, got {value!r}")


@dataclass(frozen=True, slots=True)
class Fix:
    """One position report from a device, already converted to WGS-84 by the caller.

    ``accuracy_m`` is not checked here: an implausible accuracy is a *flag* in the verdict
    (see :mod:`app.live.plausibility`), not a programming error.  Coordinates out of range
    are a programming error: the request schema must have refused them with a 4xx.
    """

    lon: float
    lat: float
    accuracy_m: float
    recorded_at: datetime

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"lon out of range: {self.lon!r}")
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"lat out of range: {self.lat!r}")
        require_aware(self.recorded_at, "recorded_at")


@dataclass(frozen=True, slots=True)
class LiveFix:
    """The one stored fix of an on-duty volunteer.

    The client's ``recorded_at`` is deliberately not kept: the server orders and ages fixes
    by its own receive time, and what is not stored cannot leak.
    """

    volunteer_id: int
    city_code: str
    lon: float
    lat: float
    accuracy_m: float
    received_at: datetime

    def age_s(self, now: datetime) -> float:
        """Seconds of server time since the fix was received (negative if ``now`` is earlier)."""
        return (now - self.received_at).total_seconds()


@dataclass(frozen=True, slots=True)
class VolunteerLive:
    """What a volunteer may see of their own live state."""

    on_duty: bool
    city_code: str | None = None
    on_duty_since: datetime | None = None
    fix: LiveFix | None = None


class FixStatus(StrEnum):
    """What happened to one submitted fix."""

    accepted = "accepted"  # plausible; stored unless a later fix of the same batch was
    flagged = "flagged"  # implausible: not stored, not ranked; the previous fix stays
    not_kept = "not_kept"  # not judged: the volunteer is off duty or the fix is out of order


class FixReason(StrEnum):
    """Why a fix was flagged or not kept (stable codes for API responses and metrics)."""

    implausible_speed = "implausible_speed"
    accuracy_not_positive = "accuracy_not_positive"
    accuracy_too_large = "accuracy_too_large"
    clock_skew = "clock_skew"
    off_duty = "off_duty"
    out_of_order = "out_of_order"


@dataclass(frozen=True, slots=True)
class FixVerdict:
    """The outcome for one submitted fix.

    ``live`` is true only for the fix that is now the volunteer's stored fix; in a batch at
    most one fix is live (the latest plausible one by client time).
    """

    status: FixStatus
    reasons: tuple[FixReason, ...] = ()
    live: bool = False

    @property
    def accepted(self) -> bool:
        return self.status is FixStatus.accepted


@runtime_checkable
class LiveState(Protocol):
    """Live duty status and the latest fresh, plausible fix of each volunteer.

    Every method is safe to call from several threads (and, for the Redis store, from
    several processes).  Writes for one volunteer are atomic: in particular a fix racing
    with ``set_off_duty`` can never leave a location behind for an off-duty volunteer.
    """

    policy: LivePolicy

    def set_on_duty(self, volunteer_id: int, city_code: str, *, now: datetime) -> bool:
        """Put a volunteer on duty in ``city_code``.

        Returns ``True`` if they were off duty.  Already on duty: ``on_duty_since`` is kept and
        a changed city moves the volunteer (and their fix) to the new city's listing.
        """
        ...

    def set_off_duty(self, volunteer_id: int, *, now: datetime) -> bool:
        """Take a volunteer off duty and delete their fix at once; ``True`` if they were on."""
        ...

    def is_on_duty(self, volunteer_id: int) -> bool:
        """Whether the volunteer is on duty."""
        ...

    def record_fix(self, volunteer_id: int, fix: Fix, *, received_at: datetime) -> FixVerdict:
        """Judge one fix against the stored one and store it if plausible and on duty."""
        ...

    def record_fixes(self, volunteer_id: int, fixes: Sequence[Fix], *,
                     received_at: datetime) -> list[FixVerdict]:
        """Judge a batch received at once; verdicts come back in the caller's order.

        See :func:`app.live.plausibility.plan_fixes` for the batch rules.
        """
        ...

    def get(self, volunteer_id: int, *, now: datetime) -> VolunteerLive:
        """The volunteer's own state; ``fix`` is ``None`` once it is no longer fresh."""
        ...

    def on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                      city_code: str | None = None, bbox: BBox | None = None
                      ) -> list[LiveFix]:
        """On-duty volunteers whose fix is at most ``max_age_s`` old, by volunteer id.

        ``max_age_s`` defaults to ``policy.fresh_s`` and may not exceed it (older fixes are
        already gone).  ``bbox`` is a cheap pre-filter before walking-time ranking.
        """
        ...

    def ask_on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                          city_code: str | None = None, bbox: BBox | None = None
                          ) -> AbstractContextManager[Callable[[], list[LiveFix]]]:
        """``on_duty_fresh`` asked on entering the block and answered by the callable it
        gives, so that the caller can work while a shared store looks the fixes up."""
        ...

    def purge(self, *, now: datetime) -> int:
        """Delete fixes that are no longer fresh at ``now``; returns how many were dropped."""
        ...

    def clear(self) -> None:
        """Forget everything this store holds (tests, or a deliberate reset)."""
        ...

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...


def check_max_age(policy: LivePolicy, max_age_s: float | None) -> float:
    """Resolve the ``max_age_s`` of a listing against the policy (shared by both stores)."""
    if max_age_s is None:
        return policy.fresh_s
    if not (math.isfinite(max_age_s) and 0 <= max_age_s <= policy.fresh_s):
        raise ValueError(f"max_age_s must be between 0 and policy.fresh_s ({policy.fresh_s}); "
                         f"got {max_age_s!r}")
    return max_age_s


def in_bbox(fix: LiveFix, bbox: BBox | None) -> bool:
    """Whether ``fix`` lies inside ``bbox`` (always true without a bbox)."""
    if bbox is None:
        return True
    west, south, east, north = bbox
    return west <= fix.lon <= east and south <= fix.lat <= north


def check_city_code(city_code: str) -> str:
    """Refuse an empty city code: it would share a key with the all-cities listing."""
    if not city_code:
        raise ValueError("city_code must be a non-empty string")
    return city_code
