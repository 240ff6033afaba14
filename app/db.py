"""Engine and session factories for SQLite + SpatiaLite (embedded default) and PostGIS."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

# pyproj must be loaded before mod_spatialite: both bring a PROJ library, and if SpatiaLite's
# is resolved first, importing pyproj later corrupts the heap (double free at exit).
import pyproj  # noqa: F401
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BEGIN_OPTION = "sqlite_begin"
# BEGIN IMMEDIATE that fails at once (WriteLockBusy) when another writer holds the lock.
_IMMEDIATE_OR_FAIL = "IMMEDIATE OR FAIL"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Longest pause between two tries for SQLite's write lock (see _begin_immediate).
_WRITE_LOCK_MAX_PAUSE_S = 0.001
T = TypeVar("T")


class WriteLockBusy(sqlite3.OperationalError):
    """Another connection holds SQLite's write lock (a try that does not wait)."""


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
    _write_groups[engine] = WriteGroup(engine)

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
        elif mode == _IMMEDIATE_OR_FAIL:
            _begin_immediate(connection.connection.driver_connection, wait=False)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _begin_immediate(dbapi_connection: sqlite3.Connection, *, wait: bool = True) -> None:
    """Take SQLite's write lock, waiting for another process's writer in short steps
    (``wait=False``: raise ``WriteLockBusy`` at once instead).

    SQLite's own busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so under
    a steady stream of short writes a waiter oversleeps many times over and a 5 ms write
    can wait a second (seen in an instrumented run at 50 incidents/s, two workers). Only one
    thread per process gets here at a time (its write group's turn), so the polling is cheap."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.0001
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                if not wait:
                    raise WriteLockBusy(str(exc)) from exc
                if time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, _WRITE_LOCK_MAX_PAUSE_S)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")


async def _polling(until: Callable[[], T | None], what: str) -> T:
    """Call ``until`` in short, growing pauses of the event loop until it returns
    something; SQLite's lock error after ``SQLITE_BUSY_TIMEOUT_S``."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.0001
    while (result := until()) is None:
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"database is locked ({what})")
        await asyncio.sleep(pause)
        pause = min(2 * pause, _WRITE_LOCK_MAX_PAUSE_S)
    return result


class WriteGroup:
    """Group commit for the writers of one process on one SQLite database.

    SQLite has a single write lock per file, and every commit waits for the disk (fsync,
    synchronous=FULL: an acknowledged incident is never lost). Under load, writers queue
    for the lock, and each held it for its own BEGIN, its statements and its own fsync.
    Here the writers of this process take turns on one shared transaction instead: each
    unit of work after the first runs in a savepoint of it (a failing one is rolled back
    alone; the first has the transaction to itself), and the transaction is committed
    when no other writer of this process is waiting for its turn (in a thread: one in the
    event loop polls for it and is not counted), or when the group is full or old. Every
    writer returns only after the commit that holds its work, so an acknowledged write is
    still on disk; the queue that built up behind one lock pays one BEGIN and one fsync.
    """

    MAX_WRITERS = 16  # a busy process hands the lock to the other processes this often
    MAX_OPEN_S = 0.010

    def __init__(self, engine: Engine) -> None:
        # BEGIN IMMEDIATE that waits for the lock (threads), or fails at once (the loop polls)
        self._waiting_bind = writer_bind(engine)
        self._failing_bind = engine.execution_options(
            **{SQLITE_BEGIN_OPTION: _IMMEDIATE_OR_FAIL})
        self._turn = threading.Lock()  # one unit of work at a time (the old write gate)
        self._state = threading.Lock()  # guards the fields below
        self._waiting = 0
        self._connection: Connection | None = None
        self._batch: _Batch | None = None

    @property
    def waiting(self) -> int:
        """Writers of this process waiting for their turn."""
        return self._waiting

    @contextmanager
    def unit(self, factory: sessionmaker[Session], *, join: bool) -> Iterator[Session]:
        """A session whose work is committed with the group's; rolled back alone if the
        block raises. With ``join=False`` an open group is committed first: a unit that may
        run long (a whole request, an HTTP call inside) must not hold finished writers
        waiting for its end; later units may still join its group. Entered and left in
        different threads is fine (a request's session is opened and closed in different
        thread-pool calls)."""
        with self._state:
            self._waiting += 1
        acquired = self._turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_S)
        with self._state:
            self._waiting -= 1
        if not acquired:
            raise sqlite3.OperationalError(
                "database is locked (waited for this process's writers)")
        try:
            if not join:
                self._commit()
            batch = self._open()
        except BaseException:
            self._turn.release()
            raise
        failure: BaseException | None = None
        try:
            try:
                with self._unit_in(batch, factory) as session:
                    yield session
            except BaseException as exc:
                failure = exc
            if self._closes(batch):
                self._commit()
        finally:
            self._turn.release()
        self._wait_for(batch)
        self._raise_if_lost(batch, failure)

    async def run(self, factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
        """Run ``work`` as a unit from the calling event loop; its group is committed before
        this returns.

        Written for the calls of an emergency, which run in the event loop instead of a
        worker thread: waiting for this process's turn and for SQLite's write lock are
        pauses of the loop (its other requests go on meanwhile), and the work itself runs
        in the loop, commit included, so none of the loop's other requests and fewer
        threads compete with it for the interpreter while it holds the lock. (A writer in
        a thread shares the interpreter with its worker's other threads and waits for it
        again after every SQLite call: it held the lock about twice its own CPU time. A
        commit in a thread, while the loop goes on, did the same.) The turn is polled, not
        waited for in line: handing it over in arrival order (tried) left it idle until the
        busy loop resumed the coroutine it was handed to, and writes queued behind it. So
        a stream of writers in threads can keep it waiting. It may join a group that
        writers in threads left open; the group is always committed at its end: waiting in
        the loop for later writers in threads would hold the loop."""
        await _polling(lambda: True if self._turn.acquire(blocking=False) else None,
                       "waited for this process's writers")
        try:
            batch = await _polling(self._try_open, "waited for other processes' writers")
        except BaseException:
            self._turn.release()
            raise
        failure: BaseException | None = None
        result: T | None = None
        try:
            try:
                with self._unit_in(batch, factory) as session:
                    result = work(session)
            except BaseException as exc:
                failure = exc
            self._commit()
        finally:
            self._turn.release()
        self._raise_if_lost(batch, failure)
        return result  # type: ignore[return-value]  # T, since work returned

    def _try_open(self) -> _Batch | None:
        try:
            return self._open(wait=False)
        except WriteLockBusy:
            return None

    @contextmanager
    def _unit_in(self, batch: _Batch, factory: sessionmaker[Session]) -> Iterator[Session]:
        """With the turn held and ``batch`` open: one unit's session in it. If the block
        raises, the unit is rolled back alone (the group, if it was the first), and the
        error raised again."""
        # The first unit of a group has the transaction to itself: if it fails, rolling
        # all of it back loses nobody else's work, so it needs no savepoint (two
        # statements fewer for a writer that finds no queue, the usual case).
        alone = batch.writers == 0
        session = factory(bind=self._connection, join_transaction_mode=(
            "rollback_only" if alone else "create_savepoint"))
        try:
            yield session
            session.commit()  # flushes (and releases the savepoint); the group commits
        except BaseException:
            try:
                session.rollback()
            except BaseException:
                # Some errors (disk full, I/O) make SQLite roll back the whole
                # transaction, the other writers' work with it: no savepoint is left.
                batch.lost = True
            if alone:
                self._abandon()  # nothing of anyone's is left in it
            else:
                batch.writers += 1
            raise
        finally:
            session.close()
        batch.writers += 1

    def _closes(self, batch: _Batch) -> bool:
        """Whether the group ends after this unit: nobody of this process waits to join
        it, or it is full, old, or lost."""
        if self._batch is not batch:  # abandoned
            return False
        with self._state:
            return (self._waiting == 0 or batch.writers >= self.MAX_WRITERS
                    or time.monotonic() - batch.opened > self.MAX_OPEN_S or batch.lost)

    @staticmethod
    def _raise_if_lost(batch: _Batch, failure: BaseException | None) -> None:
        """After the group's commit: the unit's own error, or the group's."""
        if batch.error is not None:  # this writer's work, if any, is not on disk
            raise sqlite3.OperationalError(
                f"the shared transaction of this process's writers failed: {batch.error}"
            ) from (failure or batch.error)
        if failure is not None:
            raise failure

    def _open(self, *, wait: bool = True) -> _Batch:
        # A group past its age is committed before the next unit joins it: the writers in
        # it wait for no unit that started after the limit (a long one, e.g. an import,
        # would hold them as long as it runs).
        if self._batch is not None and time.monotonic() - self._batch.opened > self.MAX_OPEN_S:
            self._commit()
        if self._connection is None:
            connection = (self._waiting_bind if wait else self._failing_bind).connect()
            try:
                connection.begin()  # BEGIN IMMEDIATE: takes (or waits for) the write lock
            except BaseException:
                connection.close()
                raise
            self._connection, self._batch = connection, _Batch(opened=time.monotonic())
        assert self._batch is not None
        return self._batch

    def _commit(self) -> None:
        """With the turn held: commit the open group and wake its writers."""
        self._end_group(keep=True)

    def _abandon(self) -> None:
        """With the turn held: end the open group, which holds no work (its only unit
        failed), and let the next unit begin afresh."""
        self._end_group(keep=False)

    def _end_group(self, *, keep: bool) -> None:
        connection, batch = self._connection, self._batch
        if connection is None or batch is None:
            return
        self._connection = self._batch = None
        try:
            if not keep:
                connection.rollback()
                return
            if batch.lost or not connection.connection.driver_connection.in_transaction:
                # Rolled back under us: committing would report nothing and save nothing.
                raise sqlite3.OperationalError("SQLite rolled back the whole transaction")
            connection.commit()
        except BaseException as exc:
            batch.error = exc
            connection.rollback()
        finally:
            connection.close()
            batch.committed.set()

    def _wait_for(self, batch: _Batch) -> None:
        # The writer counted as waiting may have given up (its wait for the turn timed
        # out): then nobody would commit this group. A writer that finds the turn free and
        # its group still open commits it itself.
        deadline = time.monotonic() + 2 * SQLITE_BUSY_TIMEOUT_S
        while not batch.committed.wait(0.05):
            if time.monotonic() > deadline:  # a unit holds the turn and never ends
                raise sqlite3.OperationalError(
                    "database is locked (this write is not committed yet, and may be later)")
            if self._turn.acquire(blocking=False):
                try:
                    if self._batch is batch:
                        self._commit()
                finally:
                    self._turn.release()


@dataclass
class _Batch:
    opened: float
    writers: int = 0
    lost: bool = False  # SQLite rolled the whole transaction back
    committed: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


# Per SQLite engine: the group its writers in this process share.
_write_groups: weakref.WeakKeyDictionary[Engine, WriteGroup] = weakref.WeakKeyDictionary()


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


def write_group(engine: Engine) -> WriteGroup | None:
    """The write group of a SQLite engine in this process; None on PostgreSQL, whose
    writers do not share one lock."""
    return _write_groups.get(engine)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True, join: bool = False
                ) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on error. On SQLite, units that
    write go through their process's write group (``WriteGroup``); ``join=True`` for a
    short unit that may share the commit of the writers before it."""
    engine = factory.kw["bind"]
    group = write_group(engine) if write else None
    if group is not None:
        with group.unit(factory, join=join) as session:
            yield session
        return
    with factory(bind=writer_bind(engine) if write else engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def run_unit(factory: sessionmaker[Session], work: Callable[[Session], T], *,
                   write: bool) -> T:
    """``work`` as one unit of work (``transaction``), for a coroutine.

    On SQLite it runs in the calling event loop itself: a statement there is a call into
    the library, not a round trip, and a writer that keeps the interpreter to itself holds
    the write lock only as long as its own work (``WriteGroup.run``). On PostgreSQL every
    statement is a round trip, which the loop must not sit through: a worker thread."""
    engine = factory.kw["bind"]
    if not is_sqlite(engine):
        return await anyio.to_thread.run_sync(_run_in_transaction, factory, work, write)
    group = write_group(engine) if write else None
    if group is not None:
        return await group.run(factory, work)
    return _run_in_transaction(factory, work, write)


def _run_in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T],
                        write: bool) -> T:
    with transaction(factory, write=write) as session:
        return work(session)


def dialect_insert(dialect: str, table: Any) -> Any:
    """``INSERT`` for ``table`` in a dialect (``"sqlite"`` or ``"postgresql"``), so that
    ``ON CONFLICT`` clauses (which SQLAlchemy builds per dialect) can be added."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
