"""The in-process session store: one dict, one event loop, one worker.

Terms:
- *idle TTL*: a session not written for ``ttl_seconds`` is expired. ``load`` of an
  expired session removes it and answers None; a background *sweeper* removes the rest.
- *eviction*: past ``max_sessions`` live sessions, the oldest session that never took a
  turn is dropped, or if every session took one, the least recently active (issue 16: a
  flood of new sessions must not evict people using theirs). Sessions sit in an
  ``OrderedDict`` in order of last activity (every write moves one to the end) and those
  without a turn also in ``_fresh``, in creation order, so the oldest-first sweep and both
  kinds of eviction are O(1) per session.
- *byte budget*: each session's kept turns fit ``history_bytes`` as well as
  ``history_limit`` (``session.trim_history``); the store keeps each session's weight, so
  a turn costs one weight, not a sum over the history.
- *live object*: ``create``, ``load`` and ``append_turn`` return the stored ``Session``
  itself, not a copy: copying the turn list twice per turn was a measurable share of the
  hot path. Callers treat it as read-only (the ``SessionStore`` contract); only
  ``append_turn`` changes it, and the turn service calls that while it holds the session's
  turn lock, so a turn never sees its session change under it.
- *turn lock*: an ``asyncio.Lock`` per session, created when a turn wants it and dropped
  when nobody holds or waits for it, so idle sessions cost no lock (memory target: a few KB
  per session with two turns).

Only correct with one worker process: a second process would hold other sessions
(``serve`` refuses ``--workers`` > 1 with this store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from types import TracebackType

from ..ids import hash_id, mint_session_id
from ..session import Clock, Session, Turn, trim_history, turn_weight
from .base import StoreKind, StoreStats

log = logging.getLogger("beatdebate.store")


class _TurnLock:
    """The async context manager ``MemoryStore.turn_lock`` returns (one per use)."""

    __slots__ = ("_locks", "_session_id", "_entry")

    def __init__(self, locks: dict[str, list[object]], session_id: str) -> None:
        self._locks = locks
        self._session_id = session_id

    async def __aenter__(self) -> None:
        # entry = [lock, users]: users counts holders and waiters, so the lock can be
        # dropped exactly when the last of them leaves.
        entry = self._locks.get(self._session_id)
        if entry is None:
            entry = [asyncio.Lock(), 0]
            self._locks[self._session_id] = entry
        entry[1] += 1  # type: ignore[operator]
        self._entry = entry
        try:
            await entry[0].acquire()  # type: ignore[attr-defined]
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._entry[0].release()  # type: ignore[attr-defined]
        self._leave()

    def _leave(self) -> None:
        entry = self._entry
        entry[1] -= 1  # type: ignore[operator]
        if entry[1] == 0 and self._locks.get(self._session_id) is entry:
            del self._locks[self._session_id]


class MemoryStore:
    """A ``SessionStore`` in this process's memory."""

    kind: StoreKind = "memory"

    def __init__(self, *, ttl_seconds: float, max_sessions: int, history_limit: int,
                 history_bytes: int | None = None, clock: Clock = time.time,
                 sweep_interval: float = 30.0) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_sessions = max_sessions
        self.history_limit = history_limit
        self.history_bytes = history_bytes if history_bytes is not None else 1 << 62
        self.sweep_interval = sweep_interval
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        # Sessions that never took a turn, oldest first (a dict keeps insertion order).
        self._fresh: dict[str, None] = {}
        self._weights: dict[str, int] = {}  # session id -> weight of its kept turns
        self._locks: dict[str, list[object]] = {}
        self._created = 0
        self._expired = 0
        self._evicted = 0
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(),
                                                name="beatdebate-memory-sweeper")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def ping(self) -> None:
        return None

    # -- sessions ------------------------------------------------------------------------

    async def create(self) -> Session:
        now = self._clock()
        session_id = mint_session_id()
        session = Session(session_id=session_id, created_at=now, last_active_at=now)
        self._sessions[session_id] = session
        self._fresh[session_id] = None
        self._created += 1
        log.info("session created", extra={"session": hash_id(session_id)})
        while len(self._sessions) > self.max_sessions:
            self._evict_one(keep=session_id)
        return session

    async def load(self, session_id: str) -> Session | None:
        session = self._live(session_id)
        return session

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        session = self._live(session_id)
        if session is None:
            return None
        turns = session.turns
        turns.append(turn)
        weight = self._weights.get(session_id, 0) + turn_weight(turn)
        if len(turns) > self.history_limit or weight > self.history_bytes:
            weight = trim_history(turns, weight, limit=self.history_limit,
                                  budget=self.history_bytes)
        self._weights[session_id] = weight
        if session.turn_count == 0:
            self._fresh.pop(session_id, None)
        session.turn_count += 1
        session.last_active_at = self._clock()
        self._sessions.move_to_end(session_id)
        return session

    async def delete(self, session_id: str) -> bool:
        if self._live(session_id) is None:
            return False
        self._forget(session_id)
        log.info("session deleted", extra={"session": hash_id(session_id)})
        return True

    def turn_lock(self, session_id: str) -> _TurnLock:
        return _TurnLock(self._locks, session_id)

    async def stats(self) -> StoreStats:
        return StoreStats(live=len(self._sessions), created=self._created,
                          expired=self._expired, evicted=self._evicted)

    # -- expiry ----------------------------------------------------------------------------

    def sweep(self) -> int:
        """Remove every expired session now; return how many. The sweeper calls this."""
        deadline = self._clock() - self.ttl_seconds
        removed = 0
        # Oldest activity first (writes move a session to the end), so stop at the first
        # live one; ``load`` checks each session's own idle time as well.
        while self._sessions:
            session_id, session = next(iter(self._sessions.items()))
            if session.last_active_at > deadline:
                break
            self._expire(session_id)
            removed += 1
        return removed

    def _live(self, session_id: str) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.last_active_at <= self._clock() - self.ttl_seconds:
            self._expire(session_id)
            return None
        return session

    def _expire(self, session_id: str) -> None:
        self._forget(session_id)
        self._expired += 1
        log.info("session expired", extra={"session": hash_id(session_id)})

    def _forget(self, session_id: str) -> None:
        del self._sessions[session_id]
        self._fresh.pop(session_id, None)
        self._weights.pop(session_id, None)

    def _evict_one(self, *, keep: str) -> None:
        """Evict the oldest session that never took a turn (other than ``keep``, the one
        just created), else the least recently active one."""
        victim = next((sid for sid in self._fresh if sid != keep), None)
        if victim is None:
            victim = next(iter(self._sessions))
        self._forget(victim)
        self._evicted += 1
        log.info("session evicted", extra={"session": hash_id(victim), "reason": "max_sessions"})

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                self.sweep()
            except Exception:  # the sweeper must outlive one bad pass
                log.exception("session sweep failed")

