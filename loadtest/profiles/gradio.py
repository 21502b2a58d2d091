"""Gradio targets: a chat app's API endpoints, one Gradio session per conversation.

Terms:
- *tab*: one ``gradio_client.Client`` per virtual user, like one browser tab: its Gradio
  session (``session_hash``) is what the app keys its per-user state by (``gr.State``,
  ``gr.Request.session_hash``). A fresh Gradio session on the same client
  (``reset_session``) is what a new tab, or a reload, is in a browser.
- *call*: ``Client.submit(*inputs, api_name=...)``: the query's endpoint (``[gradio]``), and
  the actions' own where the profile names them (``[gradio.create_session]``,
  ``[gradio.read_history]``, ``[gradio.delete_session]``); an action without one is skipped.
  Its outputs (one value, or a list for several) are the answer the profile reads
  (``text = "@"`` for a chat reply). An app whose event raised answers ``500`` with the
  error (an answer, so a ``fail``); anything else that goes wrong is ``TransportError``
  (``unknown``).
- *envelope* (``[gradio] status``, ``body``): an app that hands back the raw answer behind
  each event (our chat page: ``{"status", "body"}`` as its last output, ``docs/ui.md``) is
  judged on that answer: ``status`` selects its HTTP-like status (a non-2xx one is a
  ``fail``), ``body`` the answer the ``[answer]`` selectors (or the contract's parsers) read.
  An action's endpoint may say otherwise (``[gradio.read_history] status``): an endpoint
  with one output gets it back bare, not in a list. Outputs without a status where one is
  promised are a malformed answer (``unknown``).
- *who holds the session id* (``[session] held_by``):
  - ``harness``: the app never sees an id of ours, so the harness makes one per
    conversation (a uuid4, ``minted_by = "client"``) and the tab opens a fresh Gradio
    session whenever a call carries an id other than the one its session serves;
  - ``tab``: the app's per-tab state holds the id its backend minted; the harness sends
    none, remembers which id the tab holds (from each answer that names one; none after a
    delete), and opens a fresh Gradio session when asked to carry another (a made-up or
    expired id): a browser can only open a new tab, whose question starts a new session.
    The id the user meant to carry is still recorded (``session_sent``).

The tab itself (building the client off the loop, submitting, timeouts) is
``loadtest.gradio_tab``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from loadtest.exchange import BadAnswer, Request, answered_with
from loadtest.gradio_tab import GradioAppError, GradioTab
from loadtest.history import Action, Op
from loadtest.profiles.answer import parsers, session_reader
from loadtest.profiles.model import GradioCallSpec, GradioSpec, Profile
from loadtest.profiles.selector import Selector, compile_selector
from loadtest.scenario import QueryStep
from loadtest.transport import Reply

GRADIO_METHOD = "GRADIO"     # Request.method of a Gradio call (statistics name it by api_name)


class GradioTransport:
    """One virtual user's tab on the Gradio app at ``url`` (see module doc)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._tab = GradioTab(url, timeout=timeout)
        # The session id the tab's current Gradio session serves: the conversation's own id
        # (held by the harness), or the backend's id the app's state holds (held by the tab).
        self.serves: str | None = None
        self._used = False                      # a client never called is a fresh tab already

    async def call(self, api_name: str, inputs: Sequence[Any], *, session: str | None) -> Reply:
        """``api_name`` with ``inputs``, in a Gradio session that serves ``session``: a fresh
        one when the current one serves another."""
        if session != self.serves:
            if self._used:
                await self._tab.reset()
            self.serves = session
        self._used = True
        try:
            outputs = await self._tab.submit(api_name, *inputs)
        except GradioAppError as exc:
            return Reply(500, {}, {"detail": str(exc)})
        return Reply(200, {}, list(outputs) if isinstance(outputs, tuple) else outputs)

    async def aclose(self) -> None:
        await self._tab.aclose()


def gradio_factory(url: str, *, timeout: float) -> Callable[[int], GradioTransport]:
    """A factory giving each virtual user its own tab (``GradioTransport``) on ``url``."""
    return lambda user: GradioTransport(url, timeout=timeout)


def _selector(expression: str | None) -> Selector | None:
    return None if expression is None else compile_selector(expression)


class _Endpoint:
    """One endpoint: its inputs' templates, and the envelope of its outputs."""

    def __init__(self, spec: GradioSpec | GradioCallSpec, *, envelope: GradioSpec) -> None:
        self.api_name = spec.api_name
        self._inputs = tuple(spec.inputs)
        self._status = _selector(spec.status if spec.status is not None else envelope.status)
        self._body = _selector(spec.body if spec.body is not None else envelope.body)

    def open(self, reply: Reply) -> tuple[int, Any]:
        """The status and the answer of a reply, through the envelope where there is one.
        Raises ``BadAnswer`` for outputs without the status the profile promises."""
        if reply.status != 200:          # the event raised: no outputs to open
            return reply.status, reply.body
        outputs = reply.body
        status = 200
        if self._status is not None:
            found = self._status.search(outputs)
            if type(found) is not int:
                raise BadAnswer(f"no status in the outputs ({self._status.expression} gave {found!r:.60})")
            status = found
        return status, outputs if self._body is None else self._body.search(outputs)

    def request(self, action: Action, values: Mapping[str, Any], *, session_sent: str | None,
                query: str | None = None) -> Request:
        inputs = [_fill(value, values) for value in self._inputs]
        return Request(action, GRADIO_METHOD, self.api_name, values["request_id"], session_sent,
                       {"inputs": inputs}, sent_query=query, route_name=self.api_name)


def _fill(value: Any, values: Mapping[str, Any]) -> Any:
    """One input: a value that is exactly one placeholder keeps the value's type."""
    if not isinstance(value, str) or "{" not in value:
        return value
    for name, found in values.items():
        if value == "{" + name + "}":
            return found
    return value.format_map(values)


class GradioExchange:
    """The exchange of a ``gradio`` profile (module doc); one per run, shared by its users (the
    user's ``Chat`` and tab hold their state)."""

    requires_session = False

    def __init__(self, profile: Profile) -> None:
        gradio = profile.gradio
        assert profile.kind == "gradio" and gradio is not None
        self.profile = profile
        self._query = _Endpoint(gradio, envelope=gradio)
        self._calls: dict[str, _Endpoint] = {name: _Endpoint(call, envelope=gradio)
                                             for name, call in gradio.calls().items()}
        self._parsers = parsers(profile)
        self._tab_holds = profile.tab_holds_session
        self._held_in = {action: session_reader(profile, action) for action in ("recommend", "create_session")}

    # ---- requests ----------------------------------------------------------------------

    def new_session_id(self) -> str | None:
        # A tab starts without an id (its backend makes one); else the conversation's own,
        # a uuid4 from the OS (not the seeded RNG: a re-run must not walk into old sessions).
        return None if self._tab_holds else str(uuid.uuid4())

    @staticmethod
    def _values(*, rid: str, session_id: str | None, query: str = "", limit: int = 10) -> dict[str, Any]:
        return {"query": query, "session_id": session_id or "", "request_id": rid, "max_recommendations": limit}

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request:
        query = step.query.format_map(fields)
        values = self._values(rid=rid, session_id=session_id, query=query,
                              limit=step.max_recommendations or max_recommendations)
        return self._query.request("recommend", values, session_sent=session_id, query=query)

    def create_session(self, *, rid: str) -> Request | None:
        endpoint = self._calls.get("create_session")
        return None if endpoint is None else endpoint.request(
            "create_session", self._values(rid=rid, session_id=None), session_sent=None)

    def read_history(self, session_id: str, *, rid: str) -> Request | None:
        endpoint = self._calls.get("read_history")
        return None if endpoint is None else endpoint.request(
            "read_history", self._values(rid=rid, session_id=session_id), session_sent=session_id)

    def delete_session(self, session_id: str, *, rid: str) -> Request | None:
        endpoint = self._calls.get("delete_session")
        return None if endpoint is None else endpoint.request(
            "delete_session", self._values(rid=rid, session_id=session_id), session_sent=session_id)

    def send(self, transport: GradioTransport, request: Request) -> Awaitable[Reply]:
        return self._send(transport, request)

    async def _send(self, transport: GradioTransport, request: Request) -> Reply:
        assert request.body is not None
        reply = await transport.call(request.path, request.body["inputs"], session=request.session_sent)
        if self._tab_holds:
            transport.serves = self._held_after(request.action, reply, held=transport.serves)
        return reply

    def _held_after(self, action: Action, reply: Reply, *, held: str | None) -> str | None:
        """The id the tab holds after ``reply`` to ``action`` (``held`` before it): the one a
        2xx answer names, none after a delete, else unchanged (the app's state is too)."""
        try:
            status, answer = self._endpoint(action).open(reply)
        except BadAnswer:
            return held
        if not 200 <= status < 300:
            return held
        if action == "delete_session":
            return None
        read = self._held_in.get(action)
        named = None if read is None else read(answer)
        return held if named is None else named

    # ---- answers -----------------------------------------------------------------------

    def _endpoint(self, action: Action) -> _Endpoint:
        return self._query if action == "recommend" else self._calls[action]

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        action: Action = base["action"]
        sent = base["session_sent"]
        try:
            status, answer = self._endpoint(action).open(reply)
        except BadAnswer as exc:
            # The app answered, so the call may well have taken effect: unknown, not fail.
            return Op(**base, status="unknown", completed_at=completed_at, http_status=reply.status,
                      error=f"malformed answer: {exc}"[:300])
        read = self._parsers[action]
        tab_holds = self._tab_holds

        def parse(body: Any) -> dict[str, Any]:
            fields = read(body)
            if action == "delete_session" or fields.get("session") is not None:
                return fields
            if tab_holds and action != "read_history":
                # The user could not carry the conversation on: as the native path, unknown.
                raise BadAnswer("the answer names no session")
            fields["session"] = sent     # the conversation's own id (or the history read asked for)
            return fields

        return answered_with(parse, base, status=status, body=answer, completed_at=completed_at)


__all__ = ["GRADIO_METHOD", "GradioExchange", "GradioTransport", "gradio_factory"]
