"""The session store seam: what the server needs from any place that keeps sessions.

Terms:
- *session*: one conversation, named by an opaque server-minted id.
- *turn*: one answered ``POST /recommendations`` in a session, numbered from 1. A session
  keeps its last ``history_limit`` turns and a count of all of them (``turn_count``).
- *serialising turns*: two requests on one session at once must become two ordered
  turns, neither lost (contract, "Sessions"). ``SessionStore.turn_lock`` is the only
  way the server does that; the memory store uses an asyncio lock per session, the Redis
  store a lock that holds across processes.

Every implementation raises ``StoreUnavailable`` (and only that) when its backing
service cannot be reached; one exception handler maps it to ``503``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol

StoreKind = Literal["memory", "redis"]
Clock = Callable[[], float]  # wall-clock seconds since the epoch; injected so tests need not sleep


class StoreUnavailable(Exception):
    """The backing service of a store cannot be reached; nothing was written."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded turn. ``entities`` holds only non-empty keys (artists, genres, moods, activities)."""

    turn: int
    request_id: str
    query: str
    kind: str
    follow_up: str | None
    entities: Mapping[str, tuple[str, ...]]
    anchor_turn: int | None
    track_ids: tuple[str, ...]
    at: float
    source: Literal["primary", "fallback"] = "primary"


@dataclass(slots=True)
class Session:
    session_id: str
    created_at: float
    last_active_at: float
    turn_count: int = 0
    turns: list[Turn] = field(default_factory=list)  # the last ``history_limit`` turns, oldest first


def snapshot(session: Session) -> Session:
    """A copy of ``session`` that its holder may change without touching the original."""
    return Session(session_id=session.session_id, created_at=session.created_at,
                   last_active_at=session.last_active_at, turn_count=session.turn_count,
                   turns=list(session.turns))


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
        store does), so a caller that wants to change it takes a ``snapshot`` first.
        """

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        """Atomically append ``turn``, trim to ``history_limit``, bump ``turn_count`` and refresh idle time.

        Returns the updated session, or None if the session no longer exists.
        """

    async def save(self, session: Session) -> None:
        """Overwrite a whole session. Only the ``lost-update`` defect writes this way."""

    async def delete(self, session_id: str) -> bool:
        """Remove a session; True if it existed."""

    def turn_lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Serialise turns of one session: held from reading the session to recording the turn."""

    async def stats(self) -> StoreStats:
        """Counts for /health and /metrics."""
