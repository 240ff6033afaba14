"""Redis live state: the same semantics as the in-process store, shared by API workers.

Keys (``P`` is the configurable prefix; times are integer microseconds since the epoch, so
they round-trip exactly and fit a sorted-set score)::

    P duty:<volunteer>   hash {city, since}                 while on duty; no TTL
    P fix:<volunteer>    hash {tok, city, lon, lat, acc, rcv}  TTL = policy.fresh_s
    P live               zset volunteer -> rcv (all cities)  index for listings
    P city:<code>        zset volunteer -> rcv (one city)    index for listings
    P cities             set of city codes with an index     for purge()
    P geo:<code>:<b>     geo set volunteer -> position       fixes received in minute b;
                                                             TTL = fresh_s + 1 minute

Privacy by construction: the fix hash has a TTL equal to the freshness window, so a location
disappears by itself even if every API worker dies; it holds only the latest fix (no list,
no stream: no history); and the indexes hold ids and receive times, never coordinates (they
expire too, a freshness window after their last write).  The geo sets that let a ranking
fetch only the fixes near an incident do hold positions: a volunteer's current one only
(writing a fix removes the previous one), in the set of the minute it was received, which
expires a freshness window plus a minute after that minute ended, whatever happens to the
workers; going off duty removes the volunteer from them at once.

Atomicity: every write is one Lua script, which Redis runs without interleaving.  Recording
a fix is optimistic: read duty and fix in one MULTI/EXEC, judge in Python (the pure rules of
:mod:`app.live.plausibility`, shared with the in-process store), then a script writes only if
the volunteer is still on duty *since the same moment* and the fix still carries the token
that was read; otherwise the whole read-judge-write is retried.  So a fix racing with
``set_off_duty`` (even off-then-on-again) can never leave a location behind, and two racing
fixes never judge against a position that is no longer stored.

The scripts build index key names from the prefix, so this is for a single Redis server
(or a primary with replicas), not Redis Cluster.  Freshness of listings is decided by the
``now`` the caller passes; the TTL is the backstop that guarantees deletion in real time.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from app.live.plausibility import plan_fixes
from app.live.state import (
    BBox,
    Fix,
    FixVerdict,
    LiveFix,
    LivePolicy,
    LiveStateUnavailable,
    VolunteerLive,
    check_city_code,
    check_max_age,
    in_bbox,
    require_aware,
)

__all__ = ["DEFAULT_KEY_PREFIX", "RedisLiveState"]

DEFAULT_KEY_PREFIX = "rescue:live:"

# Only one device writes for a volunteer, so conflicts are rare; a bounded retry turns a
# pathological storm into a clear error instead of a spinning worker.
_MAX_ATTEMPTS = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

# KEYS: duty, fix, all-cities index.  ARGV: city, since_us, volunteer, prefix, ttl_ms.
# Returns 1 if the volunteer went on duty, 0 if nothing changed, 2 if the city changed.
_ON_DUTY = """
local old = redis.call('HGET', KEYS[1], 'city')
if old == ARGV[1] then return 0 end
if not old then
  redis.call('HSET', KEYS[1], 'city', ARGV[1], 'since', ARGV[2])
  -- No fix can exist for an off-duty volunteer; delete defensively so that nothing recorded
  -- before this shift could ever surface in it.
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('HSET', KEYS[1], 'city', ARGV[1])
redis.call('ZREM', ARGV[4] .. 'city:' .. old, ARGV[3])
local rcv = redis.call('HGET', KEYS[2], 'rcv')
if rcv then
  local index = ARGV[4] .. 'city:' .. ARGV[1]
  redis.call('HSET', KEYS[2], 'city', ARGV[1])  -- HSET keeps the hash's TTL
  redis.call('ZADD', index, rcv, ARGV[3])
  redis.call('PEXPIRE', index, ARGV[5])
  redis.call('SADD', ARGV[4] .. 'cities', ARGV[1])
end
return 2
"""

# KEYS: duty, fix, all-cities index.  ARGV: volunteer, prefix, minutes whose geo sets may
# hold the volunteer.  Returns 1 if was on duty.
_OFF_DUTY = """
local city = redis.call('HGET', KEYS[1], 'city')
local fix_city = redis.call('HGET', KEYS[2], 'city')
for _, c in ipairs({city, fix_city}) do
  if c then
    for i = 3, #ARGV do redis.call('ZREM', ARGV[2] .. 'geo:' .. c .. ':' .. ARGV[i], ARGV[1]) end
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
if city then redis.call('ZREM', ARGV[2] .. 'city:' .. city, ARGV[1]) end
if fix_city and fix_city ~= city then
  redis.call('ZREM', ARGV[2] .. 'city:' .. fix_city, ARGV[1])
end
if city then return 1 end
return 0
"""

# KEYS: duty, fix, all-cities index.
# ARGV: volunteer, expected since ('' = off duty), expected token ('' = no fix), new token,
#       rcv_us, lon, lat, acc, ttl_ms, prefix, minute of receipt, geo set ttl_ms.
# Returns 1 when written, 0 when the state changed since it was read (caller retries).
_WRITE_FIX = """
local city = redis.call('HGET', KEYS[1], 'city')
local since = redis.call('HGET', KEYS[1], 'since') or ''
local tok = redis.call('HGET', KEYS[2], 'tok') or ''
if not city or since ~= ARGV[2] or tok ~= ARGV[3] then return 0 end
-- One position per volunteer in the geo sets too: drop the one of the previous fix.
local old_rcv = redis.call('HGET', KEYS[2], 'rcv')
if old_rcv then
  local old_minute = string.format('%d', math.floor(tonumber(old_rcv) / 60000000))
  local old_city = redis.call('HGET', KEYS[2], 'city')
  if old_minute ~= ARGV[11] or old_city ~= city then
    redis.call('ZREM', ARGV[10] .. 'geo:' .. old_city .. ':' .. old_minute, ARGV[1])
  end
end
redis.call('HSET', KEYS[2], 'tok', ARGV[4], 'city', city, 'lon', ARGV[6], 'lat', ARGV[7],
           'acc', ARGV[8], 'rcv', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
local index = ARGV[10] .. 'city:' .. city
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZADD', index, ARGV[5], ARGV[1])
redis.call('SADD', ARGV[10] .. 'cities', city)
redis.call('PEXPIRE', KEYS[3], ARGV[9])
redis.call('PEXPIRE', index, ARGV[9])
redis.call('PEXPIRE', ARGV[10] .. 'cities', ARGV[9])
local geo = ARGV[10] .. 'geo:' .. city .. ':' .. ARGV[11]
redis.call('GEOADD', geo, ARGV[6], ARGV[7], ARGV[1])
redis.call('PEXPIRE', geo, ARGV[12])
return 1
"""

# KEYS: fix.  ARGV: cutoff_us.  Deletes the fix if received before the cutoff; 1 if deleted.
_DROP_STALE = """
local rcv = redis.call('HGET', KEYS[1], 'rcv')
if rcv and tonumber(rcv) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# KEYS: index.  ARGV: cutoff_us, prefix, city ('' = any), min_lon, min_lat, max_lon, max_lat
# ('' = no box).  Returns [id, city, lon, lat, acc, rcv, ...] of the fresh fixes inside:
# the filter runs next to the data, so a ranking fetches only the fixes it can use instead
# of every on-duty fix in the city.
_FRESH_IN_BOX = """
local boxed = ARGV[4] ~= ''
local x0, y0, x1, y1 = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local cutoff = tonumber(ARGV[1])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  local f = redis.call('HMGET', ARGV[2] .. 'fix:' .. id, 'city', 'lon', 'lat', 'acc', 'rcv')
  if f[1] and tonumber(f[5]) >= cutoff and (ARGV[3] == '' or f[1] == ARGV[3]) then
    local lon, lat = tonumber(f[2]), tonumber(f[3])
    if not boxed or (lon >= x0 and lon <= x1 and lat >= y0 and lat <= y1) then
      table.insert(out, id)
      for k = 1, 5 do table.insert(out, f[k]) end
    end
  end
end
return out
"""

# KEYS: the city's geo sets of the minutes that can hold a fresh fix.
# ARGV: cutoff_us, prefix, city, min_lon, min_lat, max_lon, max_lat, centre lon, centre lat,
#       box width m, box height m (a box that contains the bbox).
# Returns [id, city, lon, lat, acc, rcv, ...] like _FRESH_IN_BOX; the geo sets only find
# candidates (older positions linger in older minutes), the fix hash decides.
_FRESH_NEAR = """
local x0, y0, x1, y1 = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local cutoff = tonumber(ARGV[1])
local seen, out = {}, {}
for _, key in ipairs(KEYS) do
  local near = redis.call('GEOSEARCH', key, 'FROMLONLAT', ARGV[8], ARGV[9],
                          'BYBOX', ARGV[10], ARGV[11], 'm')
  for _, id in ipairs(near) do
    if not seen[id] then
      seen[id] = true
      local f = redis.call('HMGET', ARGV[2] .. 'fix:' .. id, 'city', 'lon', 'lat', 'acc', 'rcv')
      if f[1] == ARGV[3] and tonumber(f[5]) >= cutoff then
        local lon, lat = tonumber(f[2]), tonumber(f[3])
        if lon >= x0 and lon <= x1 and lat >= y0 and lat <= y1 then
          table.insert(out, id)
          for k = 1, 5 do table.insert(out, f[k]) end
        end
      end
    end
  end
end
return out
"""

# Positions are indexed by the minute they were received in.
_GEO_MINUTE_US = 60_000_000
_M_PER_DEGREE = 111_320.0


def _to_us(value: datetime) -> int:
    return (value - _EPOCH) // _US


def _from_us(value: str | int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    # Services map LiveStateUnavailable to a 503; they should not need to know about redis.
    try:
        yield
    except redis.RedisError as exc:
        raise LiveStateUnavailable(f"live state store failed: {exc}") from exc


class RedisLiveState:
    """:class:`app.live.state.LiveState` in Redis, safe for several processes.

    Parameters
    ----------
    client
        A ``redis.Redis`` created with ``decode_responses=True``; prefer :meth:`from_url`.
    policy
        Thresholds; ``fresh_s`` is also the TTL of the fix keys.
    key_prefix
        Prepended to every key, so deployments (and test runs) sharing a server stay apart.
    """

    def __init__(self, client: redis.Redis, *, policy: LivePolicy | None = None,
                 key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        if not client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("the redis client must be created with decode_responses=True")
        if not key_prefix:
            raise ValueError("key_prefix must not be empty: clear() deletes every key under it")
        self.policy = policy if policy is not None else LivePolicy()
        self.key_prefix = key_prefix
        self._redis = client
        self._ttl_ms = math.ceil(self.policy.fresh_s * 1000)
        self._on_duty = client.register_script(_ON_DUTY)
        self._off_duty = client.register_script(_OFF_DUTY)
        self._write_fix = client.register_script(_WRITE_FIX)
        self._drop_stale = client.register_script(_DROP_STALE)
        self._fresh_in_box = client.register_script(_FRESH_IN_BOX)
        self._fresh_near = client.register_script(_FRESH_NEAR)
        self._geo_ttl_ms = self._ttl_ms + _GEO_MINUTE_US // 1000

    @classmethod
    def from_url(cls, url: str, *, policy: LivePolicy | None = None,
                 key_prefix: str = DEFAULT_KEY_PREFIX, timeout_s: float = 2.0
                 ) -> RedisLiveState:
        """Connect to ``url`` (``redis://host:port/db``, ``rediss://`` for TLS).

        ``timeout_s`` bounds connecting and every command, so a dead Redis becomes a quick
        :class:`LiveStateUnavailable` rather than a hung request.
        """
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout_s,
                                      socket_connect_timeout=timeout_s,
                                      health_check_interval=30)
        return cls(client, policy=policy, key_prefix=key_prefix)

    # -- keys ---------------------------------------------------------------------------

    def _duty_key(self, volunteer_id: int) -> str:
        return f"{self.key_prefix}duty:{int(volunteer_id)}"

    def _fix_key(self, volunteer_id: int) -> str:
        return f"{self.key_prefix}fix:{int(volunteer_id)}"

    def _city_key(self, city_code: str) -> str:
        return f"{self.key_prefix}city:{city_code}"

    @property
    def _all_key(self) -> str:
        return f"{self.key_prefix}live"

    def _keys(self, volunteer_id: int) -> list[str]:
        return [self._duty_key(volunteer_id), self._fix_key(volunteer_id), self._all_key]

    def _geo_minutes(self, now: datetime, *, since_us: int | None = None) -> list[int]:
        """The minutes whose geo sets can still exist at ``now`` (or hold fixes received
        since ``since_us``); a minute ahead too, for clocks a little apart."""
        last = _to_us(now) // _GEO_MINUTE_US + 1
        first = (since_us if since_us is not None
                 else _to_us(now) - self._geo_ttl_ms * 1000) // _GEO_MINUTE_US
        return list(range(first, last + 1))

    # -- duty ---------------------------------------------------------------------------

    def set_on_duty(self, volunteer_id: int, city_code: str, *, now: datetime) -> bool:
        """Put a volunteer on duty; see :meth:`app.live.state.LiveState.set_on_duty`."""
        check_city_code(city_code)
        require_aware(now, "now")
        with _unavailable_on_error():
            result = self._on_duty(
                keys=self._keys(volunteer_id),
                args=[city_code, _to_us(now), int(volunteer_id), self.key_prefix, self._ttl_ms])
        return int(result) == 1

    def set_off_duty(self, volunteer_id: int, *, now: datetime) -> bool:
        """Take a volunteer off duty and delete the fix in one atomic script."""
        require_aware(now, "now")
        with _unavailable_on_error():
            result = self._off_duty(keys=self._keys(volunteer_id),
                                    args=[int(volunteer_id), self.key_prefix,
                                          *self._geo_minutes(now)])
        return int(result) == 1

    def is_on_duty(self, volunteer_id: int) -> bool:
        """Whether the volunteer is on duty."""
        with _unavailable_on_error():
            return bool(self._redis.exists(self._duty_key(volunteer_id)))

    # -- fixes --------------------------------------------------------------------------

    def record_fix(self, volunteer_id: int, fix: Fix, *, received_at: datetime) -> FixVerdict:
        """Judge and maybe store one fix; see :func:`app.live.plausibility.plan_fixes`."""
        return self.record_fixes(volunteer_id, [fix], received_at=received_at)[0]

    def record_fixes(self, volunteer_id: int, fixes: Sequence[Fix], *,
                     received_at: datetime) -> list[FixVerdict]:
        """Judge a batch received at once and store its latest plausible fix."""
        require_aware(received_at, "received_at")
        with _unavailable_on_error():
            for _ in range(_MAX_ATTEMPTS):
                duty, stored = self._snapshot(volunteer_id)
                city = duty.get("city")
                plan = plan_fixes(
                    volunteer_id, fixes, received_at=received_at, city_code=city,
                    on_duty_since=_from_us(duty["since"]) if city else None,
                    stored=self._live_fix(volunteer_id, stored), policy=self.policy)
                if plan.live is None:
                    # Nothing to write: the verdicts rest on one consistent snapshot.
                    return list(plan.verdicts)
                live = plan.live
                written = self._write_fix(keys=self._keys(volunteer_id), args=[
                    int(volunteer_id), duty.get("since", ""), stored.get("tok", ""),
                    secrets.token_hex(8), _to_us(live.received_at), repr(live.lon),
                    repr(live.lat), repr(live.accuracy_m), self._ttl_ms, self.key_prefix,
                    _to_us(live.received_at) // _GEO_MINUTE_US, self._geo_ttl_ms])
                if int(written) == 1:
                    return list(plan.verdicts)
        raise LiveStateUnavailable(
            f"volunteer {volunteer_id}: live state changed {_MAX_ATTEMPTS} times while a fix "
            "was being recorded")

    def get(self, volunteer_id: int, *, now: datetime) -> VolunteerLive:
        """The volunteer's own state, with the fix only while it is fresh."""
        require_aware(now, "now")
        with _unavailable_on_error():
            duty, stored = self._snapshot(volunteer_id)
        city = duty.get("city")
        if city is None:
            return VolunteerLive(on_duty=False)
        fix = self._live_fix(volunteer_id, stored)
        if fix is not None and fix.age_s(now) > self.policy.fresh_s:
            fix = None
        return VolunteerLive(on_duty=True, city_code=city, on_duty_since=_from_us(duty["since"]),
                             fix=fix)

    def on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                      city_code: str | None = None, bbox: BBox | None = None
                      ) -> list[LiveFix]:
        """Fresh fixes of on-duty volunteers, optionally in one city and a bbox."""
        with self.ask_on_duty_fresh(now=now, max_age_s=max_age_s, city_code=city_code,
                                    bbox=bbox) as answer:
            return answer()

    @contextmanager
    def ask_on_duty_fresh(self, *, now: datetime, max_age_s: float | None = None,
                          city_code: str | None = None, bbox: BBox | None = None
                          ) -> Iterator[Callable[[], list[LiveFix]]]:
        """:meth:`on_duty_fresh` in two halves: the question goes to Redis on entering the
        block, the answer is read when the callable is called, inside the block (a ranking
        looks up its AEDs meanwhile instead of waiting for Redis). A Redis that restarted
        and forgot the script is asked again, on the same connection, when the answer is
        read. A block left before the answer was read closes its connection: the answer
        must not be read as the next command's."""
        require_aware(now, "now")
        max_age = check_max_age(self.policy, max_age_s)
        cutoff_us = _to_us(now) - math.floor(max_age * 1_000_000)
        box = [repr(float(v)) for v in bbox] if bbox is not None else ["", "", "", ""]
        # The indexes may lag the hash (a fix expired, deleted by going off duty, or
        # replaced since): the scripts read the hash, which is the truth.
        if bbox is not None and city_code is not None:
            script = self._fresh_near
            keys = [f"{self.key_prefix}geo:{city_code}:{m}"
                    for m in self._geo_minutes(now, since_us=cutoff_us)]
            args = [cutoff_us, self.key_prefix, city_code, *box, *_search_box(bbox)]
        else:
            script = self._fresh_in_box
            keys = [self._all_key if city_code is None else self._city_key(city_code)]
            args = [cutoff_us, self.key_prefix, city_code or "", *box]
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        pool = self._redis.connection_pool
        with _unavailable_on_error():
            connection = pool.get_connection()
        inside = True
        found: list[LiveFix] | None = None  # the answer, once read
        try:
            # (The pool replaces a connection Redis closed meanwhile when it hands it out.)
            with _unavailable_on_error():
                connection.send_command(*command)

            def answer() -> list[LiveFix]:
                nonlocal found
                if not inside:  # the connection is back in the pool, maybe in other hands
                    raise RuntimeError("the answer must be read inside its block")
                if found is None:
                    with _unavailable_on_error():
                        try:
                            flat = connection.read_response()
                        except redis.exceptions.NoScriptError:
                            # Loaded and asked again on this connection (through the
                            # client it would take a second one from the pool meanwhile).
                            connection.send_command("SCRIPT", "LOAD", script.script)
                            connection.read_response()
                            connection.send_command(*command)
                            flat = connection.read_response()
                    found = self._fresh_fixes(flat, cutoff_us, city_code, bbox)
                return found

            yield answer
        finally:
            inside = False
            if found is None:  # unread, or read only in part: not for the next command
                connection.disconnect()
            pool.release(connection)

    def purge(self, *, now: datetime) -> int:
        """Delete fixes and index entries that are no longer fresh at ``now``.

        The TTL already removes fix keys in real time; this also trims the indexes and
        applies the caller's clock.
        """
        require_aware(now, "now")
        cutoff_us = _to_us(now) - math.floor(self.policy.fresh_s * 1_000_000)
        dropped = 0
        with _unavailable_on_error():
            stale = self._redis.zrangebyscore(self._all_key, "-inf", f"({cutoff_us}")
            for member in stale:
                dropped += int(self._drop_stale(keys=[self._fix_key(int(member))],
                                                args=[cutoff_us]))
            indexes = [self._all_key]
            indexes += [self._city_key(c) for c in self._redis.smembers(
                f"{self.key_prefix}cities")]
            pipe = self._redis.pipeline(transaction=False)
            for index in indexes:
                pipe.zremrangebyscore(index, "-inf", f"({cutoff_us}")
            pipe.execute()
        return dropped

    def clear(self) -> None:
        """Delete every key under this store's prefix."""
        with _unavailable_on_error():
            batch: list[str] = []
            for key in self._redis.scan_iter(match=_glob_escape(self.key_prefix) + "*",
                                             count=500):
                batch.append(key)
                if len(batch) >= 500:
                    self._redis.unlink(*batch)
                    batch.clear()
            if batch:
                self._redis.unlink(*batch)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    # -- internals ----------------------------------------------------------------------

    def _snapshot(self, volunteer_id: int) -> tuple[dict[str, str], dict[str, str]]:
        # MULTI/EXEC: duty and fix are read at one instant, so the plan judges a state that
        # really existed.
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._duty_key(volunteer_id))
        pipe.hgetall(self._fix_key(volunteer_id))
        duty, stored = pipe.execute()
        return duty, stored

    def _fresh_fixes(self, flat: list[str], cutoff_us: int, city_code: str | None,
                     bbox: BBox | None) -> list[LiveFix]:
        """The listing scripts' flat answer ``[id, city, lon, lat, acc, rcv, ...]`` as
        fixes, by volunteer id, checked again against the cutoff, city and box."""
        fields = ("city", "lon", "lat", "acc", "rcv")
        found = []
        for i in range(0, len(flat), 6):
            volunteer_id, row = int(flat[i]), flat[i + 1:i + 6]
            fix = self._live_fix(volunteer_id, dict(zip(fields, row, strict=True)))
            if fix is None or _to_us(fix.received_at) < cutoff_us:
                continue
            if city_code is not None and fix.city_code != city_code:
                continue
            if in_bbox(fix, bbox):
                found.append(fix)
        found.sort(key=lambda f: f.volunteer_id)
        return found

    @staticmethod
    def _live_fix(volunteer_id: int, stored: dict[str, Any]) -> LiveFix | None:
        if not stored or stored.get("rcv") is None:
            return None
        return LiveFix(volunteer_id=volunteer_id, city_code=stored["city"],
                       lon=float(stored["lon"]), lat=float(stored["lat"]),
                       accuracy_m=float(stored["acc"]), received_at=_from_us(stored["rcv"]))


def _search_box(bbox: BBox) -> list[str]:
    """Centre and size in metres of a box that surely contains ``bbox`` on Redis' sphere."""
    min_lon, min_lat, max_lon, max_lat = bbox
    widest = math.cos(math.radians(min(abs(min_lat), abs(max_lat))))
    if min_lat <= 0 <= max_lat:
        widest = 1.0
    width = (max_lon - min_lon) * _M_PER_DEGREE * widest * 1.02 + 10
    height = (max_lat - min_lat) * _M_PER_DEGREE * 1.02 + 10
    return [repr((min_lon + max_lon) / 2), repr((min_lat + max_lat) / 2), repr(width),
            repr(height)]
