"""Live responder state: who is on duty, and where, for as long as the fix is fresh.

Import the values and the interface from :mod:`app.live.state`; build a store with
:func:`open_live_state` (in-process without a URL, Redis with one).  No FastAPI or ORM here:
services call it, routers never do.
"""

from __future__ import annotations

from app.live.state import LivePolicy, LiveState

__all__ = ["open_live_state"]


def open_live_state(redis_url: str | None, *, policy: LivePolicy,
                    key_prefix: str | None = None) -> LiveState:
    """The live state store for a deployment.

    Parameters
    ----------
    redis_url
        ``RESCUE_REDIS_URL``; ``None`` or empty selects the in-process store, which is only
        correct with a single API worker process.
    policy
        Thresholds from settings.
    key_prefix
        Redis key prefix (ignored in-process); defaults to
        :data:`app.live.redis_store.DEFAULT_KEY_PREFIX`.

    Returns
    -------
    LiveState
        Call ``close()`` on shutdown.
    """
    if not redis_url:
        from app.live.memory import MemoryLiveState

        return MemoryLiveState(policy=policy)
    # Imported here so the embedded default does not need the redis package at all.
    from app.live.redis_store import DEFAULT_KEY_PREFIX, RedisLiveState

    return RedisLiveState.from_url(redis_url, policy=policy,
                                   key_prefix=key_prefix or DEFAULT_KEY_PREFIX)
