"""The session store seam: what the server needs from any place that keeps sessions.

Terms (the records themselves, ``Session`` and ``Turn``, live in ``session.py``):
- *serialising turns*: two requests on one session at once must become two ordered
  turns, neither lost (contract, "Sessions"). ``SessionStore.turn_lock`` is the only
  way the server does that; the memory store uses an asyncio lock per session, the Redis
  store a lock that holds across processes.

Every implementation raises ``StoreUnavailable`` (and only that) when its backing
service cannot be reached; one exception handler maps it to ``503``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from ..session import Session, Turn

StoreKind = Literal["memory", "redis"]


class StoreUnavailable(Exception):
    """The backing service of a store cannot be reached; nothing was written."""


class SessionChanged(StoreUnavailable):
    """``append_turn`` refused: another process recorded a turn of this session (or ended
    it) since this turn read it, so the turn was computed from a stale session. Nothing was
    written. The caller answers the turn again from a fresh ``load`` under ``turn_lock``
    (the turn service does, a bounded number of times); any other caller sees the 503 of a
    ``StoreUnavailable``. A store that reads under a lock held across processes for the
    whole turn (the memory store, in its one process) never raises it.
    """


@dataclass(frozen=True, slots=True)
class StoreStats:
    live: int
    created: int
    expired: int
    evicted: int


class SessionStore(Protocol):
    """Keeps sessions. All methods are safe to call concurrently from one event loop."""

    kind: StoreKind

    async def start(self) -> None:
        """Connect and start background work (a sweeper). Raise ``StoreUnavailable`` if unreachable."""

    async def close(self) -> None:
        """Stop background work and release connections."""

    async def ping(self) -> None:
        """Return if the store answers; raise ``StoreUnavailable`` otherwise."""

    async def create(self) -> Session:
        """Mint a fresh session id and store an empty session under it (evicting LRU past the cap)."""

    async def load(self, session_id: str) -> Session | None:
        """The live session, or None if unknown, expired, deleted or evicted. Does not refresh idle time.

        Read-only for the caller: a store may hand out the very object it keeps (the memory
        store does), so a caller that wants to change it takes a ``session.snapshot`` first.
        """

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        """Atomically append ``turn``, trim to ``history_limit``, bump ``turn_count`` and refresh idle time.

        Returns the updated session, or None if the session no longer exists. Under
        ``turn_lock`` it may raise ``SessionChanged`` (an optimistic store whose read was
        stale): answer the turn again.
        """

    async def delete(self, session_id: str) -> bool:
        """Remove a session; True if it existed."""

    def turn_lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Serialise turns of one session: held from reading the session to recording the turn."""

    async def stats(self) -> StoreStats:
        """Counts for /health and /metrics."""
