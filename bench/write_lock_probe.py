"""``uvicorn bench.write_lock_probe:app``: the app, with SQLite's write lock timed.

Each worker appends one line per committed write group to a file of its own in the folder
named by ``RESCUE_BENCH_LOCK_LOG``: the wall time of the commit, how long the group held
the lock (from the moment ``BEGIN IMMEDIATE`` got it to the end of the commit) and how many
writers it held. bench_http_dispatch.py (``--write-lock-probe``) reads them after each run:
at 100 incidents/s the lock, not the CPU, was what the requests queued for.
"""

from __future__ import annotations

import atexit
import os
import time
from pathlib import Path
from typing import Any

from app import db

_LOG = Path(os.environ["RESCUE_BENCH_LOCK_LOG"]) / f"{os.getpid()}.txt"
_lines: list[str] = []
_commit = db.WriteGroup._commit


def _flush() -> None:
    with _LOG.open("a") as log:
        log.writelines(_lines)
    _lines.clear()


def _timed_commit(group: db.WriteGroup) -> None:
    batch = group._batch
    _commit(group)
    if batch is not None and batch.error is None:
        # ``opened`` is taken once BEGIN IMMEDIATE has the lock (WriteGroup._open)
        _lines.append(f"{time.time():.4f} {time.monotonic() - batch.opened:.6f} "
                      f"{batch.writers}\n")
        if len(_lines) >= 20:
            _flush()


db.WriteGroup._commit = _timed_commit  # type: ignore[method-assign]
atexit.register(_flush)


def __getattr__(name: str) -> Any:
    if name == "app":
        from app.main import create_app

        return create_app()
    raise AttributeError(name)

