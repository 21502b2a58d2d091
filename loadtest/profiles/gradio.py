"""Gradio targets: a chat app's API endpoint, one Gradio session per conversation.

Terms:
- *tab*: one ``gradio_client.Client`` per virtual user, like one browser tab: its Gradio
  session (``session_hash``) is what the app keys its per-user state by (``gr.State``,
  ``gr.Request.session_hash``). A new conversation is a new Gradio session on the same
  client (``reset_session``), as a reload is in a browser.
- *conversation id*: the app never sees an id of ours, so the harness makes one per
  conversation (a uuid4, ``minted_by = "client"``) and the transport opens a fresh Gradio
  session whenever a call carries an id other than the one its session was opened for.
- *call*: ``Client.submit(*inputs, api_name=...)``; its outputs (one value, or a list for
  several) are the answer the profile's selectors read (``text = "@"`` for a chat reply).
  An app whose event raised answers ``500`` with the error (an answer, so a ``fail``);
  anything else that goes wrong is ``TransportError`` (``unknown``).

The tab itself (building the client off the loop, submitting, timeouts) is
``loadtest.gradio_tab``, shared with our own chat page's transport.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from loadtest.exchange import Request, answered_with
from loadtest.gradio_tab import GradioAppError, GradioTab
from loadtest.history import Op
from loadtest.profiles.answer import AnswerReader
from loadtest.profiles.model import Profile
from loadtest.scenario import QueryStep
from loadtest.transport import Reply

GRADIO_METHOD = "GRADIO"     # Request.method of a Gradio call (statistics name it by api_name)


class GradioTransport:
    """One virtual user's tab on the Gradio app at ``url`` (see module doc)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._tab = GradioTab(url, timeout=timeout)
        self._opened_for: str | None = None     # the conversation id the current Gradio session serves

    async def call(self, api_name: str, inputs: Sequence[Any], *, conversation: str | None) -> Reply:
        """``api_name`` with ``inputs`` in the Gradio session of ``conversation``."""
        if conversation != self._opened_for:
            if self._opened_for is not None:
                await self._tab.reset()         # a new conversation: a fresh Gradio session
            self._opened_for = conversation
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


class GradioExchange:
    """The exchange of a ``gradio`` profile: only queries; no create, history or delete (a
    new chat is a new conversation id, hence a new Gradio session)."""

    requires_session = False

    def __init__(self, profile: Profile) -> None:
        assert profile.kind == "gradio" and profile.gradio is not None
        self.profile = profile
        self._api_name = profile.gradio.api_name
        self._inputs = profile.gradio.inputs
        self._answer = AnswerReader(profile.answer, deterministic=profile.deterministic)

    def new_session_id(self) -> str | None:
        return str(uuid.uuid4())

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request:
        query = step.query.format_map(fields)
        values = {"query": query, "session_id": session_id or "", "request_id": rid,
                  "max_recommendations": step.max_recommendations or max_recommendations}
        inputs = [self._fill(value, values) for value in self._inputs]
        return Request("recommend", GRADIO_METHOD, self._api_name, rid, session_id, {"inputs": inputs},
                       sent_query=query, route_name=self._api_name)

    @staticmethod
    def _fill(value: Any, values: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or "{" not in value:
            return value
        for name, found in values.items():
            if value == "{" + name + "}":
                return found
        return value.format_map(values)

    def create_session(self, *, rid: str) -> None:
        return None

    def read_history(self, session_id: str, *, rid: str) -> None:
        return None

    def delete_session(self, session_id: str, *, rid: str) -> None:
        return None

    def send(self, transport: GradioTransport, request: Request) -> Awaitable[Reply]:
        assert request.body is not None
        return transport.call(request.path, request.body["inputs"], conversation=request.session_sent)

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        sent = base["session_sent"]

        def parse(outputs: Any) -> dict[str, Any]:
            fields = self._answer.read(outputs)
            fields["session"] = sent        # the conversation's own id: the app names none
            return fields

        return answered_with(parse, base, status=reply.status, body=reply.body, completed_at=completed_at)


__all__ = ["GRADIO_METHOD", "GradioExchange", "GradioTransport", "gradio_factory"]
