"""The turn: one ``POST /recommendations``, from query to recorded answer.

A turn runs under its session's ``turn_lock``: load the session, answer on that session's
own turns, append the turn. Two requests on one session at once thus become two ordered
turns, and the second sees the first (contract, "Sessions").

``TurnService`` is the production service and knows of no deliberate defect: a defect is a
wrapper around its store, its ``Answering`` or the service itself (``SessionService``),
composed when the app is built (``defects/``). What a turn returns is a record,
``TurnOutcome``; the HTTP layer renders it as the contract's JSON.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..ids import hash_id
from ..session import Clock, Session, Turn
from ..store.base import SessionChanged, SessionStore, StoreUnavailable
from .answers import Answering, Reply

if TYPE_CHECKING:
    from ..recommender import Answer, Intent, Recommender

log = logging.getLogger("beatdebate.server")

INTENT_CACHE_SIZE = 4096
# How many times a turn is answered when its store says the session changed under it
# (``SessionChanged``: an optimistic read another process overtook). The Redis store reads
# under its cross-process lock from the third attempt on, which cannot be overtaken, so
# the last attempt fails only as any store call may (a 503).
TURN_ATTEMPTS = 3
UNKNOWN_SESSION_NOTICE = ("That session is not held here (expired, deleted or never "
                          "created); a new session was started under a new id.")
VANISHED_NOTICE = ("This session ended while the answer was prepared; the turn was not "
                   "recorded.")


@dataclass(frozen=True, slots=True)
class TurnRequest:
    query: str
    session_id: str | None
    limit: int
    request_id: str
    client: str | None = None  # who asked, for ``admit_session`` (None: not limited)


# Asked before a turn starts a session for ``client``; raises to refuse (rate limits).
SessionAdmission = Callable[[str | None], None]


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """One answered turn: where it was recorded, what the query meant, and the reply.

    ``notice`` joins the service's own (a new session, a session that vanished) and the
    answer's (nothing to follow up on, candidates exhausted).
    """

    session_id: str
    request_id: str
    turn: int
    session_created: bool
    intent: Intent
    reply: Reply
    notice: str | None


class SessionService(Protocol):
    """What the routes ask of the service: open a session, take a turn, end a session."""

    async def open_session(self) -> Session: ...

    async def delete_session(self, session_id: str) -> bool: ...

    async def take_turn(self, request: TurnRequest) -> TurnOutcome: ...


class TurnMetrics(Protocol):
    def turn(self, kind: str, fallback_reason: str | None) -> None:
        """Count one recorded turn by intent kind, and a fallback answer by its reason."""
        ...


class TurnService:
    """Takes turns and opens sessions for one app; holds no session state of its own."""

    def __init__(self, *, store: SessionStore, recommender: Recommender, answers: Answering,
                 metrics: TurnMetrics | None = None, clock: Clock = time.time,
                 admit_session: SessionAdmission | None = None) -> None:
        self._store = store
        self._admit_session = admit_session
        self._recommender = recommender
        self._answers = answers
        self._metrics = metrics
        self._clock = clock
        # query text -> Intent. ``understand`` is pure, and most traffic repeats a few
        # queries ("More tracks"), so this skips most parsing. Bounded: oldest out first.
        self._intents: dict[str, Intent] = {}

    async def open_session(self) -> Session:
        return await self._store.create()

    async def delete_session(self, session_id: str) -> bool:
        return await self._store.delete(session_id)

    async def take_turn(self, request: TurnRequest) -> TurnOutcome:
        """Answer and record one turn."""
        intent = self._understand(request.query)
        session_id = request.session_id
        if session_id is None:
            # Nobody else knows a session minted just now: no lock to take.
            self._admit(request)
            session = await self.open_session()
            return await self._answer_and_record(request, intent, session, created=True,
                                                 notice=None)
        # A store may read optimistically (the Redis store answers from the copy this
        # worker last served) and refuse the append if another process recorded a turn
        # since: the turn is then answered again from the fresh session, so the second of
        # two concurrent turns still sees the first.
        for attempt in range(1, TURN_ATTEMPTS + 1):
            try:
                return await self._take_locked_turn(request, intent, session_id)
            except SessionChanged:
                if attempt == TURN_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _take_locked_turn(self, request: TurnRequest, intent: Intent,
                                session_id: str) -> TurnOutcome:
        # The loaded session may be the store's own object (``SessionStore.load``): it is
        # only read here, and only ``append_turn`` changes it, while this lock is held.
        async with self._store.turn_lock(session_id):
            loaded = await self._store.load(session_id)
            if loaded is None:
                self._admit(request)
                session = await self.open_session()
                return await self._answer_and_record(request, intent, session, created=True,
                                                     notice=UNKNOWN_SESSION_NOTICE)
            return await self._answer_and_record(request, intent, loaded, created=False,
                                                 notice=None)

    def _admit(self, request: TurnRequest) -> None:
        # A turn that starts a session spends that client's new-session allowance too:
        # otherwise a turn would be a way around the limit on new sessions (issue 16).
        if self._admit_session is not None:
            self._admit_session(request.client)

    def _understand(self, query: str) -> Intent:
        intent = self._intents.get(query)
        if intent is None:
            intent = self._recommender.understand(query)
            if len(self._intents) >= INTENT_CACHE_SIZE:
                del self._intents[next(iter(self._intents))]
            self._intents[query] = intent
        return intent

    async def _answer_and_record(self, request: TurnRequest, intent: Intent,
                                 session: Session, *, created: bool,
                                 notice: str | None) -> TurnOutcome:
        reply = await self._answers.answer(intent, session.turns, limit=request.limit)
        answer = reply.answer
        turn = Turn(turn=session.turn_count + 1, request_id=request.request_id,
                    query=request.query, kind=answer.kind, follow_up=answer.follow_up,
                    entities=_recorded_entities(answer), anchor_turn=answer.anchor_turn,
                    track_ids=tuple([pick.track.track_id for pick in answer.picks]),
                    at=self._clock(), source=reply.source)
        try:
            stored = await self._store.append_turn(session.session_id, turn)
        except StoreUnavailable:
            if created:  # nobody has its id yet: leave no empty session behind
                with contextlib.suppress(StoreUnavailable):
                    await self._store.delete(session.session_id)
            raise
        if stored is None:  # evicted or expired while we answered: it is gone, say so
            log.warning("session vanished during a turn",
                        extra={"session": hash_id(session.session_id),
                               "request_id": request.request_id})
            notice = _join(notice, VANISHED_NOTICE)
        if self._metrics is not None:
            self._metrics.turn(intent.kind, reply.fallback_reason)
        return TurnOutcome(session_id=session.session_id, request_id=request.request_id,
                           turn=turn.turn, session_created=created, intent=intent,
                           reply=reply, notice=_join(notice, answer.notice))


def _recorded_entities(answer: Answer) -> dict[str, tuple[str, ...]]:
    """What a turn records as its subject: the answer's resolved entities, non-empty only."""
    return {key: tuple(values) for key, values in answer.entities.items() if values}


def _join(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"{first} {second}"
    return first or second


__all__ = ["INTENT_CACHE_SIZE", "TURN_ATTEMPTS", "UNKNOWN_SESSION_NOTICE", "SessionAdmission", "SessionService",
           "TurnMetrics", "TurnOutcome", "TurnRequest", "TurnService"]
