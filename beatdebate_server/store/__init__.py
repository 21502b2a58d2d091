"""Session stores: the ``SessionStore`` seam and the store the settings name.

``open_store(settings)`` answers a ``MemoryStore`` for ``store = "memory"`` and a
``RedisStore`` for a ``redis://`` URL; the Redis client is imported only then. Stores keep
the domain's records (``session.py``) and know nothing of the service or HTTP above them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..session import Clock
from .base import SessionChanged, SessionStore, StoreKind, StoreStats, StoreUnavailable
from .memory import MemoryStore

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["MemoryStore", "SessionChanged", "SessionStore", "StoreKind", "StoreStats", "StoreUnavailable",
           "open_store"]


def open_store(settings: Settings, *, clock: Clock = time.time) -> SessionStore:
    """The store named by ``settings.store`` (not yet started: the app's lifespan starts it)."""
    if settings.store_kind == "memory":
        return MemoryStore(ttl_seconds=settings.session_ttl, max_sessions=settings.max_sessions,
                           history_limit=settings.history_limit,
                           history_bytes=settings.history_bytes, clock=clock,
                           sweep_interval=settings.sweep_interval)
    from .redis import RedisStore  # lazily: only a Redis deployment needs the client

    store = RedisStore(settings.store, ttl_seconds=settings.session_ttl,
                       max_sessions=settings.max_sessions,
                       history_limit=settings.history_limit,
                       history_bytes=settings.history_bytes, clock=clock)
    return store
