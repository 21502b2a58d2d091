"""Deliberate defects (``beatdebate serve --defect NAME``): known ways to bleed context.

They exist so that the isolation checks can be shown to fail when the server is wrong.
Each defect is a ``Defect`` overriding one or two hooks that the turn service calls at
fixed points; ``Defect`` itself does nothing, so the clean path is the hooks' defaults.

- ``shared-session``: every request lands in one global session (the original front end's
  single ``session_id``): foreign request ids and anchors in everybody's history.
- ``lost-update``: a turn is read without the lock, awaited, and written back whole with
  ``save``: of two concurrent turns of one session one is lost, both get one number.
- ``unscoped-cache``: follow-up answers cached by their query text alone: the second
  session to ask "More tracks" gets the first one's page and anchor.
- ``sticky-refresh``: the next new session inherits the turns of the last deleted one,
  so a refreshed tab still follows up on what it asked before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .store.base import Session, SessionStore, Turn

if TYPE_CHECKING:
    from .recommender import Answer

# How long ``lost-update`` holds its stale copy: long enough for a double click to overlap.
LOST_UPDATE_PAUSE = 0.01


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    answer: Answer
    anchor: Mapping[str, Any] | None
    source: str
    fallback_reason: str | None


class Defect:
    """No defect: every hook leaves the clean path as it is."""

    name: str | None = None
    serialises_turns = True  # False: the service reads, answers and ``record``s unlocked
    caches_answers = False  # True: the service offers answers to ``remember_answer``

    async def route_session(self, store: SessionStore, requested: str | None) -> str | None:
        """The session id a request is recorded under (None: start a new session)."""
        return requested

    async def after_create(self, store: SessionStore, session: Session) -> Session:
        return session

    async def before_delete(self, store: SessionStore, session_id: str) -> None:
        return None

    def cached_answer(self, query: str, follow_up: str | None) -> CachedAnswer | None:
        return None

    def remember_answer(self, query: str, follow_up: str | None, cached: CachedAnswer) -> None:
        return None

    async def record(self, store: SessionStore, session: Session, turn: Turn) -> Session | None:
        """Write a turn when ``serialises_turns`` is False."""
        raise NotImplementedError


class SharedSession(Defect):
    name = "shared-session"

    def __init__(self) -> None:
        self._shared_id: str | None = None

    async def route_session(self, store: SessionStore, requested: str | None) -> str | None:
        if self._shared_id is None or await store.load(self._shared_id) is None:
            self._shared_id = (await store.create()).session_id
        return self._shared_id


class LostUpdate(Defect):
    name = "lost-update"
    serialises_turns = False

    async def record(self, store: SessionStore, session: Session, turn: Turn) -> Session | None:
        # ``session`` was read before the answer was computed; by now it may be stale.
        await asyncio.sleep(LOST_UPDATE_PAUSE)
        session.turns.append(turn)
        session.turn_count += 1
        await store.save(session)
        return session


class UnscopedCache(Defect):
    name = "unscoped-cache"
    caches_answers = True

    def __init__(self) -> None:
        self._answers: dict[str, CachedAnswer] = {}

    def cached_answer(self, query: str, follow_up: str | None) -> CachedAnswer | None:
        return self._answers.get(query.casefold()) if follow_up is not None else None

    def remember_answer(self, query: str, follow_up: str | None, cached: CachedAnswer) -> None:
        if follow_up is not None:
            self._answers.setdefault(query.casefold(), cached)


class StickyRefresh(Defect):
    name = "sticky-refresh"

    def __init__(self) -> None:
        self._deleted: Session | None = None

    async def before_delete(self, store: SessionStore, session_id: str) -> None:
        self._deleted = await store.load(session_id)

    async def after_create(self, store: SessionStore, session: Session) -> Session:
        deleted, self._deleted = self._deleted, None
        if deleted is None:
            return session
        inherited = Session(session_id=session.session_id, created_at=session.created_at,
                            last_active_at=session.last_active_at,
                            turn_count=deleted.turn_count, turns=list(deleted.turns))
        await store.save(inherited)
        return inherited


class UiGlobalSession(Defect):
    """The backend stays clean: the chat page shares one id (``beatdebate_server/ui``)."""

    name = "ui-global-session"


_DEFECTS: dict[str, type[Defect]] = {
    cls.name: cls for cls in (SharedSession, LostUpdate, UnscopedCache, StickyRefresh,
                              UiGlobalSession)
    if cls.name is not None
}


def make_defect(name: str | None) -> Defect:
    """The defect called ``name``, or the clean no-op ``Defect`` for None."""
    if name is None:
        return Defect()
    try:
        return _DEFECTS[name]()
    except KeyError:
        raise ValueError(f"unknown defect {name!r}; known: {', '.join(_DEFECTS)}") from None
