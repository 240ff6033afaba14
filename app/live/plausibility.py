"""Plausibility of location fixes: pure functions shared by every live-state store.

A fix is *flagged* (never stored, never ranked; the previous good fix stays) when

* its accuracy radius is not positive (or not a number), or larger than
  ``policy.max_accuracy_m``: a zero radius is what broken or spoofed providers report, and a
  radius of kilometres says nothing about which street the volunteer is on;
* the client's ``recorded_at`` is more than ``policy.max_clock_skew_s`` from server receive
  time: either the device clock is wrong, or the fix sat in a queue so long that it no longer
  says where the volunteer is;
* reaching it from the previous accepted fix needs more than ``policy.max_speed_mps``.

The speed check, and which clock it uses
----------------------------------------
The server does not trust client clocks for ordering, so between two *requests* the time is
the difference of **server receive times**.  Fixes of one batch share a receive time, so
between two fixes of the **same batch** the time is the difference of their client
``recorded_at`` values: one device clock measuring an interval is trustworthy even when its
offset from server time is not (the offset cancels out).  The first fix of a batch is
compared with the stored fix over server time, which can only over-estimate the interval
(the fix was recorded before the batch arrived) and so never flags a genuine fix.

Positions are uncertain, so the distance used is the great-circle distance minus both
accuracy radii (at least zero): a phone standing still whose fix jitters within its reported
accuracy has not moved.  The interval is at least ``policy.min_interval_s``.

An implausible jump keeps being flagged until the stored fix is no longer fresh; the next
plausible fix after that is accepted.  A volunteer who really did move fast (a car, the
metro) therefore reappears at most ``policy.fresh_s`` later, which is the safe direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.geo.crs import distance_m
from app.live.state import (
    Fix,
    FixReason,
    FixStatus,
    FixVerdict,
    LiveFix,
    LivePolicy,
    require_aware,
)

__all__ = ["FixPlan", "accuracy_reasons", "judge_fix", "plan_fixes", "speed_mps"]


def accuracy_reasons(accuracy_m: float, policy: LivePolicy) -> tuple[FixReason, ...]:
    """Reasons to distrust a reported accuracy radius (empty if it is believable)."""
    if math.isnan(accuracy_m) or accuracy_m <= 0:  # NaN: no usable radius at all
        return (FixReason.accuracy_not_positive,)
    if accuracy_m > policy.max_accuracy_m:  # +inf included
        return (FixReason.accuracy_too_large,)
    return ()


def _radius_m(accuracy_m: float, policy: LivePolicy) -> float:
    # Only a believable radius may excuse movement; a huge or missing one excuses nothing.
    if math.isfinite(accuracy_m) and 0 < accuracy_m <= policy.max_accuracy_m:
        return accuracy_m
    return 0.0


def speed_mps(lon1: float, lat1: float, accuracy1_m: float, lon2: float, lat2: float,
              accuracy2_m: float, *, elapsed_s: float, policy: LivePolicy) -> float:
    """Least speed that explains moving between two uncertain positions in ``elapsed_s``.

    Parameters
    ----------
    lon1, lat1, accuracy1_m
        The earlier fix (WGS-84 degrees, accuracy radius in metres).
    lon2, lat2, accuracy2_m
        The later fix.
    elapsed_s
        Seconds between them; floored at ``policy.min_interval_s``.
    policy
        Supplies the interval floor and the largest radius that counts as slack.

    Returns
    -------
    float
        Metres per second.
    """
    slack_m = _radius_m(accuracy1_m, policy) + _radius_m(accuracy2_m, policy)
    moved_m = max(0.0, distance_m(lon1, lat1, lon2, lat2) - slack_m)
    return moved_m / max(elapsed_s, policy.min_interval_s)


def judge_fix(fix: Fix, *, received_at: datetime, policy: LivePolicy,
              previous: LiveFix | None = None, previous_in_batch: Fix | None = None
              ) -> tuple[FixReason, ...]:
    """Why ``fix`` is implausible; an empty tuple means it may be used.

    Parameters
    ----------
    fix
        The fix to judge.
    received_at
        Server time at which the request carrying ``fix`` arrived.
    policy
        Thresholds.
    previous
        The stored fix (if still fresh at ``received_at``); compared over server time.
    previous_in_batch
        The last accepted fix of the same batch; when given it is the reference instead of
        ``previous`` and the interval is measured with the client's ``recorded_at`` times.

    Returns
    -------
    tuple of FixReason
        In a stable order: accuracy, clock skew, speed.
    """
    require_aware(received_at, "received_at")
    reasons = list(accuracy_reasons(fix.accuracy_m, policy))
    skew_s = abs((fix.recorded_at - received_at).total_seconds())
    if skew_s > policy.max_clock_skew_s:
        reasons.append(FixReason.clock_skew)
    if previous_in_batch is not None:
        ref = previous_in_batch
        elapsed_s = (fix.recorded_at - ref.recorded_at).total_seconds()
    elif previous is not None:
        ref = previous
        elapsed_s = (received_at - previous.received_at).total_seconds()
    else:
        return tuple(reasons)
    speed = speed_mps(ref.lon, ref.lat, ref.accuracy_m, fix.lon, fix.lat, fix.accuracy_m,
                      elapsed_s=elapsed_s, policy=policy)
    if speed > policy.max_speed_mps:
        reasons.append(FixReason.implausible_speed)
    return tuple(reasons)


@dataclass(frozen=True, slots=True)
class FixPlan:
    """What a store must do with a submitted batch.

    ``live`` is the fix to store, or ``None`` to leave the stored fix as it is.
    """

    verdicts: tuple[FixVerdict, ...]
    live: LiveFix | None


def plan_fixes(volunteer_id: int, fixes: Sequence[Fix], *, received_at: datetime,
               city_code: str | None, on_duty_since: datetime | None,
               stored: LiveFix | None, policy: LivePolicy) -> FixPlan:
    """Decide the verdicts of a batch of fixes received together (one fix is a batch of one).

    Rules, in order:

    1. Off duty (``city_code is None``), or received before the volunteer went on duty:
       nothing is kept (reason ``off_duty``).  A fix sent while off duty must not surface
       when the volunteer later goes on duty.
    2. Received before the stored fix (server time): nothing is kept (``out_of_order``).
       The server orders fixes by its receive time, never by the client's ``recorded_at``,
       so a late-processed request cannot overwrite a newer position.
    3. Otherwise the fixes are judged in client ``recorded_at`` order (the device's own
       sequence), each against the last accepted one, and the **latest accepted** fix becomes
       live with the batch's receive time.  Earlier accepted fixes are ``accepted`` but not
       ``live``: only one position per volunteer is ever stored.

    Parameters
    ----------
    volunteer_id
        Whose fixes these are.
    fixes
        The batch, in any order.
    received_at
        Server time the batch arrived.
    city_code, on_duty_since
        The volunteer's duty state (``None`` when off duty).
    stored
        The currently stored fix, fresh or not.
    policy
        Thresholds.

    Returns
    -------
    FixPlan
        Verdicts in the caller's order, and the fix to store (if any).
    """
    require_aware(received_at, "received_at")
    if city_code is None or (on_duty_since is not None and received_at < on_duty_since):
        return _all(len(fixes), FixReason.off_duty)
    if stored is not None and received_at < stored.received_at:
        return _all(len(fixes), FixReason.out_of_order)

    # A stored fix that is no longer fresh is as good as gone (the Redis TTL may not have
    # fired yet, and the in-process store drops it lazily): never judge against it.
    previous = stored if stored is not None and stored.age_s(received_at) <= policy.fresh_s \
        else None
    verdicts: list[FixVerdict | None] = [None] * len(fixes)
    previous_in_batch: Fix | None = None
    last_accepted: int | None = None
    # sorted() is stable: equal client times keep the order the device sent them in.
    for index in sorted(range(len(fixes)), key=lambda i: fixes[i].recorded_at):
        fix = fixes[index]
        reasons = judge_fix(fix, received_at=received_at, policy=policy, previous=previous,
                            previous_in_batch=previous_in_batch)
        if reasons:
            verdicts[index] = FixVerdict(FixStatus.flagged, reasons)
        else:
            verdicts[index] = FixVerdict(FixStatus.accepted)
            previous_in_batch = fix
            last_accepted = index
    if last_accepted is None:
        return FixPlan(tuple(v for v in verdicts if v is not None), None)
    verdicts[last_accepted] = FixVerdict(FixStatus.accepted, live=True)
    best = fixes[last_accepted]
    # float(): both stores then hand back identical values (Redis can only return floats).
    live = LiveFix(volunteer_id=volunteer_id, city_code=city_code, lon=float(best.lon),
                   lat=float(best.lat), accuracy_m=float(best.accuracy_m),
                   received_at=received_at.astimezone(UTC))
    return FixPlan(tuple(v for v in verdicts if v is not None), live)


def _all(count: int, reason: FixReason) -> FixPlan:
    return FixPlan(tuple(FixVerdict(FixStatus.not_kept, (reason,)) for _ in range(count)), None)
