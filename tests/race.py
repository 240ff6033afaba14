"""Run one unit of work in many threads at once and report how each ended, to check that
the database (not a read-then-write in Python) keeps an invariant under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db import make_sessionmaker, transaction
from app.errors import ProblemError


def race(engine: Engine, work: Callable[[Session, int], object], *, threads: int = 20
         ) -> list[str]:
    """Start ``work(session, n)`` in ``threads`` threads behind a barrier, each in its own
    transaction; returns "ok" or the problem code of each, sorted. Any other exception is
    reported as "error: ..." so that the caller's assertion shows it."""
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                work(session, n)
            result = "ok"
        except ProblemError as exc:
            result = exc.problem_code
        except Exception as exc:  # anything else breaks the invariant under test
            result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sorted(outcomes)
