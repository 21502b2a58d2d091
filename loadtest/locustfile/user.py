"""The Locust virtual user: one person with one browser tab at a time, running the TOML scenarios.

Every ``ConversationUser`` is a ``FastHttpUser`` with its own client (own cookies, own
connections) and its own session ids. It runs the same scenarios and persona pool as
``beatdebate simulate``, step for step by the rules of ``loadtest.users.VirtualUser``, and
turns each exchange into an ``Op`` with ``loadtest.exchange``; the op goes to this process's
``ProcessRun`` (``messaging.current_run``), whose checker judges it.
"""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Callable
from typing import Any

import gevent
import orjson
from locust import FastHttpUser, constant, task

from loadtest import exchange
from loadtest.exchange import Chat, Request
from loadtest.history import Expect, Op
from loadtest.locustfile import messaging
from loadtest.scenario import CreateSessionStep, QueryStep, ReadHistoryStep, RefreshStep, Scenario, Step, ThinkStep


class ConversationUser(FastHttpUser):
    """One person with one browser tab at a time: runs scenario iterations, one after another."""

    wait_time = constant(0)            # scenarios pace themselves with think steps
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.proc = messaging.current_run()
        self.number = self.proc.next_user()
        self.persona = self.proc.assign(self.number)
        self.rng = random.Random(f"{self.proc.seed}-{self.number}")
        self.chat = Chat(self.number)
        self.sent_requests = 0

    @task
    def iteration(self) -> None:
        scenario = self.rng.choices(self.proc.scenarios, weights=self.proc.weights)[0]
        subject = self.persona.subject(scenario.needs)
        for _ in range(scenario.conversations):
            self.chat.new_conversation()
            for step in scenario.steps:
                self._step(scenario, subject, step)

    def _step(self, scenario: Scenario, subject: dict[str, str], step: Step) -> None:
        # The same rules as loadtest.users.VirtualUser, step for step.
        session = self.chat.session
        if isinstance(step, QueryStep):
            self._query(scenario, subject, step)
        elif isinstance(step, ThinkStep):
            seconds = self.rng.uniform(step.low, step.high) * self.proc.think_scale
            if seconds > 0:
                gevent.sleep(seconds)
        elif isinstance(step, ReadHistoryStep):
            if session is not None:
                self._call(scenario, subject, step.name,
                           lambda rid: exchange.read_history_request(session, rid=rid))
        elif isinstance(step, RefreshStep):
            # A page reload / "New chat": the old session is deleted, a new conversation begins.
            if session is not None:
                self._call(scenario, subject, step.name,
                           lambda rid: exchange.delete_session_request(session, rid=rid))
            self.chat.new_conversation()
        elif isinstance(step, CreateSessionStep):
            self._call(scenario, subject, step.name, lambda rid: exchange.create_session_request(rid=rid))

    def _query(self, scenario: Scenario, subject: dict[str, str], step: QueryStep) -> None:
        chat = self.chat
        if step.session == "made-up":
            chat.new_conversation(_made_up_id())   # well-formed, never minted by the server
        elif step.session == "expired":
            expired = self._expired_id(scenario, subject, step.name)
            chat.new_conversation(expired)
        session = chat.session

        def build(rid: str) -> Request:
            return exchange.recommend_request(step, self.persona.fields, rid=rid, session_id=session)

        if step.concurrent == 1:
            self._call(scenario, subject, step.name, build, expect=step.expect)
            return
        # A double submit: N copies at once on one session, each its own request id.
        copies = [gevent.spawn(self._call, scenario, subject, step.name, build, expect=step.expect)
                  for _ in range(step.concurrent)]
        try:
            gevent.joinall(copies)
        finally:
            gevent.killall(copies)

    def _expired_id(self, scenario: Scenario, subject: dict[str, str], step: str) -> str:
        """An id this user obtained and then deleted; minted on the spot when there is none."""
        chat = self.chat
        if not chat.deleted:
            chat.new_conversation()
            self._call(scenario, subject, step, lambda rid: exchange.create_session_request(rid=rid))
            session = chat.session
            if session is not None:
                self._call(scenario, subject, step,
                           lambda rid: exchange.delete_session_request(session, rid=rid))
        return chat.deleted[-1] if chat.deleted else _made_up_id()

    def _call(self, scenario: Scenario, subject: dict[str, str], step: str,
              build: Callable[[str], Request], *, expect: Expect = Expect()) -> None:
        """Send one request and record it as one op (``loadtest.exchange`` makes the op)."""
        self.sent_requests += 1
        request = build(exchange.request_id(self.proc.tag, self.number, self.sent_requests))
        base = exchange.op_base(request, index=self.proc.next_index(), user=self.number,
                                conversation=self.chat.name, scenario=scenario.name, step=step,
                                invoked_at=self.proc.now(), subject=subject, expect=expect)
        name = request.route + (" (follow-up)" if expect.follow_up else "")
        data = None if request.body is None else orjson.dumps(request.body)
        try:
            with self.client.request(request.method, request.path, name=name, data=data,
                                     headers=request.headers, catch_response=True) as response:
                completed = self.proc.now()
                if response.status_code == 0:
                    op = exchange.unanswered(base, error=_error_text(response.error))
                else:
                    op = exchange.answered(base, status=response.status_code,
                                           body=_json(response.content), completed_at=completed)
                if op.status == "ok":
                    response.success()
                else:
                    response.failure(op.error or op.status)
        except gevent.GreenletExit:
            # The run was stopped mid-request: it may have taken effect; say so, then stop.
            self._record(exchange.unanswered(base, error="cancelled: run stopped"))
            raise
        self.chat.adopt(op)
        self._record(op)

    def _record(self, op: Op) -> None:
        if self.proc.finished:
            return                      # after the verdict: not judged, so not recorded
        messaging.emit(self.environment, self.proc.complete(op))


def _made_up_id() -> str:
    """A well-formed UUID that a client made up (the contract's "made up by the client")."""
    return str(uuid.uuid4())


def _json(content: bytes | None) -> Any:
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _error_text(error: BaseException | None) -> str:
    if isinstance(error, (TimeoutError, socket.timeout, gevent.Timeout)):
        return f"timeout: {error}"
    return f"connection: {type(error).__name__}: {error}"


__all__ = ["ConversationUser"]
