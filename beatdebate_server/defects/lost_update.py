"""``lost-update``: turns are answered from an unlocked read, and a turn that finds its
number taken when it is written is dropped, though its client was answered.

Without the turn lock, two requests on one session read the same state: both get the
same turn number and the same page. Each write checks its number against the store, and
the one that finds it taken drops its turn without a word (an optimistic write whose
conflict is ignored): an acknowledged turn is never recorded. That is context *loss*
(``missing-turn``, ``duplicate-turn``), never bleeding: no session sees another's turns.

A wrapper around the store, through the ``SessionStore`` seam alone, so that it works on
any store and across worker processes (the write's check runs under the store's own lock).
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager

from ..session import Session, Turn, snapshot
from .passthrough import PassThroughStore

# How long a turn holds its stale read before writing: long enough for a double click to overlap.
LOST_UPDATE_PAUSE = 0.01


class LostUpdate(PassThroughStore):
    """No turn lock for the service; stale reads; a conflicting write is dropped."""

    def turn_lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def load(self, session_id: str) -> Session | None:
        loaded = await self._inner.load(session_id)
        # A copy: the memory store hands out its own object, which a racing turn would
        # change under this one; the defect's read must stay as stale as it was.
        return None if loaded is None else snapshot(loaded)

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        await asyncio.sleep(LOST_UPDATE_PAUSE)
        async with self._inner.turn_lock(session_id):
            current = await self._inner.load(session_id)
            if current is None:
                return None
            if current.turn_count >= turn.turn:
                return current  # another turn took this number meanwhile: this one is lost
            return await self._inner.append_turn(session_id, turn)


__all__ = ["LOST_UPDATE_PAUSE", "LostUpdate"]
