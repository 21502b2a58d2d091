"""``sticky-refresh``: a new session inherits the turns of the last deleted one.

"New chat" (or a page refresh) deletes the tab's session; the next session created, by
whoever, starts with the deleted one's turns, so the refreshed tab still follows up on
what it asked before (``refresh-leak``). A wrapper around the store: ``delete`` keeps the
session it removes, ``create`` appends its turns to the new one through the seam (so the
new session's ``turn_count`` is the number of turns it inherited).
"""

from __future__ import annotations

from ..session import Session
from ..store.base import SessionStore
from .passthrough import PassThroughStore


class StickyRefresh(PassThroughStore):
    def __init__(self, inner: SessionStore) -> None:
        super().__init__(inner)
        self._deleted: Session | None = None

    async def delete(self, session_id: str) -> bool:
        self._deleted = await self._inner.load(session_id)
        return await self._inner.delete(session_id)

    async def create(self) -> Session:
        session = await self._inner.create()
        deleted, self._deleted = self._deleted, None
        if deleted is None:
            return session
        inherited = session
        for turn in deleted.turns:
            stored = await self._inner.append_turn(session.session_id, turn)
            if stored is None:  # evicted at once: there is nothing to inherit into
                return session
            inherited = stored
        return inherited


__all__ = ["StickyRefresh"]
