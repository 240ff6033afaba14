"""SQLite's single write lock: writers of one process take turns at the write gate, and a
writer waits for another process's transaction instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from app.db import make_engine, make_sessionmaker, transaction
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
