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

A bad answer never raises here: it becomes an ``Op`` with status ``fail`` or ``unknown``, and
the run goes on. A conversation stops at its first failed or unanswered request (what would
follow tests a conversation that no longer is what the scenario describes); how far each one
got is counted in ``UserSettings.coverage`` (``loadtest.coverage``): completed, failed, or cut
by the run's end, with its planned follow-ups answered ok.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from loadtest import exchange
from loadtest.canary import CANARY_PLACEHOLDER, make_canary, uses_canary
from loadtest.coverage import ConversationOutcome, CoverageTally
from loadtest.exchange import CONTRACT, Chat, Exchange, Request
from loadtest.history import Expect, Op
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
    coverage: CoverageTally = field(default_factory=CoverageTally)   # how far conversations got

    def now(self) -> float:
        return time.monotonic() - self.started


class VirtualUser:
    """One simulated person (module doc). ``exchange`` says how to talk to the target: the
    contract's native path by default, or a target profile's (``loadtest.profiles``), whose
    ``transport`` must then be one that exchange sends through."""

    def __init__(self, user: int, *, transport: Transport | Any, persona: Persona, rng: random.Random,
                 sink: OpSink, settings: UserSettings, exchange: Exchange = CONTRACT) -> None:
        self.user = user
        self.persona = persona
        self._transport = transport
        self._exchange = exchange
        self._rng = rng
        self._sink = sink
        self._settings = settings
        self._requests = 0
        self._chat = Chat(user)                 # conversation name, carried id, deleted ids
        self._failed = False                    # a request of the current conversation did not succeed
        self._checked = 0                       # planned follow-ups of the current conversation answered ok
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
            self._failed = False
            self._checked = 0
            # Cut unless it gets to the end: a cancellation (the run's end) leaves it so.
            outcome: ConversationOutcome = "cut"
            try:
                for step in scenario.steps:
                    await self._run_step(step)
                    if self._failed:
                        # A request of this conversation failed or went unanswered: the steps after it
                        # would test a conversation that no longer is what the scenario describes (no
                        # session, or one in an unknown state), so judging them would only find noise.
                        break
                outcome = "failed" if self._failed else "completed"
            finally:
                self._settings.coverage.record(scenario, outcome, checked=self._checked)

    async def aclose(self) -> None:
        await self._transport.aclose()

    def _new_conversation(self, session: str | None = None) -> None:
        # A service whose ids the client makes gets a fresh one per conversation.
        self._chat.new_conversation(session if session is not None else self._exchange.new_session_id())

    async def _run_step(self, step: Step) -> None:
        if isinstance(step, QueryStep):
            await self._query(step)
        elif isinstance(step, ThinkStep):
            await self._think(step)
        elif isinstance(step, ReadHistoryStep):
            session = self._chat.session
            if session is not None:
                await self._call(step.name, lambda rid: self._exchange.read_history(session, rid=rid))
        elif isinstance(step, RefreshStep):
            await self._refresh(step.name)
        elif isinstance(step, CreateSessionStep):
            await self._call(step.name, lambda rid: self._exchange.create_session(rid=rid))

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
        # A page reload / "New chat": the old session is deleted (where the service can), and a
        # new conversation begins without its id.
        if self._chat.session is not None:
            await self._delete(name)
        self._new_conversation()

    async def _query(self, step: QueryStep) -> None:
        assert self._scenario is not None
        if step.session == "made-up":
            self._new_conversation(str(uuid.uuid4()))   # well-formed, never minted by the server
        elif step.session == "expired":
            self._new_conversation(await self._expired_id(step.name))
        if self._chat.session is None and self._exchange.requires_session:
            # The service names the session in the query's path: ask it for one first.
            await self._call(step.name, lambda rid: self._exchange.create_session(rid=rid))
        session = self._chat.session
        fields = self.persona.fields
        if uses_canary(step.query):
            if self._chat.canary is None:
                self._chat.canary = make_canary(self._rng)
            fields = {**fields, CANARY_PLACEHOLDER: self._chat.canary}

        def build(rid: str) -> Request | None:
            return self._exchange.recommend(step, fields, rid=rid, session_id=session,
                                            max_recommendations=self._settings.max_recommendations)

        if step.concurrent == 1:
            # The usual step: awaited in place, no task and gather per request.
            await self._call(step.name, build, expect=step.expect)
            return
        # A double submit (concurrent > 1): N copies at once on one session, each its own request id.
        await asyncio.gather(*(self._call(step.name, build, expect=step.expect) for _ in range(step.concurrent)))

    async def _expired_id(self, step: str) -> str:
        """An id this user obtained and then deleted; minted on the spot when there is none."""
        if not self._chat.deleted:
            self._new_conversation()
            await self._call(step, lambda rid: self._exchange.create_session(rid=rid))
            if self._chat.session is not None:
                await self._delete(step)
        return self._chat.deleted[-1] if self._chat.deleted else str(uuid.uuid4())

    async def _delete(self, step: str) -> None:
        session = self._chat.session
        assert session is not None
        await self._call(step, lambda rid: self._exchange.delete_session(session, rid=rid))

    # ---- one request as one operation -----------------------------------------------

    async def _call(self, step: str, build: Callable[[str], Request | None], *, expect: Expect = Expect()) -> None:
        assert self._scenario is not None
        self._requests += 1
        request = build(exchange.request_id(self._settings.run_tag, self.user, self._requests))
        if request is None:
            # The service has no such call (no delete route, say): the step is skipped, and what
            # it would exercise is reported as not exercised.
            self._requests -= 1
            return
        now = self._settings.now()
        open_start = self._next_start if self._settings.open_model else None
        base = exchange.op_base(
            request, index=self._sink.next_index(), user=self.user, conversation=self._chat.name,
            scenario=self._scenario.name, step=step, invoked_at=now if open_start is None else min(open_start, now),
            subject=self._subject, expect=expect)
        if self._chat.canary is not None:
            base["canary"] = self._chat.canary
        try:
            reply = await self._send(request)
        except TransportTimeout as exc:
            op = exchange.unanswered(base, error=f"timeout: {exc}")
        except TransportError as exc:
            op = exchange.unanswered(base, error=f"connection: {exc}")
        except asyncio.CancelledError:
            # The run was stopped: the request may have taken effect; say so, then stop.
            self._sink.complete(exchange.unanswered(base, error="cancelled: run stopped"))
            raise
        else:
            op = self._exchange.answered(base, reply=reply, completed_at=self._settings.now())
        self._chat.adopt(op)   # the UI carries on with the id the answer returned
        if self._settings.open_model:
            self._next_start = max(self._next_start or 0.0, op.completed_at or self._settings.now())
        self._failed = self._failed or op.status != "ok"
        if op.status == "ok" and expect.follow_up is not None:
            self._checked += 1          # a planned follow-up answered: coverage (loadtest.coverage)
        self._sink.complete(op)

    def _send(self, request: Request) -> Awaitable[Reply]:
        """The transport call for ``request``, as the exchange says."""
        return self._exchange.send(self._transport, request)


# The answer parser is shared with the Locust scenarios; re-exported for older imports.
parse_recommendation = exchange.parse_recommendation

__all__ = ["OpSink", "UserSettings", "VirtualUser", "parse_recommendation"]
