"""SQLite's single write lock: writers of one process take turns at the write gate, and a
writer waits for another process's transaction instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import event, text

from app.db import make_engine, make_sessionmaker, transaction, write_group
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


def test_queued_writers_share_one_commit_and_fail_alone(tmp_path):
    """Writers queued behind one another in a process join one transaction (one BEGIN, one
    fsync), each in a savepoint: one that fails is rolled back alone, and each returns
    only once its work is committed (another "process" sees it)."""
    factory, reader = _factories(tmp_path, 2)
    commits = []
    event.listen(factory.kw["bind"], "commit", lambda connection: commits.append(1))
    first_in, release_first = threading.Event(), threading.Event()
    seen_after_return: dict[str, bool] = {}
    errors: list[str] = []

    def write(name: str) -> None:
        try:
            with transaction(factory) as session:
                _write_cursor(session, name)
                if name == "first":
                    first_in.set()
                    release_first.wait(10)
                if name == "fails":
                    raise ValueError("this one fails")
        except ValueError as exc:
            errors.append(str(exc))
            return
        with transaction(reader, write=False) as session:
            seen_after_return[name] = session.execute(text(
                "SELECT count(*) FROM delivery_cursor WHERE name = :n"), {"n": name}).scalar() == 1

    first = threading.Thread(target=write, args=("first",))
    first.start()
    assert first_in.wait(10)
    names = [f"w{n}" for n in range(6)] + ["fails"]
    queued = [threading.Thread(target=write, args=(name,)) for name in names]
    for thread in queued:
        thread.start()
    group = write_group(factory.kw["bind"])
    while group.waiting < len(names):  # all queued behind the first
        threading.Event().wait(0.01)
    release_first.set()
    for thread in [first, *queued]:
        thread.join(10)

    assert errors == ["this one fails"]
    assert seen_after_return == {name: True for name in ["first", *names] if name != "fails"}
    with transaction(reader, write=False) as session:
        stored = session.execute(text("SELECT name FROM delivery_cursor ORDER BY name")
                                 ).scalars().all()
    assert stored == sorted(["first", *names[:-1]])
    assert len(commits) < len(names)  # one per writer without the grouping
