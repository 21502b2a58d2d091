"""The turn: one ``POST /recommendations``, from query to recorded answer.

A turn runs under its session's ``turn_lock``: load the session, recommend on that
session's own turns, append the turn, answer. Two requests on one session at once thus
become two ordered turns, and the second sees the first (contract, "Sessions").

The primary recommender runs within ``primary_timeout``; when it fails or runs out of time
(for real, or through ``--fault-rate``/``--fault-latency``) the fallback answers and the
response says so in ``source`` and ``fallback_reason``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .defects import CachedAnswer, Defect
from .faults import FaultInjector
from .ids import hash_id
from .store.base import Clock, Session, SessionStore, StoreUnavailable, Turn, snapshot
from .views import anchor_view, find_turn, picks_view

if TYPE_CHECKING:
    from .metrics import Metrics
    from .recommender import Answer, Intent, Recommender

log = logging.getLogger("beatdebate.server")

INTENT_CACHE_SIZE = 4096
UNKNOWN_SESSION_NOTICE = ("That session is not held here (expired, deleted or never "
                          "created); a new session was started under a new id.")


@dataclass(frozen=True, slots=True)
class TurnRequest:
    query: str
    session_id: str | None
    limit: int
    include_previews: bool
    request_id: str


class TurnService:
    """Takes turns and opens sessions for one app; holds no session state of its own."""

    def __init__(self, *, store: SessionStore, recommender: Recommender, faults: FaultInjector,
                 defect: Defect, primary_timeout: float, metrics: Metrics | None = None,
                 clock: Clock = time.time) -> None:
        self._store = store
        self._recommender = recommender
        self._faults = faults
        self._defect = defect
        self._primary_timeout = primary_timeout
        self._metrics = metrics
        self._clock = clock
        # query text -> (Intent, the answer's ``intent`` object). ``understand`` is pure, and
        # most traffic repeats a few queries ("More tracks"), so this skips most parsing and
        # builds each ``intent`` view once. Bounded: oldest out first.
        self._intents: dict[str, tuple[Intent, dict[str, Any]]] = {}

    async def open_session(self) -> Session:
        session = await self._store.create()
        return await self._defect.after_create(self._store, session)

    async def delete_session(self, session_id: str) -> bool:
        await self._defect.before_delete(self._store, session_id)
        return await self._store.delete(session_id)

    async def take_turn(self, request: TurnRequest) -> dict[str, Any]:
        """Answer and record one turn; the contract's response body as plain data."""
        intent, intent_view = self._understand(request.query)
        session_id = await self._defect.route_session(self._store, request.session_id)
        if not self._defect.serialises_turns:
            return await self._unlocked_turn(request, intent, intent_view, session_id)
        if session_id is None:
            # Nobody else knows a session minted just now: no lock to take.
            session = await self.open_session()
            return await self._answer_and_record(request, intent, intent_view, session,
                                                 created=True, notice=None)
        # The loaded session may be the store's own object (``SessionStore.load``): it is
        # only read here, and only ``append_turn`` changes it, while this lock is held.
        async with self._store.turn_lock(session_id):
            loaded = await self._store.load(session_id)
            if loaded is None:
                session = await self.open_session()
                return await self._answer_and_record(request, intent, intent_view, session,
                                                     created=True,
                                                     notice=UNKNOWN_SESSION_NOTICE)
            return await self._answer_and_record(request, intent, intent_view, loaded,
                                                 created=False, notice=None)

    def _understand(self, query: str) -> tuple[Intent, dict[str, Any]]:
        understood = self._intents.get(query)
        if understood is None:
            intent = self._recommender.understand(query)
            # Shared by every answer to this query: encoded, never changed.
            view = {"kind": intent.kind, "follow_up": intent.follow_up,
                    "entities": intent.entities()}
            understood = (intent, view)
            if len(self._intents) >= INTENT_CACHE_SIZE:
                del self._intents[next(iter(self._intents))]
            self._intents[query] = understood
        return understood

    async def _unlocked_turn(self, request: TurnRequest, intent: Intent,
                             intent_view: dict[str, Any],
                             session_id: str | None) -> dict[str, Any]:
        # Only the ``lost-update`` defect comes here: no lock, and a stale SNAPSHOT written
        # back whole. A snapshot, not the store's live object: appending to that would
        # record both of two racing turns, and the defect would not lose one.
        loaded = None if session_id is None else await self._store.load(session_id)
        created = loaded is None
        session = snapshot(await self.open_session() if loaded is None else loaded)
        notice = UNKNOWN_SESSION_NOTICE if created and session_id is not None else None
        return await self._answer_and_record(request, intent, intent_view, session,
                                             created=created, notice=notice)

    async def _answer_and_record(self, request: TurnRequest, intent: Intent,
                                 intent_view: dict[str, Any], session: Session, *,
                                 created: bool, notice: str | None) -> dict[str, Any]:
        defect = self._defect
        cached = defect.cached_answer(request.query, intent.follow_up)
        anchor: Mapping[str, Any] | None
        if cached is None:
            answer, source, reason = await self._answer(intent, session.turns, request.limit)
            anchor_turn = find_turn(session.turns, answer.anchor_turn)
            anchor = None if anchor_turn is None else anchor_view(anchor_turn)
            if defect.caches_answers:
                defect.remember_answer(request.query, intent.follow_up,
                                       CachedAnswer(answer, anchor, source, reason))
        else:
            answer, anchor = cached.answer, cached.anchor
            source, reason = cached.source, cached.fallback_reason
        turn = Turn(turn=session.turn_count + 1, request_id=request.request_id,
                    query=request.query, kind=answer.kind, follow_up=answer.follow_up,
                    entities=_recorded_entities(answer), anchor_turn=answer.anchor_turn,
                    track_ids=tuple([pick.track.track_id for pick in answer.picks]),
                    at=self._clock(), source=source)  # type: ignore[arg-type]
        try:
            if defect.serialises_turns:
                stored = await self._store.append_turn(session.session_id, turn)
            else:
                stored = await defect.record(self._store, session, turn)
        except StoreUnavailable:
            if created:  # nobody has its id yet: leave no empty session behind
                with contextlib.suppress(StoreUnavailable):
                    await self._store.delete(session.session_id)
            raise
        if stored is None:  # evicted or expired while we answered: it is gone, say so
            log.warning("session vanished during a turn",
                        extra={"session": hash_id(session.session_id),
                               "request_id": request.request_id})
            notice = _join(notice, "This session ended while the answer was prepared; "
                                   "the turn was not recorded.")
        if self._metrics is not None:
            self._metrics.turn(intent.kind, reason)
        return {
            "session_id": session.session_id,
            "request_id": request.request_id,
            "turn": turn.turn,
            "session_created": created,
            "intent": intent_view,
            "context": {"anchor": anchor},
            "recommendations": picks_view(answer.picks,
                                          include_previews=request.include_previews),
            "source": source,
            "fallback_reason": reason,
            "notice": _join(notice, answer.notice),
        }

    async def _answer(self, intent: Intent, turns: Sequence[Turn],
                      limit: int) -> tuple[Answer, str, str | None]:
        """The primary's answer, or the fallback's with the reason the primary did not answer."""
        recommender = self._recommender
        try:
            if not self._faults.active:
                # Nothing awaits in here, so a timeout could not interrupt it anyway.
                return recommender.recommend(intent, turns, limit=limit), "primary", None
            async with asyncio.timeout(self._primary_timeout):
                await self._faults.before_primary()
                return recommender.recommend(intent, turns, limit=limit), "primary", None
        except TimeoutError:
            reason = "primary_timeout"
        except Exception:
            log.warning("primary recommender failed; answering from the fallback",
                        exc_info=True)
            reason = "primary_error"
        return recommender.fallback(intent, turns, limit=limit), "fallback", reason


def _recorded_entities(answer: Answer) -> dict[str, tuple[str, ...]]:
    """What a turn records as its subject: the answer's resolved entities, non-empty only."""
    return {key: tuple(values) for key, values in answer.entities.items() if values}


def _join(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"{first} {second}"
    return first or second
