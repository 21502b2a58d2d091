"""``PassThroughStore``: a ``SessionStore`` that hands every call to the store it wraps.

A store defect subclasses it and overrides only the calls it breaks.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from ..session import Session, Turn
from ..store.base import SessionStore, StoreKind, StoreStats


class PassThroughStore:
    """Every ``SessionStore`` call goes to ``inner`` unchanged."""

    def __init__(self, inner: SessionStore) -> None:
        self._inner = inner
        self.kind: StoreKind = inner.kind

    async def start(self) -> None:
        await self._inner.start()

    async def close(self) -> None:
        await self._inner.close()

    async def ping(self) -> None:
        await self._inner.ping()

    async def create(self) -> Session:
        return await self._inner.create()

    async def load(self, session_id: str) -> Session | None:
        return await self._inner.load(session_id)

    async def append_turn(self, session_id: str, turn: Turn) -> Session | None:
        return await self._inner.append_turn(session_id, turn)

    async def delete(self, session_id: str) -> bool:
        return await self._inner.delete(session_id)

    def turn_lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        return self._inner.turn_lock(session_id)

    async def stats(self) -> StoreStats:
        return await self._inner.stats()


__all__ = ["PassThroughStore"]
