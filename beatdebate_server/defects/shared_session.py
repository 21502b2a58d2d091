"""``shared-session``: every turn lands in one global session, whatever id it carries.

The original front end's single ``session_id``: everybody's requests go into one session,
so every history lists other conversations' request ids, one id is answered to many
conversations, and a follow-up anchors on whoever asked last. A wrapper around the
service: the turn itself runs clean, only in the wrong session.
"""

from __future__ import annotations

from dataclasses import replace

from ..service.turn import SessionService, TurnOutcome, TurnRequest
from ..session import Session
from ..store.base import SessionStore


class SharedSession:
    """A ``SessionService`` that routes every turn to one session it keeps alive."""

    def __init__(self, service: SessionService, store: SessionStore) -> None:
        self._service = service
        self._store = store
        self._shared_id: str | None = None

    async def open_session(self) -> Session:
        return await self._service.open_session()

    async def delete_session(self, session_id: str) -> bool:
        return await self._service.delete_session(session_id)

    async def take_turn(self, request: TurnRequest) -> TurnOutcome:
        if self._shared_id is None or await self._store.load(self._shared_id) is None:
            self._shared_id = (await self._store.create()).session_id
        return await self._service.take_turn(replace(request, session_id=self._shared_id))


__all__ = ["SharedSession"]
