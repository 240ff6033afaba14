"""One behavioural suite for both live-state stores (in-process and a real Redis).

Redis comes from ``RESCUE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); each store
gets its own key prefix and is emptied afterwards.  Without a reachable Redis the Redis cases
skip locally and fail in CI (``CI=true``).

Time is a parameter everywhere, so the clock is a fixed instant plus offsets; only the Redis
TTL test sleeps (well under a second).
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import redis

from app.live import open_live_state
from app.live.memory import MemoryLiveState
from app.live.plausibility import judge_fix, plan_fixes, speed_mps
from app.live.redis_store import RedisLiveState
from app.live.state import (
    Fix,
    FixReason,
    FixStatus,
    LiveFix,
    LivePolicy,
    LiveState,
    LiveStateUnavailable,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("RESCUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

T0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
LON, LAT = 117.2, 39.12  # Tianjin, Heping district
CITY, OTHER_CITY = "120100", "130600"  # Tianjin, Baoding
VID = 7


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def east(metres: float) -> float:
    """Longitude of a point ``metres`` east of (LON, LAT)."""
    return LON + metres / (111_320.0 * math.cos(math.radians(LAT)))


def fix(metres_east: float = 0.0, *, accuracy_m: float = 10.0, recorded_s: float = 0.0) -> Fix:
    return Fix(lon=east(metres_east), lat=LAT, accuracy_m=accuracy_m, recorded_at=at(recorded_s))


# -- fixtures ---------------------------------------------------------------------------

StoreFactory = Callable[..., LiveState]


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    created: list[LiveState] = []

    def make(policy: LivePolicy | None = None, *, key_prefix: str | None = None) -> LiveState:
        policy = policy or LivePolicy()
        store: LiveState
        if url is None:
            store = MemoryLiveState(policy=policy)
        else:
            # A unique prefix isolates this test from other runs sharing the server.
            prefix = key_prefix or f"rc-test:{uuid.uuid4().hex}:"
            store = RedisLiveState.from_url(url, policy=policy, key_prefix=prefix)
        created.append(store)
        return store

    yield make
    for store in created:
        store.clear()
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> LiveState:
    return make_store()


def peer_of(store: LiveState, make_store: StoreFactory) -> LiveState:
    """A second handle on the same state: another API worker for Redis, the same object here."""
    if isinstance(store, RedisLiveState):
        return make_store(store.policy, key_prefix=store.key_prefix)
    return store


def fix_is_stored(store: LiveState, volunteer_id: int = VID) -> bool:
    """Whether any fix is physically held, fresh or not (``get`` would hide an orphan)."""
    if isinstance(store, MemoryLiveState):
        return volunteer_id in store._fixes
    assert isinstance(store, RedisLiveState)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return bool(client.exists(f"{store.key_prefix}fix:{volunteer_id}"))
    finally:
        client.close()


def on_duty_with_fix(store: LiveState, *, volunteer_id: int = VID, city: str = CITY,
                     metres_east: float = 0.0, received_s: float = 0.0) -> None:
    store.set_on_duty(volunteer_id, city, now=at(received_s))
    verdict = store.record_fix(volunteer_id, fix(metres_east, recorded_s=received_s),
                               received_at=at(received_s))
    assert verdict.live


def live_lon(store: LiveState, now_s: float, volunteer_id: int = VID) -> float | None:
    state = store.get(volunteer_id, now=at(now_s))
    return None if state.fix is None else state.fix.lon


# -- interface and basics ---------------------------------------------------------------


def test_both_stores_implement_the_interface(store: LiveState) -> None:
    assert isinstance(store, LiveState)


def test_fix_is_live_only_while_fresh(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert [f.volunteer_id for f in store.on_duty_fresh(now=at(119))] == [VID]
    assert store.get(VID, now=at(120)).fix is not None
    assert store.on_duty_fresh(now=at(121)) == []
    state = store.get(VID, now=at(121))
    assert state.on_duty and state.fix is None  # still on duty, but no live location


def test_listing_returns_the_stored_values(store: LiveState) -> None:
    on_duty_with_fix(store, metres_east=30, received_s=5)

    assert store.on_duty_fresh(now=at(10), city_code=CITY) == [LiveFix(
        volunteer_id=VID, city_code=CITY, lon=east(30), lat=LAT, accuracy_m=10.0,
        received_at=at(5))]


def test_max_age_narrows_the_listing_but_cannot_exceed_freshness(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert len(store.on_duty_fresh(now=at(30), max_age_s=30)) == 1
    assert store.on_duty_fresh(now=at(31), max_age_s=30) == []
    with pytest.raises(ValueError, match="max_age_s"):
        store.on_duty_fresh(now=at(0), max_age_s=121)


def test_off_duty_deletes_the_fix_at_once(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert store.set_off_duty(VID, now=at(1)) is True
    assert not fix_is_stored(store)
    assert not store.is_on_duty(VID)
    assert store.get(VID, now=at(1)).fix is None
    assert store.on_duty_fresh(now=at(1)) == []
    # Coming back on duty within the freshness window must not bring the old fix back.
    store.set_on_duty(VID, CITY, now=at(2))
    assert store.get(VID, now=at(2)).fix is None
    assert store.on_duty_fresh(now=at(2)) == []


def test_off_duty_twice_and_on_duty_twice(store: LiveState) -> None:
    assert store.set_off_duty(VID, now=at(0)) is False
    assert store.set_on_duty(VID, CITY, now=at(1)) is True
    assert store.set_on_duty(VID, CITY, now=at(5)) is False
    assert store.get(VID, now=at(5)).on_duty_since == at(1)  # a repeat does not restart it


def test_fix_while_off_duty_is_not_kept(store: LiveState) -> None:
    verdict = store.record_fix(VID, fix(), received_at=at(0))

    assert verdict.status is FixStatus.not_kept
    assert verdict.reasons == (FixReason.off_duty,)
    assert not fix_is_stored(store)
    store.set_on_duty(VID, CITY, now=at(1))
    assert store.get(VID, now=at(1)).fix is None
    assert store.on_duty_fresh(now=at(1)) == []


def test_fix_received_before_going_on_duty_is_not_kept(store: LiveState) -> None:
    # A request that arrived while the volunteer was off duty but is processed late.
    store.set_on_duty(VID, CITY, now=at(10))

    verdict = store.record_fix(VID, fix(recorded_s=9), received_at=at(9))

    assert verdict.reasons == (FixReason.off_duty,)
    assert store.get(VID, now=at(10)).fix is None


# -- plausibility -----------------------------------------------------------------------


def test_implausible_speed_is_flagged_and_previous_fix_stays(store: LiveState) -> None:
    on_duty_with_fix(store)

    verdict = store.record_fix(VID, fix(5_000, recorded_s=10), received_at=at(10))

    assert verdict.status is FixStatus.flagged
    assert verdict.reasons == (FixReason.implausible_speed,)
    assert not verdict.live
    assert live_lon(store, 10) == pytest.approx(east(0))
    # The listing still shows the previous plausible fix with its own receive time.
    [live] = store.on_duty_fresh(now=at(10))
    assert live.received_at == at(0)


def test_plausible_movement_replaces_the_fix(store: LiveState) -> None:
    on_duty_with_fix(store)

    verdict = store.record_fix(VID, fix(400, recorded_s=10), received_at=at(10))  # 40 m/s

    assert verdict.accepted and verdict.live
    assert live_lon(store, 10) == pytest.approx(east(400))


def test_speed_is_measured_over_server_receive_times(store: LiveState) -> None:
    on_duty_with_fix(store)
    # 1 km in 10 s of server time (~98 m/s after accuracy slack), although the client's
    # clock claims 290 s passed (both times within the allowed skew).
    verdict = store.record_fix(VID, fix(1_000, recorded_s=150), received_at=at(10))
    assert verdict.reasons == (FixReason.implausible_speed,)

    store2_verdict = store.record_fix(VID, fix(300, recorded_s=-100), received_at=at(20))
    # 300 m in 20 s of server time is fine whatever the client clock says.
    assert store2_verdict.live


def test_jitter_within_accuracy_is_not_movement(store: LiveState) -> None:
    store.set_on_duty(VID, CITY, now=at(0))
    store.record_fix(VID, fix(0, accuracy_m=60), received_at=at(0))

    # 100 m apart within the same second: explained by two 60 m accuracy radii.
    verdict = store.record_fix(VID, fix(100, accuracy_m=60), received_at=at(0))

    assert verdict.live


@pytest.mark.parametrize(("accuracy_m", "reason"), [
    (0.0, FixReason.accuracy_not_positive),
    (-5.0, FixReason.accuracy_not_positive),
    (math.nan, FixReason.accuracy_not_positive),
    (200.5, FixReason.accuracy_too_large),
    (math.inf, FixReason.accuracy_too_large),
])
def test_implausible_accuracy_is_flagged(store: LiveState, accuracy_m: float,
                                         reason: FixReason) -> None:
    on_duty_with_fix(store)

    verdict = store.record_fix(VID, fix(20, accuracy_m=accuracy_m, recorded_s=5),
                               received_at=at(5))

    assert verdict.status is FixStatus.flagged
    assert verdict.reasons == (reason,)
    assert live_lon(store, 5) == pytest.approx(east(0))


def test_accuracy_at_the_limit_is_accepted(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert store.record_fix(VID, fix(20, accuracy_m=200.0, recorded_s=5),
                            received_at=at(5)).live


@pytest.mark.parametrize("skew_s", [301.0, -301.0, 3600.0 * 8])
def test_client_clock_far_from_server_time_is_flagged(store: LiveState, skew_s: float) -> None:
    on_duty_with_fix(store)

    verdict = store.record_fix(VID, fix(20, recorded_s=5 + skew_s), received_at=at(5))

    assert verdict.reasons == (FixReason.clock_skew,)
    assert live_lon(store, 5) == pytest.approx(east(0))


def test_client_clock_within_skew_is_accepted(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert store.record_fix(VID, fix(20, recorded_s=5 - 299), received_at=at(5)).live


def test_every_reason_is_reported(store: LiveState) -> None:
    on_duty_with_fix(store)

    verdict = store.record_fix(VID, fix(50_000, accuracy_m=0, recorded_s=900),
                               received_at=at(5))

    assert verdict.reasons == (FixReason.accuracy_not_positive, FixReason.clock_skew,
                               FixReason.implausible_speed)


def test_far_jump_is_accepted_once_the_previous_fix_is_stale(store: LiveState) -> None:
    on_duty_with_fix(store)
    # A volunteer who really took the metro reappears when the old fix is no longer fresh.
    assert not store.record_fix(VID, fix(5_000, recorded_s=60), received_at=at(60)).accepted

    assert store.record_fix(VID, fix(5_000, recorded_s=121), received_at=at(121)).live
    assert live_lon(store, 121) == pytest.approx(east(5_000))


# -- batches and ordering ---------------------------------------------------------------


def test_batch_keeps_the_latest_plausible_fix(store: LiveState) -> None:
    store.set_on_duty(VID, CITY, now=at(0))
    batch = [  # queued on the device, sent out of order
        fix(200, recorded_s=40),
        fix(0, recorded_s=0),
        fix(300, accuracy_m=0, recorded_s=60),  # latest by client time, but implausible
        fix(100, recorded_s=20),
    ]

    verdicts = store.record_fixes(VID, batch, received_at=at(61))

    assert [v.status for v in verdicts] == [FixStatus.accepted, FixStatus.accepted,
                                            FixStatus.flagged, FixStatus.accepted]
    assert [v.live for v in verdicts] == [True, False, False, False]
    state = store.get(VID, now=at(61))
    assert state.fix is not None
    assert state.fix.lon == pytest.approx(east(200))
    assert state.fix.received_at == at(61)  # the server's time, not the client's


def test_batch_speed_uses_client_times_between_its_fixes(store: LiveState) -> None:
    store.set_on_duty(VID, CITY, now=at(0))
    # Received in one instant: over server time any movement would be "infinitely fast".
    verdicts = store.record_fixes(VID, [
        fix(0, recorded_s=0),
        fix(600, recorded_s=60),  # 10 m/s by the device's clock: fine
        fix(6_000, recorded_s=70),  # 540 m/s: flagged, judged against the 600 m fix
    ], received_at=at(70))

    assert [v.status for v in verdicts] == [FixStatus.accepted, FixStatus.accepted,
                                            FixStatus.flagged]
    assert verdicts[2].reasons == (FixReason.implausible_speed,)
    assert live_lon(store, 70) == pytest.approx(east(600))


def test_batch_first_fix_is_judged_against_the_stored_fix(store: LiveState) -> None:
    on_duty_with_fix(store)

    verdicts = store.record_fixes(VID, [fix(9_000, recorded_s=8), fix(9_010, recorded_s=9)],
                                  received_at=at(10))

    # The first fix is 900 m/s from the stored one; the second is judged against the stored
    # fix too (nothing in the batch was accepted), so both are flagged.
    assert [v.reasons for v in verdicts] == [(FixReason.implausible_speed,)] * 2
    assert live_lon(store, 10) == pytest.approx(east(0))


def test_batch_while_off_duty_and_empty_batch(store: LiveState) -> None:
    verdicts = store.record_fixes(VID, [fix(0), fix(10, recorded_s=5)], received_at=at(5))
    assert [v.reasons for v in verdicts] == [(FixReason.off_duty,)] * 2

    store.set_on_duty(VID, CITY, now=at(6))
    assert store.record_fixes(VID, [], received_at=at(6)) == []
    assert store.get(VID, now=at(6)).fix is None


def test_fixes_are_ordered_by_server_receive_time(store: LiveState) -> None:
    store.set_on_duty(VID, CITY, now=at(0))
    assert store.record_fix(VID, fix(100, recorded_s=10), received_at=at(10)).live

    # Received before the stored fix but processed after it (another worker was slow).
    late = store.record_fix(VID, fix(0, recorded_s=5), received_at=at(5))
    assert late.status is FixStatus.not_kept
    assert late.reasons == (FixReason.out_of_order,)
    assert live_lon(store, 10) == pytest.approx(east(100))

    # Received later but with an earlier client time: the server's order wins.
    newer = store.record_fix(VID, fix(150, recorded_s=-50), received_at=at(20))
    assert newer.live
    assert live_lon(store, 20) == pytest.approx(east(150))


# -- listings ---------------------------------------------------------------------------


def test_listing_per_city_and_bbox(store: LiveState) -> None:
    on_duty_with_fix(store, volunteer_id=1, metres_east=0)
    on_duty_with_fix(store, volunteer_id=2, metres_east=2_000)
    on_duty_with_fix(store, volunteer_id=3, city=OTHER_CITY)
    store.set_on_duty(4, CITY, now=at(0))  # on duty without a fix: never listed

    def ids(**kwargs: object) -> list[int]:
        return [f.volunteer_id for f in store.on_duty_fresh(now=at(1), **kwargs)]

    assert ids() == [1, 2, 3]
    assert ids(city_code=CITY) == [1, 2]
    assert ids(city_code=OTHER_CITY) == [3]
    assert ids(city_code="999999") == []
    assert ids(city_code=CITY, bbox=(LON - 0.01, LAT - 0.01, east(1_000), LAT + 0.01)) == [1]


@pytest.mark.parametrize("make_store", ["redis"], indirect=True)
def test_geo_index_keeps_one_position_per_volunteer(make_store: StoreFactory) -> None:
    store = make_store()
    assert isinstance(store, RedisLiveState)
    store.set_on_duty(VID, CITY, now=at(0))
    for second in (0, 70, 130, 200):     # four different minutes
        store.record_fix(VID, fix(second, recorded_s=second), received_at=at(second))
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        holding = [key for key in client.scan_iter(match=store.key_prefix + "geo:*")
                   if client.zscore(key, str(VID)) is not None]
        assert len(holding) == 1
        lon, _ = client.geopos(holding[0], str(VID))[0]
        assert lon == pytest.approx(east(200), abs=1e-5)
    finally:
        client.close()


def test_bbox_listing_matches_a_filter_of_the_full_listing(store: LiveState) -> None:
    """The bbox look-up (a geo index in Redis) against the plain listing filtered here, with
    volunteers who moved out of the box, went off duty or let their fix go stale."""
    rng = random.Random(20261123)
    for volunteer_id in range(1, 301):
        received = rng.uniform(0, 100)
        store.set_on_duty(volunteer_id, CITY, now=at(0))
        store.record_fix(volunteer_id, Fix(lon=east(rng.uniform(-3000, 3000)),
                                           lat=LAT + rng.uniform(-0.03, 0.03), accuracy_m=10,
                                           recorded_at=at(received)), received_at=at(received))
    for volunteer_id in range(1, 301, 7):   # moved far away a minute later
        store.record_fix(volunteer_id, Fix(lon=east(50_000), lat=LAT, accuracy_m=10,
                                           recorded_at=at(170)), received_at=at(170))
    for volunteer_id in range(2, 301, 11):
        store.set_off_duty(volunteer_id, now=at(170))
    now = at(180)   # fixes received before 60 s are stale by now
    everyone = store.on_duty_fresh(now=now, city_code=CITY)
    assert 100 < len(everyone) < 300
    for _ in range(20):
        x0, y0 = east(rng.uniform(-3000, 2000)), LAT + rng.uniform(-0.03, 0.02)
        box = (x0, y0, x0 + rng.uniform(0.001, 0.03), y0 + rng.uniform(0.001, 0.02))
        expected = [f.volunteer_id for f in everyone
                    if box[0] <= f.lon <= box[2] and box[1] <= f.lat <= box[3]]
        found = [f.volunteer_id for f in store.on_duty_fresh(now=now, city_code=CITY,
                                                             bbox=box)]
        assert found == expected


def test_asking_first_and_reading_later_answers_as_the_listing(store: LiveState) -> None:
    """The question is asked on entering the block: what changes before the answer is read
    does not change the answer, and the answer is the listing's."""
    on_duty_with_fix(store, volunteer_id=1, metres_east=0)
    on_duty_with_fix(store, volunteer_id=2, metres_east=2_000)
    box = (LON - 0.01, LAT - 0.01, east(3_000), LAT + 0.01)
    expected = store.on_duty_fresh(now=at(1), city_code=CITY, bbox=box)
    with store.ask_on_duty_fresh(now=at(1), city_code=CITY, bbox=box) as answer:
        store.set_off_duty(1, now=at(1))
        assert answer() == expected
    assert [f.volunteer_id for f in expected] == [1, 2]
    assert [f.volunteer_id for f in store.on_duty_fresh(now=at(1), city_code=CITY,
                                                        bbox=box)] == [2]


@pytest.fixture
def one_connection_store(store: LiveState) -> Iterator[RedisLiveState]:
    """A second handle on ``store``'s Redis state whose pool holds one connection: what
    one command leaves on it, the next one meets."""
    assert isinstance(store, RedisLiveState)
    pool = redis.BlockingConnectionPool.from_url(REDIS_URL, max_connections=1,
                                                 decode_responses=True, timeout=1)
    handle = RedisLiveState(redis.Redis(connection_pool=pool), key_prefix=store.key_prefix)
    yield handle
    handle.close()


@pytest.mark.parametrize("make_store", ["redis"], indirect=True)
def test_a_question_left_unanswered_is_not_the_next_commands_answer(
        store: LiveState, one_connection_store: RedisLiveState,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A ranking that fails between asking and reading (its AED query raised) leaves the
    answer unread on the connection; handed out again, the connection would give it to
    the next command. It is closed instead, and the next listings get their own answers;
    an answer cannot be read once its block is left (its connection is back in the pool)."""
    on_duty_with_fix(store, volunteer_id=1, metres_east=0)
    on_duty_with_fix(store, volunteer_id=2, metres_east=2_000)
    near_1 = (LON - 0.01, LAT - 0.01, east(1_000), LAT + 0.01)
    near_2 = (east(1_500), LAT - 0.01, east(2_500), LAT + 0.01)
    closed: list[object] = []
    connection_class = one_connection_store._redis.connection_pool.connection_class
    disconnect = connection_class.disconnect

    def counting_disconnect(self: object, *args: object, **kwargs: object) -> None:
        closed.append(self)
        disconnect(self, *args, **kwargs)

    monkeypatch.setattr(connection_class, "disconnect", counting_disconnect)
    with pytest.raises(RuntimeError, match="AED query"), one_connection_store.ask_on_duty_fresh(
            now=at(1), city_code=CITY, bbox=near_1):
        raise RuntimeError("the AED query failed")
    # Whether the unread answer has arrived by now is a race; the close is not.
    assert len(closed) == 1
    assert [f.volunteer_id for f in one_connection_store.on_duty_fresh(
        now=at(1), city_code=CITY, bbox=near_2)] == [2]
    assert one_connection_store.is_on_duty(1)

    with one_connection_store.ask_on_duty_fresh(now=at(1), city_code=CITY,
                                                bbox=near_1) as answer:
        first = answer()
        assert answer() is first  # read once
    assert [f.volunteer_id for f in first] == [1]
    with pytest.raises(RuntimeError, match="inside its block"):
        answer()


@pytest.mark.parametrize("make_store", ["redis"], indirect=True)
def test_a_listing_after_redis_forgot_its_script(
        store: LiveState, one_connection_store: RedisLiveState) -> None:
    """A Redis that restarted answers NOSCRIPT: the script is loaded and the question asked
    again on the connection already held (a pool of one has no second), and the next
    listings run it. (A script text this Redis has never seen stands for the restart,
    which SCRIPT FLUSH would impose on everyone sharing the server.)"""
    on_duty_with_fix(store, volunteer_id=1)
    box = (LON - 0.01, LAT - 0.01, east(1_000), LAT + 0.01)
    unseen = f"\n-- {uuid.uuid4().hex}"
    handle = one_connection_store
    handle._fresh_near = handle._redis.register_script(handle._fresh_near.script + unseen)
    handle._fresh_in_box = handle._redis.register_script(handle._fresh_in_box.script + unseen)
    for _ in range(2):
        assert [f.volunteer_id for f in handle.on_duty_fresh(now=at(1), city_code=CITY,
                                                             bbox=box)] == [1]
        assert [f.volunteer_id for f in handle.on_duty_fresh(now=at(1))] == [1]


@pytest.mark.parametrize("make_store", ["redis"], indirect=True)
def test_a_listing_on_a_connection_redis_closed(store: LiveState,
                                                one_connection_store: RedisLiveState,
                                                raw_redis: redis.Redis) -> None:
    """Redis closed the pooled connection since its last use (a restart, an idle
    timeout): the listing goes out on a new connection, not answered with a 503."""
    on_duty_with_fix(store, volunteer_id=1)
    box = (LON - 0.01, LAT - 0.01, east(1_000), LAT + 0.01)
    own_id = one_connection_store._redis.client_id()  # the pool's one connection
    assert raw_redis.client_kill_filter(_id=own_id) == 1
    assert [f.volunteer_id for f in one_connection_store.on_duty_fresh(
        now=at(1), city_code=CITY, bbox=box)] == [1]


def test_changing_city_moves_the_volunteer_and_keeps_the_fix(store: LiveState) -> None:
    on_duty_with_fix(store)

    assert store.set_on_duty(VID, OTHER_CITY, now=at(5)) is False

    assert store.on_duty_fresh(now=at(5), city_code=CITY) == []
    [moved] = store.on_duty_fresh(now=at(5), city_code=OTHER_CITY)
    assert moved.city_code == OTHER_CITY and moved.received_at == at(0)
    assert store.get(VID, now=at(5)).on_duty_since == at(0)


def test_purge_drops_stale_fixes(store: LiveState) -> None:
    on_duty_with_fix(store, volunteer_id=1, received_s=0)
    on_duty_with_fix(store, volunteer_id=2, received_s=100)

    assert store.purge(now=at(150)) == 1

    assert store.get(1, now=at(0)).fix is None  # gone, even for an earlier clock
    assert store.get(1, now=at(0)).on_duty
    assert [f.volunteer_id for f in store.on_duty_fresh(now=at(150))] == [2]


def test_only_one_fix_is_stored_per_volunteer(store: LiveState) -> None:
    store.set_on_duty(VID, CITY, now=at(0))
    for second in range(5):
        store.record_fix(VID, fix(second * 10, recorded_s=second), received_at=at(second))
    store.record_fixes(VID, [fix(60, recorded_s=5), fix(70, recorded_s=6)],
                       received_at=at(6))

    if isinstance(store, MemoryLiveState):
        assert list(store._fixes) == [VID]
    else:
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            keys = sorted(client.scan_iter(match=store.key_prefix + "*"))
            types = {key.removeprefix(store.key_prefix): client.type(key) for key in keys}
            # Coordinates live in the one fix hash and, for the ranking's look-up, in the
            # geo set of the minute they were received in, which expires a freshness
            # window plus a minute later; the other indexes hold ids and times.
            geo = {key: kind for key, kind in types.items() if key.startswith("geo:")}
            assert {key: kind for key, kind in types.items() if key not in geo} == {
                f"duty:{VID}": "hash", f"fix:{VID}": "hash", "live": "zset",
                f"city:{CITY}": "zset", "cities": "set"}
            assert geo and set(geo.values()) == {"zset"}
            for key in geo:
                assert client.zrange(store.key_prefix + key, 0, -1) == [str(VID)]
                ttl = client.pttl(store.key_prefix + key)
                assert 0 < ttl <= store.policy.fresh_s * 1000 + 60_000
            assert live_lon(store, 6) == pytest.approx(east(70))
            store.set_off_duty(VID, now=at(7))     # and off duty removes it at once
            assert all(client.zrange(store.key_prefix + key, 0, -1) == [] for key in geo)
            return
            assert set(client.hgetall(f"{store.key_prefix}fix:{VID}")) == {
                "tok", "city", "lon", "lat", "acc", "rcv"}
        finally:
            client.close()
    assert live_lon(store, 6) == pytest.approx(east(70))


def test_two_workers_see_the_same_state(store: LiveState, make_store: StoreFactory) -> None:
    other = peer_of(store, make_store)
    on_duty_with_fix(store)

    assert [f.volunteer_id for f in other.on_duty_fresh(now=at(1))] == [VID]
    other.set_off_duty(VID, now=at(2))
    assert store.get(VID, now=at(2)).fix is None


def test_naive_datetimes_are_refused(store: LiveState) -> None:
    naive = datetime(2025, 6, 1, 8, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.set_on_duty(VID, CITY, now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.on_duty_fresh(now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        Fix(lon=LON, lat=LAT, accuracy_m=5, recorded_at=naive)


def test_other_time_zones_compare_as_instants(store: LiveState) -> None:
    beijing = timezone(timedelta(hours=8))
    store.set_on_duty(VID, CITY, now=at(0).astimezone(beijing))
    assert store.record_fix(VID, fix(), received_at=at(0).astimezone(beijing)).live

    [live] = store.on_duty_fresh(now=at(119))
    assert live.received_at == at(0)


# -- concurrency ------------------------------------------------------------------------


class _Clock:
    """A thread-safe fake clock: every reading is one millisecond after the previous."""

    def __init__(self) -> None:
        self._ticks = itertools.count()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return T0 + timedelta(milliseconds=next(self._ticks))


def test_racing_duty_toggles_and_fixes_never_leave_a_fix_behind(
        store: LiveState, make_store: StoreFactory) -> None:
    # Writers and the toggler use different handles: for Redis they are separate
    # connection pools, like separate API worker processes.
    writer_store = peer_of(store, make_store)
    clock = _Clock()
    stop = threading.Event()
    accepted = 0
    accepted_lock = threading.Lock()
    violations: list[str] = []
    rounds = 150

    def writer(offset_m: float) -> None:
        nonlocal accepted
        step = 0
        while not stop.is_set():
            step += 1
            received_at = clock.now()
            verdict = writer_store.record_fix(
                VID, Fix(lon=east(offset_m + step % 3), lat=LAT, accuracy_m=10.0,
                         recorded_at=received_at), received_at=received_at)
            if verdict.accepted:
                with accepted_lock:
                    accepted += 1
            time.sleep(0.0001)  # release the GIL so the toggler is not starved

    def toggler() -> None:
        try:
            for _ in range(rounds):
                store.set_on_duty(VID, CITY, now=clock.now())
                time.sleep(0.0005)  # let the writers in while on duty
                store.set_off_duty(VID, now=clock.now())
                # Only this thread changes duty, so nothing may appear until it goes back on;
                # the pause lets writes that were judged before the off-duty land.
                time.sleep(0.001)
                if fix_is_stored(store):
                    violations.append("a fix is stored after off duty")
                state = store.get(VID, now=clock.now())
                if state.on_duty or state.fix is not None:
                    violations.append(f"after off duty: {state}")
                if store.on_duty_fresh(now=clock.now()):
                    violations.append("listed after off duty")
        finally:
            stop.set()

    threads = [threading.Thread(target=writer, args=(i * 2.0,)) for i in range(4)]
    threads.append(threading.Thread(target=toggler))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    assert violations == []
    assert accepted > 0  # the race really happened: fixes were stored while on duty
    assert not store.is_on_duty(VID)
    assert store.get(VID, now=clock.now()).fix is None
    assert not fix_is_stored(store)


# -- Redis specifics --------------------------------------------------------------------


def test_redis_fix_key_expires_by_itself(redis_url: str, raw_redis: redis.Redis) -> None:
    store = RedisLiveState.from_url(redis_url, policy=LivePolicy(fresh_s=0.4),
                                    key_prefix=f"rc-test:{uuid.uuid4().hex}:")
    try:
        now = datetime.now(UTC)
        store.set_on_duty(VID, CITY, now=now)
        store.record_fix(VID, Fix(lon=LON, lat=LAT, accuracy_m=5, recorded_at=now),
                         received_at=now)
        fix_key = f"{store.key_prefix}fix:{VID}"
        assert 0 < raw_redis.pttl(fix_key) <= 400

        time.sleep(0.6)

        assert raw_redis.exists(fix_key) == 0  # deleted by Redis, no purge, no read needed
        assert raw_redis.exists(f"{store.key_prefix}duty:{VID}") == 1  # still on duty
        # Even a caller whose clock says the fix is fresh gets nothing back.
        assert store.get(VID, now=now).fix is None
        assert store.on_duty_fresh(now=now) == []
    finally:
        store.clear()
        store.close()


def test_redis_clear_only_touches_its_prefix(redis_url: str, raw_redis: redis.Redis) -> None:
    mine = RedisLiveState.from_url(redis_url, key_prefix=f"rc-test:{uuid.uuid4().hex}:")
    theirs = RedisLiveState.from_url(redis_url, key_prefix=f"rc-test:{uuid.uuid4().hex}:")
    try:
        mine.set_on_duty(1, CITY, now=T0)
        theirs.set_on_duty(1, CITY, now=T0)
        mine.clear()
        assert not mine.is_on_duty(1)
        assert theirs.is_on_duty(1)
    finally:
        theirs.clear()
        mine.close()
        theirs.close()


def test_redis_unreachable_is_live_state_unavailable() -> None:
    store = RedisLiveState.from_url("redis://127.0.0.1:1/0", timeout_s=0.2)
    try:
        with pytest.raises(LiveStateUnavailable):
            store.is_on_duty(VID)
        with pytest.raises(LiveStateUnavailable):
            store.record_fix(VID, fix(), received_at=T0)
    finally:
        store.close()


def test_redis_client_must_decode_responses() -> None:
    with pytest.raises(ValueError, match="decode_responses"):
        RedisLiveState(redis.Redis.from_url(REDIS_URL))


# -- pure rules and values --------------------------------------------------------------


def test_open_live_state_picks_the_store(redis_url: str) -> None:
    policy = LivePolicy(fresh_s=60)
    memory = open_live_state(None, policy=policy)
    shared = open_live_state(redis_url, policy=policy, key_prefix="rc-test:factory:")
    try:
        assert isinstance(memory, MemoryLiveState)
        assert isinstance(shared, RedisLiveState)
        assert shared.key_prefix == "rc-test:factory:" and shared.policy is policy
    finally:
        shared.close()


def test_speed_accounts_for_accuracy_and_minimum_interval() -> None:
    policy = LivePolicy()
    # 1 000 m with 2 x 50 m of uncertainty over 10 s: at least 90 m/s.
    assert speed_mps(LON, LAT, 50, east(1_000), LAT, 50, elapsed_s=10, policy=policy) == \
        pytest.approx(90, rel=0.01)
    # Received in the same instant: compared over one second, not divided by zero.
    assert speed_mps(LON, LAT, 5, east(60), LAT, 5, elapsed_s=0, policy=policy) == \
        pytest.approx(50, rel=0.01)
    # A huge radius is not believed, so it cannot excuse a jump.
    assert speed_mps(LON, LAT, 5, east(1_000), LAT, 10_000, elapsed_s=10, policy=policy) == \
        pytest.approx(99.5, rel=0.01)


def test_judge_fix_prefers_the_batch_reference() -> None:
    policy = LivePolicy()
    stored = LiveFix(volunteer_id=VID, city_code=CITY, lon=LON, lat=LAT, accuracy_m=5,
                     received_at=at(0))
    earlier_in_batch = fix(10_000, recorded_s=0)
    later = fix(10_100, recorded_s=10)

    assert judge_fix(later, received_at=at(10), policy=policy, previous=stored) == (
        FixReason.implausible_speed,)
    assert judge_fix(later, received_at=at(10), policy=policy, previous=stored,
                     previous_in_batch=earlier_in_batch) == ()


def test_plan_ignores_a_stale_stored_fix() -> None:
    stored = LiveFix(volunteer_id=VID, city_code=CITY, lon=LON, lat=LAT, accuracy_m=5,
                     received_at=at(0))

    plan = plan_fixes(VID, [fix(50_000, recorded_s=200)], received_at=at(200), city_code=CITY,
                      on_duty_since=at(0), stored=stored, policy=LivePolicy())

    assert plan.verdicts[0].live
    assert plan.live is not None and plan.live.received_at == at(200)


@pytest.mark.parametrize("field", ["fresh_s", "max_speed_mps", "max_accuracy_m",
                                   "max_clock_skew_s", "min_interval_s"])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf])
def test_policy_refuses_nonsense(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        LivePolicy(**{field: value})


@pytest.mark.parametrize(("lon", "lat"), [(181.0, 0.0), (0.0, -90.5), (math.nan, 0.0)])
def test_fix_refuses_coordinates_out_of_range(lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        Fix(lon=lon, lat=lat, accuracy_m=5, recorded_at=T0)
