"""SQLite's single write lock: writers of one process take turns at the write gate, and a
writer waits for another process's transaction instead of failing."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text

from app.db import make_engine, make_sessionmaker, run_unit, transaction, write_group
from app.migrate import upgrade_to_head


def _factories(tmp_path: Path, count: int):
    url = f"sqlite:///{tmp_path / 'writers.sqlite3'}"
    upgrade_to_head(url)
    # one engine per "process": each has its own write gate, like separate API workers
    return [make_sessionmaker(make_engine(url)) for _ in range(count)]


def _write_cursor(session, name: str) -> None:
    session.execute(text("INSERT INTO delivery_cursor (name, last_event_id) VALUES (:n, 1)"),
                    {"n": name})


def test_a_writer_waits_for_another_process(tmp_path):
    first, second = _factories(tmp_path, 2)
    holding = threading.Event()

    def hold_the_lock() -> None:
        with transaction(first) as session:
            _write_cursor(session, "first")
            holding.set()
            threading.Event().wait(0.3)  # a long write in the other process

    other = threading.Thread(target=hold_the_lock)
    other.start()
    assert holding.wait(10)
    with transaction(second) as session:
        # waits for the lock instead of failing, so it sees the first writer's row
        _write_cursor(session, "second")
        assert session.execute(text("SELECT name FROM delivery_cursor ORDER BY name")
                               ).scalars().all() == ["first", "second"]
    other.join(10)


def test_the_gate_opens_from_another_thread(tmp_path):
    """A request's session is opened in one thread-pool thread and closed in another."""
    factory, = _factories(tmp_path, 1)
    opened, entered, stay = transaction(factory), threading.Event(), threading.Event()

    def open_and_stay() -> None:  # alive to the end, so that no other thread takes its id
        opened.__enter__()
        entered.set()
        stay.wait(30)

    threading.Thread(target=open_and_stay, daemon=True).start()
    assert entered.wait(10)
    closer = threading.Thread(target=opened.__exit__, args=(None, None, None))
    closer.start()
    closer.join(10)
    finished = threading.Event()

    def write() -> None:
        with transaction(factory) as session:
            _write_cursor(session, "after")
        finished.set()

    threading.Thread(target=write, daemon=True).start()
    try:
        assert finished.wait(10), "the write gate stayed shut after its transaction ended"
    finally:
        stay.set()


def _wait_until(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _queue_behind_first(factory, writers: dict[str, object], *, join: bool = True):
    """Start a joining writer "first" that holds its turn until released, then queue the
    ``writers`` (name -> body) behind it; returns (release, threads, outcomes)."""
    first_in, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def run(name: str, body, joins: bool) -> None:
        try:
            with transaction(factory, join=joins) as session:
                body(session)
            outcomes[name] = "ok"
        except Exception as exc:  # reported to the test
            outcomes[name] = f"{type(exc).__name__}: {exc}"

    def first_body(session) -> None:
        _write_cursor(session, "first")
        first_in.set()
        release.wait(10)

    threads = [threading.Thread(target=run, args=("first", first_body, True))]
    threads[0].start()
    assert first_in.wait(10)
    group = write_group(factory.kw["bind"])
    for name, body in writers.items():
        threads.append(threading.Thread(target=run, args=(name, body, join)))
        threads[-1].start()
        _wait_until(lambda n=len(threads) - 1: group.waiting == n)  # queued in this order
    return release, threads, outcomes


def _stored(reader) -> list[str]:
    with transaction(reader, write=False) as session:
        return session.execute(text("SELECT name FROM delivery_cursor ORDER BY name")
                                ).scalars().all()


def test_queued_writers_share_one_commit_and_fail_alone(tmp_path):
    """Short writers queued behind one another in a process join one transaction (one
    BEGIN, one fsync), each in a savepoint: one that fails is rolled back alone, and each
    returns only once its work is committed (another "process" sees it)."""
    factory, reader = _factories(tmp_path, 2)
    commits = []
    event.listen(factory.kw["bind"], "commit", lambda connection: commits.append(1))
    seen: dict[str, bool] = {}

    def writes(name: str):
        def body(session) -> None:
            _write_cursor(session, name)
            if name == "fails":
                raise ValueError("this one fails")
        return body

    names = [f"w{n}" for n in range(6)] + ["fails"]
    release, threads, outcomes = _queue_behind_first(factory, {n: writes(n) for n in names})
    release.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    for name in ["first", *names[:-1]]:
        with transaction(reader, write=False) as session:
            seen[name] = session.execute(text(
                "SELECT count(*) FROM delivery_cursor WHERE name = :n"), {"n": name}).scalar() == 1

    assert outcomes == {"fails": "ValueError: this one fails",
                        **dict.fromkeys(["first", *names[:-1]], "ok")}
    assert all(seen.values())
    assert _stored(reader) == sorted(["first", *names[:-1]])
    assert len(commits) < len(names)  # one per writer without the grouping


def test_a_long_unit_does_not_hold_finished_writers(tmp_path):
    """A unit that may run long (join=False: a whole request) commits the open group
    before it starts, so the writers in it answer without waiting for its end."""
    factory, reader = _factories(tmp_path, 2)
    long_runs, long_may_end = threading.Event(), threading.Event()

    def long_body(session) -> None:
        _write_cursor(session, "long")
        long_runs.set()
        long_may_end.wait(10)

    release, threads, outcomes = _queue_behind_first(factory, {"long": long_body},
                                                     join=False)
    release.set()
    assert long_runs.wait(10)
    threads[0].join(10)  # "first" answered while the long unit still runs
    assert outcomes == {"first": "ok"} and _stored(reader) == ["first"]
    long_may_end.set()
    threads[1].join(10)
    assert outcomes["long"] == "ok" and _stored(reader) == ["first", "long"]


def test_a_writer_never_reports_work_sqlite_rolled_back(tmp_path):
    """Some errors make SQLite roll back the whole transaction (here INSERT OR ROLLBACK;
    disk full or I/O errors do it too): the writers before the failing one in the group
    lose their work, and must say so instead of answering success."""
    factory, reader = _factories(tmp_path, 2)
    with transaction(factory) as session:
        _write_cursor(session, "taken")

    def rolls_back(session) -> None:
        session.execute(text("INSERT OR ROLLBACK INTO delivery_cursor (name, last_event_id) "
                             "VALUES ('taken', 1)"))

    release, threads, outcomes = _queue_behind_first(factory, {"rolls_back": rolls_back})
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes["first"].startswith("OperationalError")
    assert outcomes["rolls_back"] != "ok"
    assert _stored(reader) == ["taken"]
    with transaction(factory) as session:  # the next writer starts afresh
        _write_cursor(session, "after")
    assert _stored(reader) == ["after", "taken"]


def test_a_writer_alone_in_its_group_needs_no_savepoint(tmp_path):
    """The first unit of a group has the transaction to itself: it takes no savepoint, and
    when it fails its own error is reported, nothing of it is stored, and the next writer
    begins a fresh transaction; the units that join a group still take one each."""
    factory, reader = _factories(tmp_path, 2)
    savepoints = []
    event.listen(factory.kw["bind"], "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: savepoints.append(statement)
                 if statement.startswith("SAVEPOINT") else None)
    with transaction(factory) as session:
        _write_cursor(session, "alone")
    assert savepoints == []

    def fails(session) -> None:
        _write_cursor(session, "fails")
        raise ValueError("this one fails")

    with pytest.raises(ValueError, match="this one fails"), transaction(factory) as session:
        fails(session)
    with transaction(factory) as session:
        _write_cursor(session, "after")
    assert _stored(reader) == ["after", "alone"] and savepoints == []

    release, threads, outcomes = _queue_behind_first(
        factory, {"joins": lambda session: _write_cursor(session, "joins")})
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes == {"first": "ok", "joins": "ok"}
    assert len(savepoints) == 1  # the joining unit's, not the first one's
    assert _stored(reader) == ["after", "alone", "first", "joins"]


async def _ticking_while(awaitable, ticks: list[float]):
    """Await ``awaitable`` while another coroutine of the same loop notes the time every
    millisecond: the ticks say whether the loop went on while it waited."""
    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(tick())
    try:
        return await awaitable
    finally:
        ticker.cancel()


def _hold_in_thread(factory, name: str):
    """A writer in a thread that holds its turn (and SQLite's write lock) until released;
    returns (holding, release, thread)."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction(factory) as session:
            _write_cursor(session, name)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    return release, thread


@pytest.mark.parametrize("holder", ["another process", "a thread of this process"])
def test_a_writer_in_the_event_loop_waits_without_holding_the_loop(tmp_path, holder):
    """An emergency call's write runs in the event loop (``run_unit``). While another
    process's writer, or a writer in a thread of its own process, holds the lock, it waits
    in pauses of the loop (the loop's other coroutines go on), then writes, and the row is
    committed (another connection sees it) when it returns."""
    factory, other_process, reader = _factories(tmp_path, 3)
    release, thread = _hold_in_thread(
        other_process if holder == "another process" else factory, "holder")
    threading.Timer(0.2, release.set).start()
    ticks: list[float] = []

    def work(session) -> list[str]:
        _write_cursor(session, "loop")
        return session.execute(text("SELECT name FROM delivery_cursor ORDER BY name")
                               ).scalars().all()

    started = time.monotonic()
    seen = asyncio.run(_ticking_while(run_unit(factory, work, write=True), ticks))
    waited = time.monotonic() - started
    thread.join(10)
    assert waited >= 0.15  # it waited for the holder ...
    assert len(ticks) >= 30  # ... while the loop went on (a blocked loop ticks once)
    assert seen == ["holder", "loop"] and _stored(reader) == ["holder", "loop"]


def test_a_failing_write_in_the_event_loop_leaves_nothing_and_frees_the_lock(tmp_path):
    factory, reader = _factories(tmp_path, 2)

    def fails(session) -> None:
        _write_cursor(session, "fails")
        raise ValueError("this one fails")

    with pytest.raises(ValueError, match="this one fails"):
        asyncio.run(run_unit(factory, fails, write=True))
    assert _stored(reader) == []
    # the turn and the lock are free again, for the loop and for threads alike
    asyncio.run(run_unit(factory, lambda session: _write_cursor(session, "loop"), write=True))
    with transaction(factory) as session:
        _write_cursor(session, "thread")
    assert _stored(reader) == ["loop", "thread"]


def test_a_write_in_the_event_loop_is_committed_when_it_returns(tmp_path):
    """Writers in threads queued behind one another leave their group open for the next;
    the loop's unit, waiting for its turn among them, may join such a group, and commits
    the group it wrote in before it returns (it never waits in the loop for a thread to)."""
    factory, reader = _factories(tmp_path, 2)
    release, threads, outcomes = _queue_behind_first(
        factory, {"queued": lambda session: _write_cursor(session, "queued")})
    threading.Timer(0.1, release.set).start()
    asyncio.run(run_unit(factory, lambda session: _write_cursor(session, "loop"), write=True))
    assert "loop" in _stored(reader)
    for thread in threads:
        thread.join(10)
    assert outcomes == {"first": "ok", "queued": "ok"}
    assert _stored(reader) == ["first", "loop", "queued"]


def test_a_cancelled_writer_in_the_event_loop_leaves_nothing_held(tmp_path):
    """A request whose client went away while its write waited for the turn: nothing of it
    is written, and the turn and the lock stay free for the writers after it."""
    factory, reader = _factories(tmp_path, 2)
    release, threads, outcomes = _queue_behind_first(factory, {})

    async def scenario() -> None:
        unit = asyncio.create_task(run_unit(
            factory, lambda session: _write_cursor(session, "cancelled"), write=True))
        await asyncio.sleep(0.05)  # it waits for the turn "first" holds
        assert not unit.done()
        unit.cancel()
        with pytest.raises(asyncio.CancelledError):
            await unit

    asyncio.run(scenario())
    release.set()
    threads[0].join(10)
    with transaction(factory) as session:  # the turn is free
        _write_cursor(session, "after")
    assert outcomes == {"first": "ok"} and _stored(reader) == ["after", "first"]
