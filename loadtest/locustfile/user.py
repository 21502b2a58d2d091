"""The Locust virtual user: one person with one browser tab at a time, running the TOML scenarios.

Every ``ConversationUser`` is a ``FastHttpUser`` with its own client (own cookies, own
connections) and its own session ids. It runs the same scenarios and persona pool as
``beatdebate simulate``, step for step by the rules of ``loadtest.users.VirtualUser``, and
talks through the test's exchange (``ProcessRun.exchange``: the contract's native one, or a
target profile's): the exchange builds each request (or ``None`` for a call the service does
not have: the step is skipped), the user sends it with its client (``wire``), and the
exchange turns the answer into an ``Op``; the op goes to this process's ``ProcessRun``
(``messaging.current_run``), whose checker judges it.
"""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Callable

import gevent
from locust import FastHttpUser, constant, task

from loadtest import exchange
from loadtest.canary import CANARY_PLACEHOLDER, make_canary, uses_canary
from loadtest.exchange import Chat, Request
from loadtest.history import Expect, Op
from loadtest.locustfile import messaging
from loadtest.locustfile.wire import body_bytes, put_cookies, reply_of
from loadtest.scenario import CreateSessionStep, QueryStep, ReadHistoryStep, RefreshStep, Scenario, Step, ThinkStep

MAX_RECOMMENDATIONS = 10     # per query step that names none, as simulate's users ask

Build = Callable[[str], Request | None]     # request id -> the request, or None: no such call


class ConversationUser(FastHttpUser):
    """One person with one browser tab at a time: runs scenario iterations, one after another."""

    wait_time = constant(0)            # scenarios pace themselves with think steps
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.proc = messaging.current_run()
        self.exchange = self.proc.exchange
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
            self._new_conversation()
            for step in scenario.steps:
                self._step(scenario, subject, step)

    def _new_conversation(self, session: str | None = None) -> None:
        # A service whose ids the client makes gets a fresh one per conversation.
        self.chat.new_conversation(session if session is not None else self.exchange.new_session_id())

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
                self._call(scenario, subject, step.name, lambda rid: self.exchange.read_history(session, rid=rid))
        elif isinstance(step, RefreshStep):
            # A page reload / "New chat": the old session is deleted (where the service can), and a
            # new conversation begins without its id.
            if session is not None:
                self._call(scenario, subject, step.name, lambda rid: self.exchange.delete_session(session, rid=rid))
            self._new_conversation()
        elif isinstance(step, CreateSessionStep):
            self._call(scenario, subject, step.name, lambda rid: self.exchange.create_session(rid=rid))

    def _query(self, scenario: Scenario, subject: dict[str, str], step: QueryStep) -> None:
        chat = self.chat
        if step.session == "made-up":
            self._new_conversation(_made_up_id())   # well-formed, never minted by the server
        elif step.session == "expired":
            self._new_conversation(self._expired_id(scenario, subject, step.name))
        if chat.session is None and self.exchange.requires_session:
            # The service names the session in the query's path: ask it for one first.
            self._call(scenario, subject, step.name, lambda rid: self.exchange.create_session(rid=rid))
        session = chat.session
        fields = self.persona.fields
        if uses_canary(step.query):
            if chat.canary is None:
                chat.canary = make_canary(self.rng)
            fields = {**fields, CANARY_PLACEHOLDER: chat.canary}

        def build(rid: str) -> Request | None:
            return self.exchange.recommend(step, fields, rid=rid, session_id=session,
                                           max_recommendations=MAX_RECOMMENDATIONS)

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
            self._new_conversation()
            self._call(scenario, subject, step, lambda rid: self.exchange.create_session(rid=rid))
            session = chat.session
            if session is not None:
                self._call(scenario, subject, step, lambda rid: self.exchange.delete_session(session, rid=rid))
        return chat.deleted[-1] if chat.deleted else _made_up_id()

    def _call(self, scenario: Scenario, subject: dict[str, str], step: str, build: Build, *,
              expect: Expect = Expect()) -> None:
        """Send one request and record it as one op (the exchange makes the op)."""
        self.sent_requests += 1
        request = build(exchange.request_id(self.proc.tag, self.number, self.sent_requests))
        if request is None:
            # The service has no such call: the step is skipped, and what it would exercise is
            # reported as not exercised.
            self.sent_requests -= 1
            return
        base = exchange.op_base(request, index=self.proc.next_index(), user=self.number,
                                conversation=self.chat.name, scenario=scenario.name, step=step,
                                invoked_at=self.proc.now(), subject=subject, expect=expect)
        if self.chat.canary is not None:
            base["canary"] = self.chat.canary
        name = request.route + (" (follow-up)" if expect.follow_up else "")
        put_cookies(self.client.cookiejar, self.client.base_url or "", request.cookies)
        try:
            with self.client.request(request.method, request.path, name=name, data=body_bytes(request),
                                     headers=request.headers, catch_response=True) as response:
                completed = self.proc.now()
                if response.status_code == 0:
                    op = exchange.unanswered(base, error=_error_text(response.error))
                else:
                    reply = reply_of(response.status_code, (response.headers or {}).items(), response.content)
                    op = self.exchange.answered(base, reply=reply, completed_at=completed)
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


def _error_text(error: BaseException | None) -> str:
    if isinstance(error, (TimeoutError, socket.timeout, gevent.Timeout)):
        return f"timeout: {error}"
    return f"connection: {type(error).__name__}: {error}"


__all__ = ["ConversationUser"]
