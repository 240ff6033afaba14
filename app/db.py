"""Engine and session factories for SQLite + SpatiaLite (embedded default) and PostGIS."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

# pyproj must be loaded before mod_spatialite: both bring a PROJ library, and if SpatiaLite's
# is resolved first, importing pyproj later corrupts the heap (double free at exit).
import pyproj  # noqa: F401
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BEGIN_OPTION = "sqlite_begin"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Longest pause between two tries for SQLite's write lock (see _begin_immediate).
_WRITE_LOCK_MAX_PAUSE_S = 0.001


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(database_url: str, *, spatialite_library: str = "mod_spatialite") -> Engine:
    """Create an engine; on SQLite every connection loads SpatiaLite and enforces foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    # More connections than the 40 worker threads that run sync routes: a request holds its
    # connection until its session closes in another thread-pool call, so a smaller pool
    # can deadlock under load (every thread waiting for a connection, every connection
    # waiting for a thread).
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=50)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite connections are cheap to keep but cost ~4 ms to open (SpatiaLite loads per
    # connection): keep one per worker thread instead of opening overflow ones under load.
    pool = {"pool_size": 40, "max_overflow": 20} if url.database not in (None, "", ":memory:") \
        else {}
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S,
                                              "check_same_thread": False}, **pool)
    _write_gates[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the stdlib driver (SQLAlchemy's documented
        # recipe): its implicit BEGIN breaks SAVEPOINT and lets two writers both pass a check.
        dbapi_connection.isolation_level = None
        dbapi_connection.enable_load_extension(True)
        dbapi_connection.load_extension(spatialite_library)
        dbapi_connection.enable_load_extension(False)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode == "IMMEDIATE":
            _begin_immediate(connection.connection.driver_connection)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """Take SQLite's write lock, waiting for another process's writer in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so under
    a steady stream of short writes a waiter oversleeps many times over and a 5 ms write
    can wait a second (seen in an instrumented run at 50 incidents/s, two workers). Only one
    thread per process gets here at a time (the write gate), so the polling is cheap."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.0001
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, _WRITE_LOCK_MAX_PAUSE_S)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")


# Per SQLite engine: the writers of this process wait here, in turn, for the database's
# single write lock, instead of all polling it (the lock is per file, the gate per process).
# A plain lock, not an RLock: a request's session is opened and closed in different threads.
_write_gates: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def write_gate(engine: Engine) -> Iterator[None]:
    """Held while a transaction that writes is open on a SQLite engine. Waits at most as
    long as SQLite would for its lock, and fails the same way."""
    gate = _write_gates.get(engine)
    if gate is None:
        yield
        return
    if not gate.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
        raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
    try:
        yield
    finally:
        gate.release()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def writer_bind(engine: Engine) -> Engine:
    """The engine to use for a transaction that will write.

    On SQLite the write lock is taken at BEGIN, so two transactions that read-then-write
    (e.g. "is this volunteer free?") are serialised instead of both passing the check.
    """
    if is_sqlite(engine):
        return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return engine


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work outside a request (CLI, jobs): commit on success, roll back on error."""
    engine = factory.kw["bind"]
    with write_gate(engine) if write else nullcontext(), \
            factory(bind=writer_bind(engine) if write else engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dialect_insert(dialect: str, table: Any) -> Any:
    """``INSERT`` for ``table`` in a dialect (``"sqlite"`` or ``"postgresql"``), so that
    ``ON CONFLICT`` clauses (which SQLAlchemy builds per dialect) can be added."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
