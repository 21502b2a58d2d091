"""Virtual users: run a scenario's steps against a target and record every request as an ``Op``.

Terms:
- *virtual user*: one simulated person with one browser: one transport (own cookie jar),
  one persona, one seeded RNG. It runs scenario *iterations*; each iteration runs the
  steps ``scenario.conversations`` times, each time in a new conversation.
- *conversation*: the harness's name for one chat (``u3.c7``). A ``refresh`` step, and a
  query that carries a made-up or expired id, start a new one: the server must answer
  those with a fresh session, so one conversation should map to one server session.
- *carrying the session*: like the chat UI of the original design, a user sends the id
  the last answer returned (``session_id``), and none at the start of a conversation.
- *intended start* (open model): a request's ``invoked_at`` is when the schedule meant it
  to start (arrival, or the previous answer plus the think time), not when the harness got
  round to sending it, so that a stalled harness or server cannot hide (coordinated omission).

A bad answer never raises here: it becomes an ``Op`` with status ``fail`` or ``unknown``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from loadtest.history import Action, Anchor, Expect, Op, RecordedTurn, TrackSeen
from loadtest.personas import Persona
from loadtest.scenario import (
    CreateSessionStep, QueryStep, ReadHistoryStep, RefreshStep, Scenario, Step, ThinkStep,
)
from loadtest.transport import Reply, Transport, TransportError, TransportTimeout


class OpSink(Protocol):
    """Where users put their operations: the runner's history, checker and live stats."""

    def next_index(self) -> int: ...
    def complete(self, op: Op) -> None: ...


@dataclass
class UserSettings:
    run_tag: str                      # prefix of every X-Request-ID of the run
    started: float                    # time.monotonic() at the start of the run
    think_scale: float = 1.0          # multiplies every think time (0 = no thinking)
    max_recommendations: int = 10
    open_model: bool = False          # invoked_at is the intended start (see module doc)
    draining: Callable[[], bool] = field(default=lambda: False)  # past the deadline: skip thinking

    def now(self) -> float:
        return time.monotonic() - self.started


class _BadAnswer(ValueError):
    pass


class VirtualUser:
    def __init__(self, user: int, *, transport: Transport, persona: Persona, rng: random.Random,
                 sink: OpSink, settings: UserSettings) -> None:
        self.user = user
        self.persona = persona
        self._transport = transport
        self._rng = rng
        self._sink = sink
        self._settings = settings
        self._requests = 0
        self._conversations = 0
        self._conversation = ""
        self._session: str | None = None
        self._deleted: list[str] = []           # ids this user deleted: "expired" ids
        self._next_start: float | None = None   # open model: the intended start of the next request
        self._scenario: Scenario | None = None
        self._subject: Mapping[str, str] = {}

    # ---- running --------------------------------------------------------------------

    async def run_iteration(self, scenario: Scenario, *, arrival: float | None = None) -> None:
        """Run ``scenario`` once (``conversations`` times over). ``arrival`` is the intended
        start in the open model."""
        self._scenario = scenario
        self._subject = self.persona.subject(scenario.needs)
        if self._settings.open_model:
            self._next_start = arrival if arrival is not None else self._settings.now()
        for _ in range(scenario.conversations):
            self._new_conversation()
            for step in scenario.steps:
                await self._run_step(step)

    async def aclose(self) -> None:
        await self._transport.aclose()

    def _new_conversation(self) -> None:
        self._conversations += 1
        self._conversation = f"u{self.user}.c{self._conversations}"
        self._session = None

    async def _run_step(self, step: Step) -> None:
        if isinstance(step, QueryStep):
            await self._query(step)
        elif isinstance(step, ThinkStep):
            await self._think(step)
        elif isinstance(step, ReadHistoryStep):
            if self._session is not None:
                await self._call("read_history", step.name, self._read_history)
        elif isinstance(step, RefreshStep):
            await self._refresh(step.name)
        elif isinstance(step, CreateSessionStep):
            await self._call("create_session", step.name, self._create_session)

    async def _think(self, step: ThinkStep) -> None:
        if self._settings.draining():
            return
        seconds = self._rng.uniform(step.low, step.high) * self._settings.think_scale
        if self._settings.open_model and self._next_start is not None:
            self._next_start += seconds
            await asyncio.sleep(max(0.0, self._next_start - self._settings.now()))
        elif seconds > 0:
            await asyncio.sleep(seconds)

    async def _refresh(self, name: str) -> None:
        # A page reload / "New chat": the old session is deleted, a new conversation begins.
        if self._session is not None:
            await self._call("delete_session", name, self._delete_session)
        self._new_conversation()

    async def _query(self, step: QueryStep) -> None:
        assert self._scenario is not None
        if step.session == "made-up":
            self._new_conversation()
            self._session = str(uuid.uuid4())   # well-formed, never minted by the server
        elif step.session == "expired":
            expired = await self._expired_id(step.name)
            self._new_conversation()
            self._session = expired
        body: dict[str, Any] = {
            "query": step.query.format_map(self.persona.fields),
            "max_recommendations": step.max_recommendations or self._settings.max_recommendations,
            "include_previews": False,
        }
        if self._session is not None:
            body["session_id"] = self._session
        send = lambda rid: self._transport.recommend(body, request_id=rid)  # noqa: E731
        if step.concurrent == 1:
            await self._call("recommend", step.name, send, query=body["query"], expect=step.expect)
            return
        # A double submit: N copies at once on one session, each its own request id.
        await asyncio.gather(*(
            self._call("recommend", step.name, send, query=body["query"], expect=step.expect)
            for _ in range(step.concurrent)))

    async def _expired_id(self, step: str) -> str:
        """An id this user obtained and then deleted; minted on the spot when there is none."""
        if not self._deleted:
            self._new_conversation()
            await self._call("create_session", step, self._create_session)
            if self._session is not None:
                await self._call("delete_session", step, self._delete_session)
        return self._deleted[-1] if self._deleted else str(uuid.uuid4())

    # ---- one request as one operation -----------------------------------------------

    async def _call(self, action: Action, step: str, send: Callable[[str], Awaitable[Reply]], *,
                    query: str | None = None, expect: Expect = Expect()) -> None:
        assert self._scenario is not None
        self._requests += 1
        request_id = f"{self._settings.run_tag}-u{self.user}-{self._requests}"
        index = self._sink.next_index()
        now = self._settings.now()
        invoked = min(self._next_start, now) if self._settings.open_model and self._next_start is not None else now
        base: dict[str, Any] = dict(
            index=index, user=self.user, conversation=self._conversation, scenario=self._scenario.name,
            step=step, action=action, invoked_at=invoked, request_id=request_id,
            session_sent=self._session, query=query, subject=self._subject, expect=expect)
        try:
            reply = await send(request_id)
        except TransportTimeout as exc:
            op = Op(**base, status="unknown", completed_at=None, error=f"timeout: {exc}")
        except TransportError as exc:
            op = Op(**base, status="unknown", completed_at=None, error=f"connection: {exc}")
        except asyncio.CancelledError:
            # The run was stopped: the request may have taken effect; say so, then stop.
            self._sink.complete(Op(**base, status="unknown", completed_at=None, error="cancelled: run stopped"))
            raise
        else:
            op = self._judge(action, base, reply, completed=self._settings.now())
        if op.status == "ok":
            self._adopt(op)
        if self._settings.open_model:
            self._next_start = max(self._next_start or 0.0, op.completed_at or self._settings.now())
        self._sink.complete(op)

    def _adopt(self, op: Op) -> None:
        if op.action in ("recommend", "create_session"):
            self._session = op.session             # the UI adopts the id the answer returns
        elif op.action == "delete_session" and op.session_sent is not None:
            self._deleted.append(op.session_sent)
            self._session = None

    def _judge(self, action: Action, base: dict[str, Any], reply: Reply, *, completed: float) -> Op:
        if not 200 <= reply.status < 300:
            detail = reply.body.get("detail") if isinstance(reply.body, dict) else None
            return Op(**base, status="fail", completed_at=completed, http_status=reply.status,
                      error=f"HTTP {reply.status}" + (f": {str(detail)[:200]}" if detail else ""))
        try:
            fields = _PARSERS[action](reply.body)
        except (_BadAnswer, KeyError, TypeError, ValueError, AttributeError) as exc:
            # Answered 2xx, so it may well have taken effect: unknown, not fail.
            return Op(**base, status="unknown", completed_at=completed, http_status=reply.status,
                      error=f"malformed answer: {type(exc).__name__}: {exc}"[:300])
        if action == "delete_session":
            fields["session"] = base["session_sent"]
        return Op(**base, status="ok", completed_at=completed, http_status=reply.status, **fields)

    # ---- the four contract calls ----------------------------------------------------

    def _create_session(self, request_id: str) -> Awaitable[Reply]:
        return self._transport.create_session(request_id=request_id)

    def _read_history(self, request_id: str) -> Awaitable[Reply]:
        assert self._session is not None
        return self._transport.read_session(self._session, request_id=request_id)

    def _delete_session(self, request_id: str) -> Awaitable[Reply]:
        assert self._session is not None
        return self._transport.delete_session(self._session, request_id=request_id)


# ---- answers -> Op fields (raise on anything the contract does not allow) ---------------

def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _BadAnswer(f"{what} is not a string")
    return value


def _entities(raw: Any) -> dict[str, tuple[str, ...]]:
    if not raw:
        return {}
    return {str(key): tuple(str(v) for v in (values if isinstance(values, list) else [values]))
            for key, values in dict(raw).items()}


def parse_recommendation(body: Any) -> dict[str, Any]:
    """The ``Op`` fields of a ``POST /recommendations`` answer; raises on a malformed one."""
    intent = body.get("intent") or {}
    anchor_raw = (body.get("context") or {}).get("anchor")
    anchor = None
    if anchor_raw is not None:
        anchor = Anchor(turn=int(anchor_raw["turn"]), request_id=str(anchor_raw["request_id"]),
                        query=anchor_raw.get("query"), kind=anchor_raw.get("kind"),
                        entities=_entities(anchor_raw.get("entities")))
    tracks = tuple(TrackSeen(track_id=_str(t["track_id"], "track_id"), artist=_str(t["artist"], "artist"),
                             tags=tuple(str(tag) for tag in t.get("tags") or ()))
                   for t in body["recommendations"])
    return dict(session=_str(body["session_id"], "session_id"), turn=body.get("turn"),
                session_created=body.get("session_created"), kind=intent.get("kind"),
                follow_up=intent.get("follow_up"), entities=_entities(intent.get("entities")),
                anchor=anchor, tracks=tracks, source=body.get("source"), notice=body.get("notice"))


def _history(body: Any) -> dict[str, Any]:
    recorded = tuple(RecordedTurn(turn=int(t["turn"]), request_id=str(t["request_id"]), query=t.get("query"),
                                  anchor_turn=t.get("anchor_turn"),
                                  track_ids=tuple(str(i) for i in t.get("track_ids") or ()))
                     for t in body["turns"])
    return dict(session=_str(body["session_id"], "session_id"), turn_count=int(body["turn_count"]),
                recorded=recorded)


def _created(body: Any) -> dict[str, Any]:
    return dict(session=_str(body["session_id"], "session_id"))


_PARSERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "recommend": parse_recommendation,
    "read_history": _history,
    "create_session": _created,
    "delete_session": lambda body: {},
}

__all__ = ["OpSink", "UserSettings", "VirtualUser", "parse_recommendation"]
