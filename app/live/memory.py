"""In-process live state: the embedded default (one API process, or tests).

One lock guards everything.  Judging a fix is a few floating-point operations, so holding
the lock across read-judge-write costs nothing and makes every update atomic, which is what
keeps a fix racing with ``set_off_duty`` from surviving it.  Updates are O(1) dict and set
operations; stale fixes are dropped lazily when read and in bulk by :meth:`purge`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from app.live.plausibility import plan_fixes
from app.live.state import (
    BBox,
    Fix,
    FixVerdict,
    LiveFix,
    LivePolicy,
    VolunteerLive,
    check_city_code,
    check_max_age,
    in_bbox,
    require_aware,
)

__all__ = ["MemoryLiveState"]


@dataclass(frozen=True, slots=True)
class _Duty:
    city_code: str
    since: datetime


class MemoryLiveState:
    """Thread-safe in-process :class:`app.live.state.LiveState`.

    Parameters
    ----------
    policy
        Thresholds (freshness, plausibility).
    """

    def __init__(self, *, policy: LivePolicy | None = None) -> None:
        self.policy = policy if policy is not None else LivePolicy()
        self._lock = threading.Lock()
        self._duty: dict[int, _Duty] = {}
        self._fixes: dict[int, LiveFix] = {}  # exactly one per volunteer: no history
        self._on_duty_by_city: dict[str, set[int]] = {}

    # -- duty ---------------------------------------------------------------------------

    def set_on_duty(self, volunteer_id: int, city_code: str, *, now: datetime) -> bool:
        """Put a volunteer on duty; see :meth:`app.live.state.LiveState.set_on_duty`."""
        check_city_code(city_code)
        require_aware(now, "now")
        with self._lock:
            duty = self._duty.get(volunteer_id)
            if duty is not None and duty.city_code == city_code:
                return False
            if duty is not None:
                self._unindex(volunteer_id, duty.city_code)
                fix = self._fixes.get(volunteer_id)
                if fix is not None:  # same position, now listed under the new city
                    self._fixes[volunteer_id] = replace(fix, city_code=city_code)
            if duty is None:
                # Never true (fixes die with duty), but nothing recorded before this shift may
                # ever surface in it; mirrors the Redis store.
                self._fixes.pop(volunteer_id, None)
            since = now if duty is None else duty.since
            self._duty[volunteer_id] = _Duty(city_code, since)
            self._on_duty_by_city.setdefault(city_code, set()).add(volunteer_id)
            return duty is None

    def set_off_duty(self, volunteer_id: int, *, now: datetime) -> bool:
        """Take a volunteer off duty and delete the fix in the same locked step."""
        require_aware(now, "now")
        with self._lock:
            duty = self._duty.pop(volunteer_id, None)
            self._fixes.pop(volunteer_id, None)
            if duty is None:
                return False
            self._unindex(volunteer_id, duty.city_code)
            return True

    def is_on_duty(self, volunteer_id: int) -> bool:
        """Whether the volunteer is on duty."""
        with self._lock:
            return volunteer_id in self._duty

    # -- fixes --------------------------------------------------------------------------

    def record_fix(self, volunteer_id: int, fix: Fix, *, received_at: datetime) -> FixVerdict:
        """Judge and maybe store one fix; see :func:`app.live.plausibility.plan_fixes`."""
        return self.record_fixes(volunteer_id, [fix], received_at=received_at)[0]

    def record_fixes(self, volunteer_id: int, fixes: Sequence[Fix], *,
                     received_at: datetime) -> list[FixVerdict]:
        """Judge a batch received at once and store its latest plausible fix."""
        require_aware(received_at, "received_at")
        with self._lock:
            duty = self._duty.get(volunteer_id)
            plan = plan_fixes(
                volunteer_id, fixes, received_at=received_at,
                city_code=duty.city_code if duty else None,
                on_duty_since=duty.since if duty else None,
                stored=self._fixes.get(volunteer_id), policy=self.policy)
            if plan.live is not None:
                self._fixes[volunteer_id] = plan.live
            return list(plan.verdicts)

    def get(self, volunteer_id: int, *, now: datetime) -> VolunteerLive:
        """The volunteer's own state, with the fix only while it is fresh."""
        require_aware(now, "now")
        with self._lock:
            duty = self._duty.get(volunteer_id)
            if duty is None:
                return VolunteerLive(on_duty=False)
            return VolunteerLive(on_duty=True, city_code=duty.city_code,
                                 on_duty_since=duty.since,
                                 fix=self._fresh_fix(volunteer_id, now, self.policy.fresh_s))

    def on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                      city_code: str | None = None, bbox: BBox | None = None
                      ) -> list[LiveFix]:
        """Fresh fixes of on-duty volunteers, optionally in one city and a bbox."""
        require_aware(now, "now")
        max_age = check_max_age(self.policy, max_age_s)
        with self._lock:
            if city_code is None:
                candidates: list[int] = list(self._fixes)
            else:
                candidates = list(self._on_duty_by_city.get(city_code, ()))
            found = []
            for volunteer_id in candidates:
                fix = self._fresh_fix(volunteer_id, now, max_age)
                if fix is not None and in_bbox(fix, bbox):
                    found.append(fix)
        found.sort(key=lambda f: f.volunteer_id)
        return found

    @contextmanager
    def ask_on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                          city_code: str | None = None, bbox: BBox | None = None
                          ) -> Iterator[Callable[[], list[LiveFix]]]:
        """:meth:`on_duty_fresh`, answered at once (there is nothing to wait for)."""
        found = self.on_duty_fresh(now=now, max_age_s=max_age_s, city_code=city_code,
                                   bbox=bbox)
        yield lambda: found

    def purge(self, *, now: datetime) -> int:
        """Drop every fix that is no longer fresh at ``now``."""
        require_aware(now, "now")
        with self._lock:
            stale = [vid for vid, fix in self._fixes.items()
                     if fix.age_s(now) > self.policy.fresh_s]
            for volunteer_id in stale:
                del self._fixes[volunteer_id]
            return len(stale)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._duty.clear()
            self._fixes.clear()
            self._on_duty_by_city.clear()

    def close(self) -> None:
        """Nothing to release; present for the interface."""

    # -- internals (call with the lock held) --------------------------------------------

    def _fresh_fix(self, volunteer_id: int, now: datetime, max_age_s: float) -> LiveFix | None:
        fix = self._fixes.get(volunteer_id)
        if fix is None:
            return None
        age_s = fix.age_s(now)
        if age_s > self.policy.fresh_s:
            # Lazy expiry: a location that is no longer fresh must not be kept at all.
            del self._fixes[volunteer_id]
            return None
        return fix if age_s <= max_age_s else None

    def _unindex(self, volunteer_id: int, city_code: str) -> None:
        members = self._on_duty_by_city.get(city_code)
        if members is not None:
            members.discard(volunteer_id)
            if not members:
                del self._on_duty_by_city[city_code]

